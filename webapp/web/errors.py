"""Site-wide error answers: under /api/ every error is JSON {error: {code, message}}, never an HTML page,
never a 500 for bad input; an unavailable database is a 503 (webapp/core/dbhealth.py)."""

from flask import abort, jsonify, request
from werkzeug.exceptions import HTTPException

from ..core import dbhealth
from ..core.errors import MAX_ID, DomainError
from ..core.extensions import db
from ..core.validation import BAD_TEXT_MESSAGE, request_has_bad_text


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
            return jsonify({"error": {"code": code, "message": exc.description}}), exc.code
        return exc

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
        return "Interner Fehler / internal error", 500
