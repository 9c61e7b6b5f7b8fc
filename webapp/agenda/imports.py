"""Import of c3voc/pretalx schedule.json and frab schedule.xml.

Two steps: the file is read completely into plain records (both formats into the same shape, every
problem reported with where it is), and only then the database is changed, in one transaction. Rows are
matched by their natural keys (sessions by guid, rooms by name, speakers by name, topics by slug), so a
re-import keeps session ids and door-screen URLs stable."""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from lxml import etree
from sqlalchemy import bindparam, delete, insert, select, update

from ..core.cooperative import paced, tick
from ..core.errors import DomainError, unstorable
from ..core.extensions import db
from ..core.models import Event
from ..core.text import slugify
from ..live import record_change
from .domain import event_json, session_json
from .models import SESSION_KINDS, Room, Session, Speaker, Topic, session_speakers, session_topics

DEFAULT_TIMEZONE = "Europe/Berlin"
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")
# Session types of frab/pretalx instances seen in the wild -> our kinds; the rest becomes "other".
KIND_ALIASES = {
    "lecture": "talk",
    "vortrag": "talk",
    "keynote": "talk",
    "talk": "talk",
    "lightning talk": "pitch",
    "lightning_talk": "pitch",
    "lightningtalk": "pitch",
    "kurzvortrag": "pitch",
    "hands-on": "workshop",
    "discussion": "panel",
    "podium": "panel",
    "podiumsdiskussion": "panel",
    "diskussion": "panel",
    "meeting": "networking",
    "meetup": "networking",
    "pause": "break",
    "begrüßung": "opening",
    "eröffnung": "opening",
    "welcome": "opening",
}
# A session's state, where a file has one (c3voc schedule 2 "state"; pretalx and frab files have none).
STATES = {
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "withdrawn": "cancelled",
    "abgesagt": "cancelled",
    "confirmed": "scheduled",
    "accepted": "scheduled",
    "scheduled": "scheduled",
    "delayed": "scheduled",
}
# Sessions without a usable guid get one made from the event and the file's own key, so that every import of
# the same file gives them the same guid (a followed schedule then matches them again).
GUID_NAMESPACE = uuid.UUID("5b0c8b8e-2f1e-4d7a-9d3c-6a1f0e7b4c21")
DURATION = re.compile(r"(\d{1,3}):([0-5]\d)(?::([0-5]\d))?")
START = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
# Column sizes of the models: longer texts are cut, not refused.
MAX = {"title": 300, "name": 100, "speaker": 200, "role": 300, "topic": 200, "slug": 100, "language": 8}


# What a file's keys are called in messages (the organiser reads "Dauer", not "duration").
FILE_FIELDS = {
    "title": _l("Titel"),
    "date": _l("Datum"),
    "start": _l("Beginn"),
    "end": _l("Ende"),
    "duration": _l("Dauer"),
    "abstract": _l("Kurzbeschreibung"),
    "description": _l("Beschreibung"),
    "guid": _l("Kennung (GUID)"),
    "room": _l("Raum"),
    "track": _l("Track"),
    "type": _l("Art"),
    "language": _l("Sprache"),
    "state": _l("Status"),
    "name": _l("Name"),
    "role": _l("Funktion"),
    "persons": _l("Liste der Personen"),
    "day start": _l("Beginn des Tages"),
    "time_zone_name": _l("Zeitzone"),
    "days": _l("Liste der Tage"),
}

# Each problem a file can have, as a sentence in the reader's language (params: `field`, a FILE_FIELDS key,
# and the problem's own values).
PROBLEMS = {
    "missing": lambda p: _("„%(field)s“ fehlt.", field=p["field"]),
    "not_text": lambda p: _("„%(field)s“ muss ein Text sein.", field=p["field"]),
    "bad_text": lambda p: _(
        "„%(field)s“ enthält Zeichen, die nicht gespeichert werden können (Nullzeichen oder fehlerhaftes Unicode).",
        field=p["field"],
    ),
    "not_list": lambda p: _("„%(field)s“ muss eine Liste sein.", field=p["field"]),
    "not_datetime": lambda p: _(
        "„%(field)s“ ist kein Zeitpunkt nach ISO 8601: „%(value)s“.", field=p["field"], value=p["value"]
    ),
    "not_date": lambda p: _(
        "„%(field)s“ ist kein Datum nach ISO 8601: „%(value)s“.", field=p["field"], value=p["value"]
    ),
    "not_hhmm": lambda p: _(
        "„%(field)s“ muss die Form HH:MM haben, nicht „%(value)s“.", field=p["field"], value=p["value"]
    ),
    "unknown_zone": lambda p: _("Die Zeitzone „%(value)s“ ist unbekannt (z. B. Europe/Berlin).", value=p["value"]),
    "start_without_date": lambda p: _("Der Beginn hat kein Datum, und auch sein Tag nennt keines."),
    "ends_before_start": lambda p: _("Das Ende muss nach dem Beginn liegen."),
    "person_not_object": lambda p: _("Eine Person muss ein Objekt mit einem Namen sein."),
    "events_not_list": lambda p: _("Die Programmpunkte eines Raums müssen eine Liste sein."),
    "event_not_object": lambda p: _("Ein Programmpunkt muss ein Objekt sein."),
    "day_without_rooms": lambda p: _("Der Tag hat keine Räume (erwartet: Raumnamen mit ihren Programmpunkten)."),
    "no_times": lambda p: _(
        "Die Datei hat keine Programmpunkte und nennt weder Beginn noch Ende, aus denen sich die Zeiten der "
        "Veranstaltung ergeben."
    ),
    "out_of_range": lambda p: _(
        "Ein Datum, eine Uhrzeit oder eine Dauer liegt außerhalb des Möglichen (Jahre 1 bis 9999)."
    ),
    "not_bytes": lambda p: _("Die Datei konnte nicht gelesen werden."),
    "not_schedule": lambda p: _(
        "Das ist keine Fahrplan-Datei: erwartet wird eine schedule.json (c3voc/pretalx) oder eine schedule.xml (frab)."
    ),
    "too_deep": lambda p: _("Die Datei ist zu tief verschachtelt, um ein Fahrplan zu sein."),
    "bad_structure": lambda p: _("Die Datei hat nicht den Aufbau eines Fahrplans."),
    "broken_json": lambda p: _("Fehlerhaftes JSON in Zeile %(line)d, Spalte %(column)d.", **p),
    "not_utf8": lambda p: _("Fehlerhaftes JSON: Die Datei ist kein UTF-8-Text."),
    "no_schedule": lambda p: _("Keine schedule.json: Es fehlt das Objekt „schedule“ auf oberster Ebene."),
    "no_conference": lambda p: _("Keine schedule.json: „schedule“ enthält kein Objekt „conference“."),
    "broken_xml": lambda p: _("Fehlerhaftes XML in Zeile %(line)d.", **p),
    "xml_entities": lambda p: _("XML mit Entity-Deklarationen (<!ENTITY …>) wird nicht angenommen."),
    "xml_root": lambda p: _("Keine frab-schedule.xml: Das Wurzelelement ist <%(tag)s>, nicht <schedule>.", **p),
    "xml_no_conference": lambda p: _("Keine frab-schedule.xml: <schedule> enthält kein <conference>."),
    "bad_slug": lambda p: _(
        "Der Kurzname „%(slug)s“ passt nicht: 2 bis 64 Kleinbuchstaben, Ziffern, „-“ oder „_“.", **p
    ),
}
CONFERENCE = {"conference": True}


def place(where):
    """Where in the file, in the reader's language: "Tag 2, Raum „Tan Room“, Programmpunkt 2 („Opening“)"."""
    if not where:
        return ""
    if "day" not in where:
        parts = [_("Konferenzangaben")]
        if where.get("conference_room"):
            parts.append(_("Raum %(n)s der Raumliste", n=where["conference_room"]))
    else:
        parts = [_("Tag %(n)s", n=where["day"])]
        if "room" in where:
            parts.append(_("Raum „%(name)s“", name=where["room"]))
        if "event" in where:
            event = _("Programmpunkt %(n)s", n=where["event"])
            if where.get("line"):
                event = _("%(event)s (Zeile %(n)s)", event=event, n=where["line"])
            if "title" in where:
                event = _("%(event)s („%(title)s“)", event=event, title=where["title"])
            parts.append(event)
    if where.get("person"):
        parts.append(_("Person %(n)s", n=where["person"]))
    return ", ".join(parts)


def describe_problem(detail):
    """ImportError_.detail (as stored with a followed URL's last result) as a sentence in the reader's language."""
    if not isinstance(detail, dict) or detail.get("problem") not in PROBLEMS:
        return str(detail or "")
    params = dict(detail.get("params") or {})
    if "field" in params:
        params["field"] = str(FILE_FIELDS.get(params["field"], params["field"]))
    try:
        sentence = PROBLEMS[detail["problem"]](params)
    except (KeyError, TypeError, ValueError):  # a stored detail of another version
        return ""
    where = place(detail.get("where") or {})
    return f"{where}: {sentence}" if where else sentence


class ImportError_(DomainError):
    """A file we cannot import: `problem` (a key of PROBLEMS) with its `params`, `where` in the file (day, room,
    event, line, title, person, or the conference). `detail` keeps them to be described later in another
    language (a followed URL's last result); the message is the sentence in the language of now."""

    def __init__(self, problem, where=None, **params):
        self.detail = {"problem": problem, "where": dict(where or {}), "params": params}
        super().__init__("invalid_schedule", describe_problem(self.detail))


# ---- reading the file into plain records --------------------------------------------------------------


@dataclass
class ParsedSession:
    guid: str | None
    title: str
    start: datetime
    end: datetime
    room: str
    track: str
    kind: str
    language: str
    abstract: str
    persons: list  # [(name, role)]
    status: str | None = None  # "scheduled" or "cancelled" where the file says so; None: it says nothing


@dataclass
class ParsedSchedule:
    title: str
    timezone: str
    start: datetime | None
    end: datetime | None
    rooms: list = field(default_factory=list)  # names in file order
    sessions: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # ImportError_ of the sessions left out (skip_bad)


def parse_schedule(data, skip_bad=False):
    """JSON or XML, told apart by the first character. With `skip_bad`, a session the file gets wrong is left
    out (its ImportError_ in `skipped`) instead of refusing the file; a problem of the file itself, its
    conference or a day always refuses it."""
    if not isinstance(data, (bytes, bytearray)):
        raise ImportError_("not_bytes")
    head = bytes(data[:1024]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith((b"{", b"<")):
        raise ImportError_("not_schedule")
    # What a hostile or broken file can still provoke deep inside the parsers becomes a clear refusal.
    try:
        return _parse_json(data, skip_bad) if head.startswith(b"{") else _parse_xml(data, skip_bad)
    except RecursionError:
        raise ImportError_("too_deep") from None
    except OverflowError:
        raise ImportError_("out_of_range") from None
    except (TypeError, AttributeError, KeyError):
        raise ImportError_("bad_structure") from None


def _add_session(parsed, skip_bad, where, make, *args):
    """parsed.sessions gets make(*args, where)'s session; with `skip_bad` a refused one goes to parsed.skipped."""
    try:
        try:
            parsed.sessions.append(make(*args, where))
        except OverflowError:
            raise ImportError_("out_of_range", where) from None
    except ImportError_ as exc:
        if not skip_bad:
            raise
        parsed.skipped.append(exc)


def _text(value, where, key, required=False):
    """A text field: missing/None is '' (or an error if required); numbers are accepted as text."""
    if value is None or value == "":
        if required:
            raise ImportError_("missing", where, field=key)
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ImportError_("not_text", where, field=key)
    if unstorable(str(value)):
        raise ImportError_("bad_text", where, field=key)
    return str(value).strip()


def _zone(name):
    name = name or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ImportError_("unknown_zone", CONFERENCE, value=name[:60]) from None
    return name


def _datetime(value, tz, where, key):
    """ISO date-time; without an offset it is local time of the conference."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ImportError_("not_datetime", where, field=key, value=value[:40]) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))
    parsed.astimezone(timezone.utc)  # stored in UTC: OverflowError (a clear refusal above) if it does not fit
    return parsed


def _date(value, where, key):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImportError_("not_date", where, field=key, value=value[:40]) from None


def _is_date(value):
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _conference_bound(value, tz, key, end=False):
    """Conference start/end: a date (the whole day) or a date-time."""
    if not value:
        return None
    if _is_date(value):
        day = _date(value, CONFERENCE, key) + timedelta(days=1 if end else 0)
        return datetime.combine(day, time(), ZoneInfo(tz))
    return _datetime(value, tz, CONFERENCE, key)


def _session(raw, day_date, day_start, tz, where):
    """Check one event record (c3voc field names, values as text) and turn it into a ParsedSession."""
    title = _text(raw.get("title"), where, "title", required=True)
    where = {**where, "title": title[:40]}
    date_text, start_text = _text(raw.get("date"), where, "date"), _text(raw.get("start"), where, "start")
    if date_text and "T" in date_text:
        start = _datetime(date_text, tz, where, "date")
    elif start_text:
        match = START.fullmatch(start_text)
        if not match:
            raise ImportError_("not_hhmm", where, field="start", value=start_text[:20])
        on = _date(date_text, where, "date") if _is_date(date_text) else day_date
        if on is None:
            raise ImportError_("start_without_date", where)
        start = datetime.combine(on, time(int(match[1]), int(match[2])), ZoneInfo(tz))
        if not date_text and day_start and start < day_start:  # after midnight of a day that runs into the night
            start += timedelta(days=1)
    else:
        raise ImportError_("missing", where, field="start")
    end_text, duration_text = _text(raw.get("end"), where, "end"), _text(raw.get("duration"), where, "duration")
    if end_text:
        end = _datetime(end_text, tz, where, "end")
    elif duration_text:
        match = DURATION.fullmatch(duration_text)
        if not match:
            raise ImportError_("not_hhmm", where, field="duration", value=duration_text[:20])
        end = start + timedelta(hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3] or 0))
    else:
        raise ImportError_("missing", where, field="duration")
    if end <= start:
        raise ImportError_("ends_before_start", where)
    start.astimezone(timezone.utc), end.astimezone(timezone.utc)  # stored in UTC: OverflowError if out of range
    tick()
    abstract, description = (
        _text(raw.get("abstract"), where, "abstract"),
        _text(raw.get("description"), where, "description"),
    )
    persons = raw.get("persons") or []
    if not isinstance(persons, list):
        raise ImportError_("not_list", where, field="persons")
    return ParsedSession(
        guid=_text(raw.get("guid"), where, "guid") or None,
        title=title[: MAX["title"]],
        start=start,
        end=end,
        room=_room_name(_text(raw.get("room"), where, "room")),
        track=_text(raw.get("track"), where, "track")[: MAX["topic"]],
        kind=kind_for(_text(raw.get("type"), where, "type")),
        language=_text(raw.get("language"), where, "language")[: MAX["language"]],
        abstract="\n\n".join(t for t in (abstract, description if description != abstract else "") if t),
        persons=[_person(p, {**where, "person": n}) for n, p in enumerate(persons, 1)],
        status=STATES.get(_text(raw.get("state") or raw.get("status"), where, "state").lower()),
    )


def _room_name(name):
    """Sessions and room lists name rooms the same way only after this (and '' means no room)."""
    return name.strip()[: MAX["name"]]


def _person(raw, where):
    if not isinstance(raw, dict):
        raise ImportError_("person_not_object", where)
    name = _text(raw.get("public_name") or raw.get("name"), where, "name", required=True)
    return name[: MAX["speaker"]], _text(raw.get("role"), where, "role")[: MAX["role"]]


def kind_for(type_name):
    """No type: a talk, the usual case. A type we do not know: "other", rather than pretend."""
    name = type_name.strip().lower()
    if not name:
        return "talk"
    return name if name in SESSION_KINDS else KIND_ALIASES.get(name, "other")


def _parse_json(data, skip_bad=False):
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ImportError_("broken_json", line=exc.lineno, column=exc.colno) from None
    except ValueError:  # bytes that are not UTF-8/16/32
        raise ImportError_("not_utf8") from None
    schedule = document.get("schedule") if isinstance(document, dict) else None
    if not isinstance(schedule, dict):
        raise ImportError_("no_schedule")
    conference = schedule.get("conference")
    if not isinstance(conference, dict):
        raise ImportError_("no_conference")
    tz = _zone(_text(conference.get("time_zone_name"), CONFERENCE, "time_zone_name"))
    parsed = ParsedSchedule(
        title=_text(conference.get("title"), CONFERENCE, "title", required=True),
        timezone=tz,
        start=_conference_bound(_text(conference.get("start"), CONFERENCE, "start"), tz, "start"),
        end=_conference_bound(_text(conference.get("end"), CONFERENCE, "end"), tz, "end", end=True),
    )
    for n, room in enumerate(conference.get("rooms") or [], 1):
        parsed.rooms.append(
            _room_name(
                _text(
                    room.get("name") if isinstance(room, dict) else None,
                    {**CONFERENCE, "conference_room": n},
                    "name",
                    required=True,
                )
            )
        )
    days = conference.get("days")
    if not isinstance(days, list):
        raise ImportError_("missing" if days is None else "not_list", CONFERENCE, field="days")
    for day_number, day in enumerate(days, 1):
        where = {"day": day_number}
        if not isinstance(day, dict) or not isinstance(day.get("rooms"), dict):
            raise ImportError_("day_without_rooms", where)
        day_date, day_start = _day_bounds(day.get("date"), day.get("day_start"), tz, where)
        for room, events in day["rooms"].items():
            if not isinstance(events, list):
                raise ImportError_("events_not_list", {**where, "room": room[:100]})
            parsed.rooms.append(_room_name(room))
            for n, raw in enumerate(events, 1):
                event_where = {**where, "room": room[:100], "event": n}
                _add_session(parsed, skip_bad, event_where, _json_session, raw, room, day_date, day_start, tz)
    return parsed


def _json_session(raw, room, day_date, day_start, tz, where):
    if not isinstance(raw, dict):
        raise ImportError_("event_not_object", where)
    return _session({**raw, "room": room}, day_date, day_start, tz, where)


def _day_bounds(date_value, start_value, tz, where):
    """The day's date and start, which an event with only a start time (HH:MM) needs."""
    day_date, day_start = _text(date_value, where, "date"), _text(start_value, where, "day start")
    return (
        _date(day_date, where, "date") if day_date else None,
        _datetime(day_start, tz, where, "day start") if day_start else None,
    )


def _safe_xml_parser():
    # No entity expansion (billion laughs, external files), no network, no DTD loading, no huge trees.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse_xml(data, skip_bad=False):
    try:
        root = etree.fromstring(bytes(data), parser=_safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise ImportError_("broken_xml", line=exc.lineno or 1) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ImportError_("xml_entities")
    if root.tag != "schedule":
        raise ImportError_("xml_root", tag=str(root.tag)[:60])
    conference = root.find("conference")
    if conference is None:
        raise ImportError_("xml_no_conference")
    tz = _zone(conference.findtext("time_zone_name", "").strip())
    parsed = ParsedSchedule(
        title=_text(conference.findtext("title"), CONFERENCE, "title", required=True),
        timezone=tz,
        start=_conference_bound(conference.findtext("start", "").strip(), tz, "start"),
        end=_conference_bound(conference.findtext("end", "").strip(), tz, "end", end=True),
    )
    for day_number, day in enumerate(root.iterfind("day"), 1):
        where = {"day": day_number}
        day_date, day_start = _day_bounds(day.get("date"), day.get("start"), tz, where)
        for room in day.iterfind("room"):
            name = room.get("name", "")
            parsed.rooms.append(_room_name(name))
            for n, element in enumerate(room.iterfind("event"), 1):
                raw = {child.tag: (child.text or "") for child in element if isinstance(child.tag, str)}
                raw.update(
                    guid=element.get("guid"),
                    room=name or raw.get("room", ""),
                    persons=[{"name": p.text or ""} for p in element.iterfind("persons/person")],
                )
                event_where = {**where, "room": name[:100], "event": n, "line": element.sourceline}
                _add_session(parsed, skip_bad, event_where, _session, raw, day_date, day_start, tz)
    return parsed


# ---- writing it into the database ---------------------------------------------------------------------
# Two steps again: a plan is worked out from the parsed file and the event's rows as they are (read only,
# pausing now and then: a file of 20,000 sessions must not hold up the door), then the plan is written in
# one transaction of set-wise statements, which takes a fraction of a second even for such a file.


def _unique_slug(name, taken, fallback):
    base = slugify(name, fallback)[: MAX["slug"] - 4]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _span(parsed):
    """The event runs from its first to its last session; the conference dates only when they say more."""
    starts = [s.start for s in parsed.sessions] or [t for t in [parsed.start] if t]
    ends = [s.end for s in parsed.sessions] or [t for t in [parsed.end] if t]
    if not starts or not ends:
        raise ImportError_("no_times")
    return min(starts), max(max(ends), min(starts) + timedelta(minutes=1))


def _free_guids(event_id, parsed, slug=""):
    """Guids from the file where possible; else (missing, invalid, repeated in the file or used by another
    event: guids are unique across the database) one made from the event's slug and the file's guid or the
    session's title, the same at every import of the file; a random one if that is taken too."""
    wanted, made, seen = [], [], {}
    for s in parsed.sessions:
        key = s.guid
        if not key:  # the n-th session of this title in the file
            key = f"title:{s.title}#{seen.get(s.title, 0)}"
            seen[s.title] = seen.get(s.title, 0) + 1
        made.append(str(uuid.uuid5(GUID_NAMESPACE, f"{slug}\n{key}")))
        try:
            wanted.append(str(uuid.UUID(s.guid)) if s.guid else None)
        except ValueError:
            wanted.append(None)
    candidates = [g for g in wanted if g]
    taken = set()
    for chunk in _chunks(candidates):
        taken.update(
            db.session.execute(
                select(Session.guid).where(Session.guid.in_(chunk), Session.event_id != (event_id or 0))
            ).scalars()
        )
    for chunk in _chunks(made):
        taken.update(
            db.session.execute(
                select(Session.guid).where(Session.guid.in_(chunk), Session.event_id != (event_id or 0))
            ).scalars()
        )
    guids = []
    for guid, fallback in zip(wanted, made):
        if not guid or guid in taken:
            guid = fallback if fallback not in taken else str(uuid.uuid4())
        taken.add(guid)
        guids.append(guid)
    return guids


def _topic_slug(track):
    return slugify(track, "track")[: MAX["slug"]]


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ImportPlan:
    """What an import will do to one event, worked out without writing: the rows it keeps (with their ids)
    and makes (id None), the ids it removes, and the counts it reports."""

    slug: str
    event_id: int | None
    title: str
    timezone: str
    span: tuple
    rooms: list = field(default_factory=list)  # {"id", "name", "slug", "position"}
    topics: list = field(default_factory=list)  # {"id", "slug", "name"}
    speakers: list = field(default_factory=list)  # {"id", "name", "role"}
    sessions: list = field(default_factory=list)  # {"id", "guid", …columns, "room", "speakers", "topic"}
    removed: dict = field(default_factory=dict)  # model -> [ids]

    @property
    def counts(self):
        return {
            "rooms": len(self.rooms),
            "sessions": len(self.sessions),
            "speakers": len(self.speakers),
            "topics": len(self.topics),
        }


def _rows(model, event_id, *columns):
    if event_id is None:
        return []
    return db.session.execute(select(model.id, *columns).where(model.event_id == event_id).order_by(model.id)).all()


def plan_import(slug, parsed, progress=None):
    """The ImportPlan for `parsed` into event `slug` (created if there is none). Rows are matched by their
    natural keys: sessions by guid, rooms and speakers by name, topics by slug; so a re-import keeps
    session ids and door-screen URLs. A session's delay and status start afresh: the file's times are the
    new plan (and its status where the file has one, else "scheduled")."""
    progress = progress or (lambda done, total: None)
    event = db.session.execute(select(Event.id, Event.title, Event.timezone).filter_by(slug=slug)).first()
    if event is None and (not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug)):
        raise ImportError_("bad_slug", slug=str(slug)[:70])
    event_id = event.id if event else None
    plan = ImportPlan(
        slug=slug,
        event_id=event_id,
        title=event.title if event else parsed.title[: MAX["title"]],
        timezone=event.timezone if event else parsed.timezone,
        span=_span(parsed),
    )
    guids = _free_guids(event_id, parsed, slug)

    rooms = {name: (room_id, room_slug) for room_id, name, room_slug in _rows(Room, event_id, Room.name, Room.slug)}
    room_names = list(dict.fromkeys(n for n in parsed.rooms + [s.room for s in parsed.sessions] if n))
    taken_slugs = {rooms[name][1] for name in room_names if name in rooms}
    for position, name in enumerate(room_names):
        room_id, room_slug = rooms.get(name) or (None, _unique_slug(name, taken_slugs, "raum"))
        plan.rooms.append({"id": room_id, "name": name, "slug": room_slug, "position": position})

    topics = {topic_slug: topic_id for topic_id, topic_slug in _rows(Topic, event_id, Topic.slug)}
    wanted_topics = {}
    for s in parsed.sessions:
        if s.track:
            wanted_topics.setdefault(_topic_slug(s.track), s.track)
    plan.topics = [
        {"id": topics.get(topic_slug), "slug": topic_slug, "name": name} for topic_slug, name in wanted_topics.items()
    ]

    speakers = {}
    for speaker_id, name, role in _rows(Speaker, event_id, Speaker.name, Speaker.role):
        speakers.setdefault(name, (speaker_id, role))  # of two with one name, the first stays
    wanted_speakers = {}
    for s in parsed.sessions:
        for name, role in s.persons:
            current = wanted_speakers.get(name) or speakers.get(name, (None, role))[1]
            wanted_speakers[name] = role or current  # frab files carry no roles: keep the one staff typed in
    plan.speakers = [
        {"id": speakers.get(name, (None,))[0], "name": name, "role": role} for name, role in wanted_speakers.items()
    ]

    sessions = {
        guid: (session_id, language)
        for session_id, guid, language in _rows(Session, event_id, Session.guid, Session.language)
    }
    total = len(parsed.sessions)
    progress(0, total)
    for done, (s, guid) in enumerate(paced(zip(parsed.sessions, guids)), 1):
        session_id, language = sessions.get(guid, (None, None))
        plan.sessions.append(
            {
                "id": session_id,
                "guid": guid,
                "title": s.title,
                "abstract": s.abstract,
                "kind": s.kind,
                "language": s.language or language or "de",
                "planned_start": s.start,
                "planned_end": s.end,
                "room": s.room or None,
                "speakers": list(dict.fromkeys(name for name, _ in s.persons)),
                "topic": _topic_slug(s.track) if s.track else None,
                "status": s.status,
            }
        )
        progress(done, total)

    kept = {
        Room: {r["id"] for r in plan.rooms},
        Topic: {t["id"] for t in plan.topics},
        Speaker: {sp["id"] for sp in plan.speakers},
        Session: {s["id"] for s in plan.sessions},
    }
    existing = {
        Room: [r[0] for r in rooms.values()],
        Topic: list(topics.values()),
        Speaker: [row[0] for row in _rows(Speaker, event_id)],
        Session: [v[0] for v in sessions.values()],
    }
    plan.removed = {model: [i for i in ids if i not in kept[model]] for model, ids in existing.items()}
    return plan


def _insert_ids(model, rows, key, event_id):
    """Insert rows of `model` for one event; returns {natural key: id} of all of its rows."""
    if rows:
        db.session.execute(insert(model.__table__), rows)
    return dict(
        db.session.execute(
            select(getattr(model, key), model.id).where(model.event_id == event_id).order_by(model.id.desc())
        ).all()
    )  # the lowest id of a key wins


def apply_plan(plan, actor=""):
    """Write an ImportPlan in one transaction; returns (event, counts). An existing event gets exactly one
    live change, `agenda.imported`, whose `replace` carries the new agenda; a new event starts at revision 0
    without one (nobody can be following it yet)."""
    created = plan.event_id is None
    # Reading and computing first, before the first write takes the database's write lock.
    payloads = _session_payloads(plan, plan.timezone) if not created else None
    try:
        starts_at, ends_at = plan.span
        if created:
            event = Event(
                slug=plan.slug, title=plan.title, timezone=plan.timezone, starts_at=starts_at, ends_at=ends_at
            )
            db.session.add(event)
            db.session.flush()
        else:
            event = db.session.get(Event, plan.event_id)
            event.starts_at, event.ends_at = starts_at, ends_at
        eid = event.id
        # Kept sessions are detached from everything first, so that removed rooms, speakers and topics can go
        # and a new row can take a freed name, slug or guid.
        in_event = select(Session.id).where(Session.event_id == eid).scalar_subquery()
        db.session.execute(delete(session_speakers).where(session_speakers.c.session_id.in_(in_event)))
        db.session.execute(delete(session_topics).where(session_topics.c.session_id.in_(in_event)))
        db.session.execute(
            update(Session)
            .where(Session.event_id == eid)
            .values(room_id=None, planned_room_id=None)
            .execution_options(synchronize_session=False)
        )
        for model in (Session, Room, Speaker, Topic):
            for chunk in _chunks(plan.removed.get(model, ())):
                db.session.execute(
                    delete(model).where(model.id.in_(chunk)).execution_options(synchronize_session=False)
                )
        for model, rows in (
            (Room, [r for r in plan.rooms if r["id"]]),
            (Speaker, [s for s in plan.speakers if s["id"]]),
        ):
            columns = [c for c in rows[0] if c != "id"] if rows else []
            if rows:
                db.session.execute(
                    update(model.__table__)
                    .where(model.__table__.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in columns}),
                    [{**{c: r[c] for c in columns}, "_id": r["id"]} for r in rows],
                )
        room_ids = _insert_ids(
            Room,
            [{"event_id": eid, **{k: r[k] for k in ("name", "slug", "position")}} for r in plan.rooms if not r["id"]],
            "name",
            eid,
        )
        topic_ids = _insert_ids(
            Topic,
            [{"event_id": eid, "slug": t["slug"], "name": t["name"]} for t in plan.topics if not t["id"]],
            "slug",
            eid,
        )
        speaker_ids = _insert_ids(
            Speaker,
            [{"event_id": eid, "name": s["name"], "role": s["role"]} for s in plan.speakers if not s["id"]],
            "name",
            eid,
        )
        columns = ("guid", "title", "abstract", "kind", "language", "planned_start", "planned_end")

        def values(s):
            return {
                **{c: s[c] for c in columns},
                "room_id": room_ids.get(s["room"]),
                "planned_room_id": None,
                "delay_minutes": 0,
                "overrun_minutes": 0,
                "status": s.get("status") or "scheduled",
            }

        kept = [{**values(s), "_id": s["id"]} for s in plan.sessions if s["id"]]
        if kept:
            table = Session.__table__
            db.session.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in kept[0] if c != "_id"}),
                kept,
            )
            # A calendar entry a subscriber has must update (webapp/checkin/calendar.py).
            db.session.execute(update(Session).where(Session.event_id == eid).values(sequence=Session.sequence + 1))
        new = [{**values(s), "event_id": eid} for s in plan.sessions if not s["id"]]
        session_ids = _insert_ids(Session, new, "guid", eid)
        links = [
            {"session_id": session_ids[s["guid"]], "speaker_id": speaker_ids[name]}
            for s in plan.sessions
            for name in s["speakers"]
        ]
        if links:
            db.session.execute(insert(session_speakers), links)
        tagged = [
            {"session_id": session_ids[s["guid"]], "topic_id": topic_ids[s["topic"]]}
            for s in plan.sessions
            if s["topic"]
        ]
        if tagged:
            db.session.execute(insert(session_topics), tagged)
        db.session.expire(event)
        if not created:
            counts = plan.counts
            summary = f"Programm neu eingelesen: {counts['sessions']} Programmpunkte in {counts['rooms']} Räumen"
            record_change(
                event,
                "agenda.imported",
                summary,
                {"replace": _agenda_after(event, plan, payloads, session_ids)},
                actor,
                {"sessions": counts["sessions"], "rooms": counts["rooms"]},
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event, plan.counts


def _session_payloads(plan, timezone_name):
    """The imported sessions as session_json shows them, worked out before anything is written (the
    ids of new sessions are filled in after their insert). A session's speakers are in the order of their
    ids, as the ORM relationship has them: kept speakers keep theirs, new ones get higher ids in the plan's
    order."""
    rooms = {r["name"]: SimpleNamespace(name=r["name"]) for r in plan.rooms}
    topics = {t["slug"]: SimpleNamespace(name=t["name"]) for t in plan.topics}
    highest = max((sp["id"] for sp in plan.speakers if sp["id"]), default=0)
    order, fresh = {}, 0
    for sp in plan.speakers:
        if sp["id"]:
            order[sp["name"]] = sp["id"]
        else:
            fresh += 1
            order[sp["name"]] = highest + fresh
    place = SimpleNamespace(timezone=timezone_name)
    payloads = []
    for s in paced(plan.sessions):
        session = SimpleNamespace(
            id=s["id"],
            event=place,
            room=rooms.get(s["room"]),
            planned_room=None,
            delay_minutes=0,
            overrun_minutes=0,
            status=s.get("status") or "scheduled",
            speakers=[SimpleNamespace(name=n) for n in sorted(s["speakers"], key=order.get)],
            topics=[topics[s["topic"]]] if s["topic"] else [],
            **{k: s[k] for k in ("guid", "title", "abstract", "kind", "language", "planned_start", "planned_end")},
        )
        payloads.append(session_json(session))
    return payloads


def _agenda_after(event, plan, payloads, session_ids):
    """The imported agenda as agenda_json shows it ({event, rooms, sessions})."""
    starts = {s["guid"]: s["planned_start"] for s in plan.sessions}
    for payload in payloads:
        payload["id"] = session_ids[payload["guid"]]
    payloads.sort(key=lambda p: (starts[p["guid"]], p["id"]))
    return {
        "event": event_json(event),
        "rooms": [{"name": r["name"], "slug": r["slug"]} for r in sorted(plan.rooms, key=lambda r: r["position"])],
        "sessions": payloads,
    }


def import_schedule(slug, data, progress=None, actor=""):
    """Import a schedule file into event `slug`: a new event from the file's conference, or the agenda
    (rooms, sessions, speakers, topics) of an existing one replaced. One transaction: on any error nothing is
    written. Returns (event, counts)."""
    return apply_plan(plan_import(slug, parse_schedule(data), progress), actor)
