"""Headers on every answer (CSP with only our own origin, no sniffing, no framing, caching of API answers)
and the language: German unless the visitor chose English (?lang=en, remembered in a cookie)."""

import re

from flask import current_app, has_request_context, request
from flask_babel import get_locale

from ..core.i18n import format_locale

PUBLIC_API = re.compile(r"^/api/v1/events/[^/]+/(agenda|board|stats)$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)


def select_locale():
    """German unless the visitor chose English (?lang=en is remembered in a cookie by `install`); outside a
    request (the CLI, background tasks) German."""
    if not has_request_context():
        return "de"
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen not in current_app.config["LANGUAGES"]:
        chosen = "de"
    return format_locale(chosen)


def page_language():
    """ "de" or "en" (the language, not the format locale): for lang attributes and stored preferences."""
    return get_locale().language


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
        lang = page_language()
        return {"lang": lang, "other_lang": "en" if lang == "de" else "de"}
