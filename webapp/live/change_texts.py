"""The change log in the reader's language. Each change stores its typed facts (`Change.details`, e.g.
{"title": "Keynote", "from": "15:35", "to": "15:45"}) beside the German `summary` that the live `change`
message carries. The areas register, per kind (or per prefix such as "board."), how their facts read as a
sentence (render(details) -> str, in the current locale) and a short label for the kind; the staff pages
show those. A row from before the facts were stored, or of a kind nobody registered, shows its summary.

It knows no area: the renderers live in each area's change_texts.py and are registered by its init_app."""

from datetime import datetime

from babel.dates import format_datetime, format_skeleton
from flask import current_app
from flask_babel import get_locale

_texts = {}  # kind or prefix -> render(details) -> str
_labels = {}  # kind or prefix -> label (a lazy string)
_actors = {}  # an actor that is no person ("Datenschutz") -> label (a lazy string)


def register_change_text(kind_or_prefix, render, label=None):
    """How changes of this kind read: render(details) -> str in the current locale, and their label for
    the log's "Art" column. A key ending in "." (e.g. "board.") covers every kind starting with it; an
    exact kind wins over a prefix, a longer prefix over a shorter one."""
    if render is not None:
        _texts[kind_or_prefix] = render
    if label is not None:
        _labels[kind_or_prefix] = label


def _lookup(table, kind):
    if kind in table:
        return table[kind]
    prefixes = [key for key in table if key.endswith(".") and kind.startswith(key)]
    return table[max(prefixes, key=len)] if prefixes else None


def change_text(change):
    """The change as a sentence in the reader's language; its stored summary when it has no facts (older
    rows) or nobody registered its kind."""
    render = _lookup(_texts, change.kind)
    if render is None or not isinstance(change.details, dict):
        return change.summary
    try:
        return str(render(change.details))
    except (KeyError, TypeError, ValueError, AttributeError):  # facts from an older shape of the kind
        current_app.logger.warning("change %s (%s): details not readable", change.id, change.kind, exc_info=True)
        return change.summary


def change_kind_label(kind):
    """The kind as a word for people ("Verschoben", "Neuer Raum"); the kind itself if none is registered."""
    label = _lookup(_labels, kind or "")
    return str(label) if label is not None else kind


def register_change_actor(actor, label):
    """A part of the app that makes changes itself under a fixed name (stored in German, as summaries):
    how the log's "Von" column names it in the reader's language."""
    _actors[actor] = label


def change_actor(change):
    """Who made the change: a staff member's name as stored, a part of the app in the reader's language."""
    label = _actors.get(change.actor)
    return str(label) if label is not None else change.actor


def change_time(change, tz):
    """When the change was made, in the event's zone and the page's locale ("26.10.2018, 15:35:02";
    English: "26 Oct 2018, 15:35:02")."""
    return format_datetime(change.created_at, "medium", tzinfo=tz, locale=get_locale())


# ---- helpers for the renderers ---------------------------------------------------------------------------


def local_day(iso):
    """A day of a stored local ISO time ("2018-10-26T15:35:00+02:00") as the reader writes it, short:
    "26. Okt." / "26 Oct"."""
    return format_skeleton("MMMd", datetime.fromisoformat(iso), locale=get_locale())


def clock(iso):
    """The wall-clock time of a stored local ISO time, "15:35" (24 hours in both languages)."""
    return datetime.fromisoformat(iso).strftime("%H:%M")


def install(app):
    """The log's helpers in every template (the staff pages show changes)."""
    app.add_template_global(change_text)
    app.add_template_global(change_kind_label)
    app.add_template_global(change_actor)
    app.add_template_global(change_time)
