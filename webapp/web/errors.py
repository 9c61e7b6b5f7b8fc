"""Site-wide error answers: under /api/ every error is JSON {error: {code, message}}, never an HTML page,
never a 500 for bad input; an unavailable database is a 503 (webapp/core/dbhealth.py)."""

from flask import abort, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..core import dbhealth
from ..core.errors import MAX_ID, DomainError
from ..core.extensions import db
from ..core.validation import BAD_TEXT_MESSAGE, request_has_bad_text

# What a page says for an HTTP error, in the reader's language (Werkzeug's own texts are English):
# status -> (heading, what happened and what to do).
PAGE_TEXTS = {
    400: (_l("Ungültige Anfrage"), _l("Die Anfrage enthielt Angaben, die nicht verarbeitet werden können.")),
    401: (_l("Anmeldung nötig"), _l("Bitte melden Sie sich an, um diese Seite zu sehen.")),
    403: (
        _l("Kein Zugriff"),
        _l(
            "Diese Seite ist nur für das Team dieser Veranstaltung. Bitte melden Sie sich mit einem passenden Konto an."
        ),
    ),
    404: (
        _l("Seite nicht gefunden"),
        _l(
            "Diese Adresse gibt es nicht. Bitte prüfen Sie den Link – einen Ticket-Link öffnen Sie am besten direkt aus "
            "der E-Mail."
        ),
    ),
    405: (_l("Nicht möglich"), _l("Diese Seite kann so nicht aufgerufen werden.")),
    410: (_l("Nicht mehr verfügbar"), _l("Diese Seite gibt es nicht mehr.")),
    413: (_l("Zu groß"), _l("Die gesendete Datei oder das Formular ist zu groß.")),
    429: (_l("Zu viele Anfragen"), _l("Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal.")),
    500: (
        _l("Ein Fehler ist aufgetreten"),
        _l("Das hat leider nicht geklappt. Bitte versuchen Sie es gleich noch einmal; nichts wurde halb gespeichert."),
    ),
}


CSRF_HINT = _l(
    "Das Formular war zu lange geöffnet oder wurde schon abgeschickt. Bitte laden Sie die Seite neu und versuchen "
    "Sie es noch einmal."
)


def _texts(exc):
    return PAGE_TEXTS.get(exc.code, PAGE_TEXTS[500 if (exc.code or 500) >= 500 else 400])


def _own_description(exc):
    if isinstance(exc, CSRFError):  # Flask-WTF's reason is English developer text ("The CSRF token is missing.")
        return str(CSRF_HINT)
    return exc.description if exc.description != type(exc).description else None


def error_page(exc):
    """An HTML page for an HTTP error in the reader's language; Werkzeug's headers (Retry-After, Allow) stay. A
    description our own code gave (abort(404, _("…"))) is shown as the hint; Werkzeug's English default is not."""
    heading, text = _texts(exc)
    own = _own_description(exc)
    response = exc.get_response()
    response.set_data(render_template("error.html", heading=heading, text=text, hint=own, status=exc.code))
    response.content_type = "text/html; charset=utf-8"
    return response


def install(app):
    """Under /api/ every error is JSON {error: {code, message}}; never an HTML page, never a 500 for bad
    input."""

    @app.before_request
    def refuse_unusable_input():
        """A NUL character or a lone surrogate in the path, the query string or a form field is bad input
        everywhere (and would make the first query that uses it fail): 400 before any handler runs."""
        if request_has_bad_text():
            if request.path.startswith("/api/"):
                raise DomainError("invalid", BAD_TEXT_MESSAGE)
            abort(400)
        # An <int:…> in the URL beyond the databases' 64-bit ids names no row (and SQLite cannot even take
        # it as a parameter): 404 before any handler looks it up.
        if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in (request.view_args or {}).values()):
            abort(404)

    @app.errorhandler(DomainError)
    def domain_error(exc):
        return jsonify(exc.as_json()), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            message = _own_description(exc) or str(_texts(exc)[1])
            return jsonify({"error": {"code": code, "message": message}}), exc.code
        if exc.code is None or exc.code < 400:  # a RequestRedirect and the like: Werkzeug's own answer
            return exc
        return error_page(exc)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if dbhealth.is_unavailable(exc):  # the database refuses service: 503 + Retry-After, one log line
            return dbhealth.unavailable_response(exc)
        app.logger.exception("unhandled error")
        try:
            db.session.rollback()
        except Exception:  # a rollback that fails too must not turn this answer into another traceback
            db.session.invalidate()
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": "server_error", "message": "internal error"}}), 500
        try:
            return error_page(InternalServerError())
        except Exception:  # the page itself cannot be made (e.g. templates unreadable): plain text
            return "Interner Fehler / internal error", 500
