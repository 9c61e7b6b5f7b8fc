"""Input checks every area shares: a JSON body read safely, the checks of single fields (each a
DomainError 400 naming the field), and "one of this event's objects by id"."""

from datetime import datetime, timezone

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import DomainError, not_found, unstorable, valid_id
from .extensions import db

API_PREFIX = "/api/v1"
BAD_TEXT_MESSAGE = _l(
    "Der Text enthält Zeichen, die nicht gespeichert werden können (Nullzeichen oder einzelne Surrogate)."
)

# What a person calls a field, for messages that name it ("„Beginn“ muss …"). Areas add theirs in init_app
# (register_field_labels); a key nobody named stays the key itself, which the untranslated-text test catches.
_FIELD_LABELS = {}


def register_field_labels(labels):
    """labels: {field key: lazy_gettext text}; later registrations of the same key win."""
    _FIELD_LABELS.update(labels)


def field_label(key):
    return str(_FIELD_LABELS.get(key, key))


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
        raise DomainError("unsupported_media_type", _("Bitte mit Content-Type: application/json senden."), 415)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[…": nested deeper than the JSON parser goes (silent= covers ValueError only)
        raise DomainError("invalid_json", _("Der Inhalt ist kein gültiges JSON (zu tief verschachtelt).")) from None
    if data is None:
        raise DomainError("invalid_json", _("Der Inhalt ist kein gültiges JSON."))
    if not isinstance(data, dict):
        raise DomainError("invalid", _("Erwartet wird ein JSON-Objekt."))
    if has_bad_text(data):
        raise DomainError("invalid", str(BAD_TEXT_MESSAGE))
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
        raise DomainError("invalid", _("Erwartet wird ein JSON-Objekt."))
    return data


def refuse_unknown(data, allowed):
    """Unknown keys are refused, so that a typo does not pass silently."""
    unknown = set(expect_object(data)) - set(allowed)
    if unknown:
        raise DomainError(
            "invalid", _("Unbekannte Felder: %(fields)s", fields=", ".join(sorted(map(str, unknown))[:10]))
        )


def require(data, keys):
    missing = [k for k in keys if k not in data]
    if missing:
        raise DomainError(
            "invalid", _("Es fehlen Angaben: %(fields)s", fields=", ".join(map(field_label, missing))), field=missing[0]
        )


def whole_number(data, key, low, high):
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError("invalid", _("„%(field)s“ muss eine ganze Zahl sein.", field=field_label(key)), field=key)
    if not low <= value <= high:
        raise DomainError(
            "invalid",
            _("„%(field)s“ muss zwischen %(low)d und %(high)d liegen.", field=field_label(key), low=low, high=high),
            field=key,
        )
    return value


def text(data, key, max_len, allow_empty=False, squash_spaces=False):
    """A text field, stripped (with `squash_spaces`, inner runs of whitespace as one space)."""
    value = data[key]
    if not isinstance(value, str):
        raise DomainError("invalid", _("„%(field)s“ muss ein Text sein.", field=field_label(key)), field=key)
    if unstorable(value):  # NUL or a lone surrogate: for socket events and forms (json_body refuses these earlier)
        raise DomainError("invalid", f"{field_label(key)}: {BAD_TEXT_MESSAGE}", field=key)
    value = " ".join(value.split()) if squash_spaces else value.strip()
    if not value and not allow_empty:
        raise DomainError("invalid", _("Bitte „%(field)s“ ausfüllen.", field=field_label(key)), field=key)
    if len(value) > max_len:
        raise DomainError(
            "invalid",
            _("„%(field)s“ darf höchstens %(max)d Zeichen lang sein.", field=field_label(key), max=max_len),
            field=key,
        )
    return value


def choice(data, key, choices, labels=None):
    """One of the codes `choices`: refused with what a person reads (`labels`: code -> label, else the codes),
    the codes for scripts in `choices`."""
    value = data[key]
    if value not in choices:
        raise DomainError(
            "invalid",
            _(
                "„%(field)s“ muss einer dieser Werte sein: %(choices)s",
                field=field_label(key),
                choices=", ".join(str(labels[c]) if labels else c for c in choices),
            ),
            field=key,
            choices=list(choices),
        )
    return value


def boolean(data, key):
    value = data[key]
    if not isinstance(value, bool):
        raise DomainError("invalid", _("„%(field)s“ muss true oder false sein.", field=field_label(key)), field=key)
    return value


def _not_a_time(key):
    return DomainError(
        "invalid",
        _("„%(field)s“ muss eine Zeit nach ISO 8601 mit Zeitzone sein.", field=field_label(key)),
        field=key,
    )


def aware_time(data, key):
    """An ISO 8601 time with a UTC offset, as UTC."""
    value = data[key]
    if not isinstance(value, str) or len(value) > 40:
        raise _not_a_time(key)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _not_a_time(key) from None
    if parsed.tzinfo is None:
        raise DomainError(
            "invalid",
            _("„%(field)s“ braucht eine Zeitzone, z. B. 2018-10-26T14:00:00+02:00.", field=field_label(key)),
            field=key,
        )
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 beyond UTC
        raise _not_a_time(key) from None


# ---- objects of an event --------------------------------------------------------------------------------


def of_event(model, event, object_id, message, options=None):
    """The `model` row with this id if it belongs to `event`; else DomainError 404 `not_found` with
    `message`, a sentence for people (ids of another event, made-up ids and ids beyond the databases' range
    alike)."""
    row = db.session.get(model, object_id, options=options) if valid_id(object_id) else None
    if row is None or row.event_id != event.id:
        raise not_found(message)
    return row
