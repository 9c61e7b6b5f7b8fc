"""What every area's JSON API shares: reading a JSON body safely and answering errors as JSON."""
from flask import abort, jsonify, request
from werkzeug.exceptions import HTTPException

from .errors import MAX_ID, DomainError, unstorable

API_PREFIX = "/api/v1"
BAD_TEXT_MESSAGE = "text must not contain NUL characters (\\u0000) or lone surrogates (\\ud800…\\udfff)"


def has_bad_text(value):
    """True if any text in a parsed JSON value (keys included) cannot be stored (errors.unstorable: a NUL
    character or a lone surrogate): refused as bad input before any query sees it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_body():
    """The request's JSON object, or DomainError 400/415 with a message people can act on."""
    if not request.is_json:
        raise DomainError("unsupported_media_type", "send Content-Type: application/json", 415)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[…": nested deeper than the JSON parser goes (silent= covers ValueError only)
        raise DomainError("invalid_json", "the body is not valid JSON (nested too deeply)") from None
    if data is None:
        raise DomainError("invalid_json", "the body is not valid JSON")
    if not isinstance(data, dict):
        raise DomainError("invalid", "expected a JSON object")
    if has_bad_text(data):
        raise DomainError("invalid", BAD_TEXT_MESSAGE)
    return data


def _request_has_bad_text():
    if unstorable(request.path):
        return True
    if any(unstorable(k) or unstorable(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return any(unstorable(k) or unstorable(v) for k, v in request.form.items(multi=True))
    return False


def install(app):
    """Under /api/ every error is JSON {error: {code, message}}; never an HTML page, never a 500 for bad
    input."""

    @app.before_request
    def refuse_unusable_input():
        """A NUL character or a lone surrogate in the path, the query string or a form field is bad input
        everywhere (and would make the first query that uses it fail): 400 before any handler runs."""
        if _request_has_bad_text():
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
        from . import dbhealth
        from .extensions import db

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
