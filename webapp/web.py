"""Site-wide web behaviour: security headers, the language switch, the front page, the service worker."""
import re

from flask import Blueprint, current_app, redirect, request, send_from_directory, url_for
from sqlalchemy import select

from .extensions import db

bp = Blueprint("web", __name__)
PUBLIC_API = re.compile(r"^/api/v1/events/[^/]+/(agenda|board|stats)$")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'")


@bp.get("/")
def index():
    from .agenda.models import Event

    event = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars().first()
    if event is None:
        return redirect(url_for("staff.index"))
    return redirect(url_for("agenda_pages.agenda", slug=event.slug))


@bp.get("/sw.js")
def service_worker():
    """Served from the root so its scope covers every event page."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/healthz")
def healthz():
    """200 {"ok": true, "database": "ok"} if the database answers and takes writes (a probe that writes
    nothing, webapp/dbhealth.py); 503 {"ok": false, "database": "unavailable"} with Retry-After otherwise."""
    from . import dbhealth

    return dbhealth.health()


def install(app):
    @app.after_request
    def headers(response):
        # connect-src must name ws:/wss: of our own host: 'self' does not cover websockets in every browser.
        host = request.host
        response.headers.setdefault(
            "Content-Security-Policy", CSP.replace("ws: wss:", f"ws://{host} wss://{host}"))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)")
        if request.path.startswith("/api/"):
            # Public agenda/board/stats may be revalidated from caches; anything else (staff answers,
            # a delegate's own data) is never stored anywhere.
            public = request.method == "GET" and PUBLIC_API.match(request.path)
            response.headers.setdefault("Cache-Control", "no-cache" if public else "no-store")
        if request.args.get("lang") in app.config["LANGUAGES"]:
            response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax",
                                secure=app.config["SESSION_COOKIE_SECURE"])
        return response

    from .labels import label

    # {{ s.kind | label('kind') }}: the translated label of a stored code (webapp/labels.py).
    app.add_template_filter(label, "label")

    @app.context_processor
    def language():
        from flask_babel import get_locale

        return {"lang": str(get_locale()), "other_lang": "en" if str(get_locale()) == "de" else "de"}
