"""Headers on every answer (CSP with only our own origin, no sniffing, no framing, caching of API answers)
and the language: German unless the visitor chose English (?lang=en, remembered in a cookie)."""

import re

from flask import request
from flask_babel import get_locale

PUBLIC_API = re.compile(r"^/api/v1/events/[^/]+/(agenda|board|stats)$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)


def select_locale():
    """German unless the visitor chose English (?lang=en is remembered in a cookie by `install`)."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return chosen if chosen in ("de", "en") else "de"


def install(app):
    @app.after_request
    def headers(response):
        # connect-src must name ws:/wss: of our own host: 'self' does not cover websockets in every browser.
        host = request.host
        response.headers.setdefault("Content-Security-Policy", CSP.replace("ws: wss:", f"ws://{host} wss://{host}"))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)")
        if request.path.startswith("/api/"):
            # Public agenda/board/stats may be revalidated from caches; anything else (staff answers,
            # a delegate's own data) is never stored anywhere.
            public = request.method == "GET" and PUBLIC_API.match(request.path)
            response.headers.setdefault("Cache-Control", "no-cache" if public else "no-store")
        if request.path.startswith("/t/"):
            # A ticket token is the guest's key: no shared cache or back-forward copy keeps the page, and a
            # link followed from it does not carry the token in the Referer header.
            response.headers["Cache-Control"] = "private, no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers.pop("Expires", None)
            response.headers.pop("ETag", None)
        if request.args.get("lang") in app.config["LANGUAGES"]:
            response.set_cookie(
                "lang",
                request.args["lang"],
                max_age=365 * 86400,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
            )
        return response

    @app.context_processor
    def language():
        return {"lang": str(get_locale()), "other_lang": "en" if str(get_locale()) == "de" else "de"}
