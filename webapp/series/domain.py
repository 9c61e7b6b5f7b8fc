"""Setting up meetings: events created, edited, archived and prepared from an earlier one; municipalities
added from the gazetteer. Each change is one transaction; what phones show changes with one revision."""

from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..agenda.domain import copy_programme
from ..checkin.guests import adopt_guests, move_up
from ..core import gazetteer
from ..core.errors import DomainError
from ..core.events import event_json, local_iso
from ..core.extensions import db
from ..core.models import Event, Municipality
from ..core.text import compact_key, slugify, unique_slug
from ..core.validation import aware_time, boolean, refuse_unknown, require, text
from ..live import record_change
from ..matchmaking.board import copy_profiles

SLUG_MAX = 64
TEXT_FIELDS = {"title": 300, "subtitle": 300, "host": 300, "venue": 300, "series": 200, "description": 5000}
EVENT_FIELDS = {
    "slug",
    "start",
    "end",
    "timezone",
    "archived",
    "registration_opens",
    "registration_closes",
    "capacity",
    "board",
    *TEXT_FIELDS,
}
MAX_CAPACITY = 100_000


def _invalid(field, message, status=400, code="invalid"):
    return DomainError(code, message, status, field=field)


def parse_event(data, creating):
    """Clean fields of an event from a JSON object (POST: slug, title, start and end required; with
    `copy_from` and `copy_sessions`). DomainError with `field` naming the culprit."""
    if creating:
        allowed = (EVENT_FIELDS - {"archived"}) | {"copy_from", "copy_sessions"}
    else:
        allowed = EVENT_FIELDS - {"slug"}  # the slug is in every link and QR code already handed out
    refuse_unknown(data, allowed)
    if creating:
        require(data, ["slug", "title", "start", "end"])
    clean = {}
    if "slug" in data:
        slug = data["slug"]
        if not isinstance(slug, str) or slugify(slug) != slug or not 2 <= len(slug) <= SLUG_MAX:
            raise _invalid("slug", _("Kurzname: 2 bis 64 Kleinbuchstaben, Ziffern und Bindestriche, z. B. trier-2019."))
        if db.session.scalar(select(func.count(Event.id)).where(Event.slug == slug)):
            raise _invalid(
                "slug", _("Den Kurznamen „%(slug)s“ trägt schon eine Veranstaltung.", slug=slug), 409, "conflict"
            )
        clean["slug"] = slug
    for key, max_len in TEXT_FIELDS.items():
        if key in data:
            clean[key] = text(data, key, max_len, allow_empty=key != "title")
    if "timezone" in data:
        if not isinstance(data["timezone"], str) or data["timezone"] not in available_timezones():
            raise _invalid("timezone", _("Unbekannte Zeitzone; z. B. Europe/Berlin."))
        clean["timezone"] = data["timezone"]
    for key, column in (("start", "starts_at"), ("end", "ends_at")):
        if key in data:
            clean[column] = aware_time(data, key)
    if "archived" in data:
        clean["archived"] = boolean(data, "archived")
    if "board" in data:
        clean["board_enabled"] = boolean(data, "board")
    for key in ("registration_opens", "registration_closes"):
        if key in data:
            clean[f"{key}_at"] = None if data[key] is None else aware_time(data, key)
    if "capacity" in data:
        value = data["capacity"]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY
        ):
            raise _invalid(
                "capacity", _("Plätze: eine ganze Zahl von 1 bis %(max)d, oder leer für unbegrenzt.", max=MAX_CAPACITY)
            )
        clean["capacity"] = value
    if creating and "copy_sessions" in data and data.get("copy_from") is None:
        raise _invalid("copy_sessions", _("Das Programm übernehmen geht nur zusammen mit „Übernehmen von“."))
    if creating and data.get("copy_from") is not None:
        wanted = data["copy_from"]
        source = (
            db.session.execute(select(Event).filter_by(slug=wanted)).scalar_one_or_none()
            if isinstance(wanted, str) and len(wanted) <= SLUG_MAX
            else None
        )
        if source is None:
            raise _invalid(
                "copy_from", _("Die Veranstaltung, von der übernommen werden soll, gibt es nicht."), 404, "not_found"
            )
        clean["copy_from"] = source
        clean["copy_sessions"] = boolean(data, "copy_sessions") if "copy_sessions" in data else False
    return clean


def _check_times(event):
    if event.ends_at <= event.starts_at:
        raise _invalid("end", _("Das Ende muss nach dem Beginn liegen."))
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if opens is not None and closes is not None and closes <= opens:
        raise _invalid("registration_closes", _("Der Anmeldeschluss muss nach dem Anmeldebeginn liegen."))


def create_event(fields):
    """A new event (revision 0). With `copy_from`: its rooms, topics and municipalities with their stated
    interests (consent asked again), and with `copy_sessions` its sessions moved to the new days. Commits."""
    source = fields.pop("copy_from", None)
    with_sessions = fields.pop("copy_sessions", False)
    event = Event(**fields)
    if source is not None:
        event.series = event.series or source.series
        event.host = event.host or source.host
        event.venue = event.venue or source.venue
        event.timezone = fields.get("timezone", source.timezone)
        event.tables_per_slot = source.tables_per_slot
    _check_times(event)
    db.session.add(event)
    db.session.flush()
    if source is not None:
        topics = copy_programme(source, event, with_sessions=with_sessions)
        copy_profiles(source, event, topics)
    db.session.commit()
    return event


def setup_json(event):
    """The event as its organisers set it up (the API's answer): the public part and the settings."""
    iso = lambda dt: None if dt is None else local_iso(dt, event.timezone)  # noqa: E731
    return {
        **event_json(event),
        "archived": event.archived,
        "board": event.board_enabled,
        "capacity": event.capacity,
        "registration_opens": iso(event.registration_opens_at),
        "registration_closes": iso(event.registration_closes_at),
    }


def update_event(event, fields, actor=""):
    """Edit an event; what phones show (title, times, venue…) changes with one revision. Commits. A larger
    capacity moves guests up from the waiting list."""
    before = event_json(event)
    for key, value in fields.items():
        setattr(event, key, value)
    try:
        _check_times(event)
    except DomainError:
        db.session.rollback()
        raise
    if "capacity" in fields:
        move_up(event)
    after = event_json(event)
    change = None
    if after != before:
        fields = [key for key in after if after[key] != before[key]]
        change = record_change(
            event,
            "event.edited",
            f"Veranstaltung geändert: {event.title}",
            {"replace": {"event": after}},
            actor,
            {"title": event.title, "fields": fields},
        )
    db.session.commit()
    return change


# ---- municipalities ---------------------------------------------------------------------------------------


def municipality_json(m):
    return {"name": m.name, "slug": m.slug, "lat": m.latitude, "lon": m.longitude, "is_host": m.is_host}


def parse_municipality(data):
    refuse_unknown(data, {"name", "lat", "lon", "is_host"})
    require(data, ["name"])
    clean = {"name": text(data, "name", 120, squash_spaces=True)}
    for key, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        if key in data and data[key] is not None:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise _invalid(key, _("Breiten- und Längengrad als Zahl, z. B. 49.44 und 7.77."))
            clean[key] = float(value)
    if ("lat" in clean) != ("lon" in clean):
        raise _invalid("lat", _("Für eine Position braucht es Breiten- und Längengrad."))
    if "is_host" in data:
        clean["is_host"] = boolean(data, "is_host")
    return clean


def add_municipality(event, name, lat=None, lon=None, is_host=False):
    """The municipality takes part in the event, placed where the gazetteer knows it (or at the given
    position); the event's guests who named it as their town now belong to it. DomainError when it is
    already there, or unknown to the gazetteer and given no position. Commits."""
    if lat is None:
        place = gazetteer.lookup(name)
        if place is None:
            raise _invalid(
                "name",
                _(
                    "„%(name)s“ kennt das Ortsverzeichnis nicht: bitte die Position auf der Karte wählen oder eingeben.",
                    name=name,
                ),
                422,
                "unknown_place",
            )
        if place.ambiguous:
            raise _invalid(
                "name",
                _(
                    "„%(name)s“ gibt es mehrmals (%(where)s): bitte den vollen Namen wählen oder die Position eingeben.",
                    name=name,
                    where=", ".join(sorted({p.state for p in gazetteer.same_name(name)} - {""})),
                ),
                422,
                "ambiguous_place",
            )
        name, lat, lon = place.name, place.lat, place.lon  # the gazetteer's spelling: Zweibrücken, not -ue-
    if any(compact_key(m.name) == compact_key(name) for m in event.municipalities):
        raise _invalid("name", _("%(name)s nimmt schon teil.", name=name), 409, "conflict")
    slug = unique_slug(name, {m.slug for m in event.municipalities}, "kommune", max_len=120)
    municipality = Municipality(event=event, name=name, slug=slug, latitude=lat, longitude=lon, is_host=is_host)
    db.session.add(municipality)
    try:
        db.session.flush()
    except IntegrityError:  # the same town added at the same moment by someone else
        db.session.rollback()
        raise _invalid("name", _("%(name)s nimmt schon teil.", name=name), 409, "conflict") from None
    adopted = adopt_guests(event, municipality)
    db.session.commit()
    return municipality, adopted
