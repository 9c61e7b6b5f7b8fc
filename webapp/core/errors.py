"""One error type for domain functions; routes and socket handlers map it to 4xx JSON or a form error."""


class DomainError(Exception):
    """A refused request: `code` is stable for scripts, `message` is for people, `status` the HTTP status."""

    def __init__(self, code, message, status=400, **details):
        message = str(message)  # a lazy_gettext text becomes the reader's language now
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details

    def as_json(self):
        """{error: {code, message, …details}}: details tell a client what it needs to act (e.g. the newer
        answers it would have overwritten)."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


def not_found(message):
    """404 `not_found`; `message` is a sentence for people in their language ("Diesen Gast gibt es nicht.")."""
    return DomainError("not_found", str(message), 404)


def unstorable(text):
    """True if no database can store this text as it is: a NUL character (PostgreSQL refuses it, even in a
    comparison) or a lone surrogate such as JSON's "\\ud800" (not UTF-8). Such input is refused as invalid."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


MAX_ID = 2**63 - 1  # the largest id a database column holds; a bigger number names no row


def valid_id(value):
    """A whole number that can be an id (not a bool, within the databases' 64-bit range)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
