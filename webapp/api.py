"""What every area's JSON API shares: reading a JSON body safely and answering errors as JSON."""
from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from .errors import DomainError

API_PREFIX = "/api/v1"


def json_body():
    """The request's JSON object, or DomainError 400/415 with a message people can act on."""
    if not request.is_json:
        raise DomainError("unsupported_media_type", "send Content-Type: application/json", 415)
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("invalid_json", "the body is not valid JSON")
    if not isinstance(data, dict):
        raise DomainError("invalid", "expected a JSON object")
    return data


def install(app):
    """Under /api/ every error is JSON {error: {code, message}}; never an HTML page, never a 500 for bad
    input."""

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
        app.logger.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": "server_error", "message": "internal error"}}), 500
        return "Interner Fehler / internal error", 500
