"""One error type for domain functions; routes and socket handlers map it to 4xx JSON or a form error."""


class DomainError(Exception):
    """A refused request: `code` is stable for scripts, `message` is for people, `status` the HTTP status."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def as_json(self):
        return {"error": {"code": self.code, "message": self.message}}


def not_found(what):
    return DomainError("not_found", f"{what} not found", 404)
