"""Input checks every area shares: a JSON body read safely, the checks of single fields (each a
DomainError 400 naming the field), and "one of this event's objects by id"."""

from datetime import datetime, timezone

from flask import request

from .errors import DomainError, not_found, unstorable, valid_id
from .extensions import db

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


def request_has_bad_text():
    if unstorable(request.path):
        return True
    if any(unstorable(k) or unstorable(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return any(unstorable(k) or unstorable(v) for k, v in request.form.items(multi=True))
    return False


# ---- fields ------------------------------------------------------------------------------------------------


def expect_object(data):
    if not isinstance(data, dict):
        raise DomainError("invalid", "expected a JSON object")
    return data


def refuse_unknown(data, allowed):
    """Unknown keys are refused, so that a typo does not pass silently."""
    unknown = set(expect_object(data)) - set(allowed)
    if unknown:
        raise DomainError("invalid", "unknown fields: " + ", ".join(sorted(map(str, unknown))[:10]))


def require(data, keys):
    missing = [k for k in keys if k not in data]
    if missing:
        raise DomainError("invalid", "missing fields: " + ", ".join(missing))


def whole_number(data, key, low, high):
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError("invalid", f"{key} must be a whole number")
    if not low <= value <= high:
        raise DomainError("invalid", f"{key} must be between {low} and {high}")
    return value


def text(data, key, max_len, allow_empty=False, squash_spaces=False):
    """A text field, stripped (with `squash_spaces`, inner runs of whitespace as one space)."""
    value = data[key]
    if not isinstance(value, str):
        raise DomainError("invalid", f"{key} must be text")
    if unstorable(value):  # NUL or a lone surrogate: for socket events and forms (json_body refuses these earlier)
        raise DomainError("invalid", f"{key} must not contain NUL characters or lone surrogates")
    value = " ".join(value.split()) if squash_spaces else value.strip()
    if not value and not allow_empty:
        raise DomainError("invalid", f"{key} must not be empty")
    if len(value) > max_len:
        raise DomainError("invalid", f"{key} is longer than {max_len} characters")
    return value


def choice(data, key, choices):
    value = data[key]
    if value not in choices:
        raise DomainError("invalid", f"{key} must be one of: {', '.join(choices)}")
    return value


def boolean(data, key):
    value = data[key]
    if not isinstance(value, bool):
        raise DomainError("invalid", f"{key} must be true or false")
    return value


def aware_time(data, key):
    """An ISO 8601 time with a UTC offset, as UTC."""
    value = data[key]
    if not isinstance(value, str) or len(value) > 40:
        raise DomainError("invalid", f"{key} must be an ISO 8601 time with offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError("invalid", f"{key} must be an ISO 8601 time with offset") from None
    if parsed.tzinfo is None:
        raise DomainError("invalid", f"{key} needs a UTC offset, e.g. 2018-10-26T14:00:00+02:00")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 beyond UTC
        raise DomainError("invalid", f"{key} must be an ISO 8601 time with offset") from None


# ---- objects of an event --------------------------------------------------------------------------------


def of_event(model, event, object_id, what, options=None):
    """The `model` row with this id if it belongs to `event`; else DomainError 404 `not_found` (ids of
    another event, made-up ids and ids beyond the databases' range alike)."""
    row = db.session.get(model, object_id, options=options) if valid_id(object_id) else None
    if row is None or row.event_id != event.id:
        raise not_found(what)
    return row
