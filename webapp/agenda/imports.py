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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree
from sqlalchemy import select

from ..errors import DomainError, unstorable
from ..extensions import db
from ..live import record_change
from .domain import agenda_json
from .exports import slugify
from .models import SESSION_KINDS, Event, Room, Session, Speaker, Topic

DEFAULT_TIMEZONE = "Europe/Berlin"
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")
# Session types of frab/pretalx instances seen in the wild -> our kinds; the rest becomes "other".
KIND_ALIASES = {
    "lecture": "talk", "vortrag": "talk", "keynote": "talk", "talk": "talk", "lightning talk": "pitch",
    "lightning_talk": "pitch", "lightningtalk": "pitch", "kurzvortrag": "pitch", "hands-on": "workshop",
    "discussion": "panel", "podium": "panel", "podiumsdiskussion": "panel", "diskussion": "panel",
    "meeting": "networking", "meetup": "networking", "pause": "break", "begrüßung": "opening",
    "eröffnung": "opening", "welcome": "opening",
}
DURATION = re.compile(r"(\d{1,3}):([0-5]\d)(?::([0-5]\d))?")
START = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
# Column sizes of the models: longer texts are cut, not refused.
MAX = {"title": 300, "name": 100, "speaker": 200, "role": 300, "topic": 200, "slug": 100, "language": 8}


class ImportError_(DomainError):
    """A file we cannot import; the message says what is wrong and where, for the person who uploaded it."""

    def __init__(self, message):
        super().__init__("invalid_schedule", message)


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


@dataclass
class ParsedSchedule:
    title: str
    timezone: str
    start: datetime | None
    end: datetime | None
    rooms: list = field(default_factory=list)  # names in file order
    sessions: list = field(default_factory=list)


def parse_schedule(data):
    """JSON or XML, told apart by the first character."""
    if not isinstance(data, (bytes, bytearray)):
        raise ImportError_("expected the file's bytes")
    head = bytes(data[:1024]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith((b"{", b"<")):
        raise ImportError_("not a schedule file: expected a c3voc/pretalx schedule.json or a frab schedule.xml")
    # What a hostile or broken file can still provoke deep inside the parsers becomes a clear refusal.
    try:
        return _parse_json(data) if head.startswith(b"{") else _parse_xml(data)
    except RecursionError:
        raise ImportError_("the file is nested too deeply to be a schedule") from None
    except OverflowError:
        raise ImportError_("a date, time or duration is out of range (years 1 to 9999)") from None
    except (TypeError, AttributeError, KeyError) as exc:
        raise ImportError_(f"the file does not have the structure of a schedule ({exc})") from None


def _text(value, where, key, required=False):
    """A text field: missing/None is '' (or an error if required); numbers are accepted as text."""
    if value is None or value == "":
        if required:
            raise ImportError_(f"{where}: missing '{key}'")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ImportError_(f"{where}: '{key}' must be text")
    if unstorable(str(value)):
        raise ImportError_(f"{where}: '{key}' contains a NUL character or broken Unicode")
    return str(value).strip()


def _zone(name):
    name = name or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ImportError_(f"conference: unknown time_zone_name '{name[:60]}'") from None
    return name


def _datetime(value, tz, where, key):
    """ISO date-time; without an offset it is local time of the conference."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ImportError_(f"{where}: '{key}' is not an ISO 8601 date-time: '{value[:40]}'") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))
    parsed.astimezone(timezone.utc)  # stored in UTC: OverflowError (a clear refusal above) if it does not fit
    return parsed


def _date(value, where, key):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImportError_(f"{where}: '{key}' is not an ISO 8601 date: '{value[:40]}'") from None


def _is_date(value):
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _conference_bound(value, tz, key, end=False):
    """Conference start/end: a date (the whole day) or a date-time."""
    if not value:
        return None
    if _is_date(value):
        day = _date(value, "conference", key) + timedelta(days=1 if end else 0)
        return datetime.combine(day, time(), ZoneInfo(tz))
    return _datetime(value, tz, "conference", key)


def _session(raw, where, day_date, day_start, tz):
    """Check one event record (c3voc field names, values as text) and turn it into a ParsedSession."""
    title = _text(raw.get("title"), where, "title", required=True)
    where = f"{where} ('{title[:40]}')"
    date_text, start_text = _text(raw.get("date"), where, "date"), _text(raw.get("start"), where, "start")
    if date_text and "T" in date_text:
        start = _datetime(date_text, tz, where, "date")
    elif start_text:
        match = START.fullmatch(start_text)
        if not match:
            raise ImportError_(f"{where}: 'start' must be HH:MM, not '{start_text[:20]}'")
        on = _date(date_text, where, "date") if _is_date(date_text) else day_date
        if on is None:
            raise ImportError_(f"{where}: 'start' without a date (neither the event nor its day has one)")
        start = datetime.combine(on, time(int(match[1]), int(match[2])), ZoneInfo(tz))
        if not date_text and day_start and start < day_start:  # after midnight of a day that runs into the night
            start += timedelta(days=1)
    else:
        raise ImportError_(f"{where}: missing 'start'")
    end_text, duration_text = _text(raw.get("end"), where, "end"), _text(raw.get("duration"), where, "duration")
    if end_text:
        end = _datetime(end_text, tz, where, "end")
    elif duration_text:
        match = DURATION.fullmatch(duration_text)
        if not match:
            raise ImportError_(f"{where}: 'duration' must be HH:MM, not '{duration_text[:20]}'")
        end = start + timedelta(hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3] or 0))
    else:
        raise ImportError_(f"{where}: missing 'duration'")
    if end <= start:
        raise ImportError_(f"{where}: it must end after it starts")
    abstract, description = _text(raw.get("abstract"), where, "abstract"), _text(raw.get("description"), where,
                                                                                  "description")
    persons = raw.get("persons") or []
    if not isinstance(persons, list):
        raise ImportError_(f"{where}: 'persons' must be a list")
    return ParsedSession(
        guid=_text(raw.get("guid"), where, "guid") or None,
        title=title[:MAX["title"]],
        start=start,
        end=end,
        room=_room_name(_text(raw.get("room"), where, "room")),
        track=_text(raw.get("track"), where, "track")[:MAX["topic"]],
        kind=kind_for(_text(raw.get("type"), where, "type")),
        language=_text(raw.get("language"), where, "language")[:MAX["language"]],
        abstract="\n\n".join(t for t in (abstract, description if description != abstract else "") if t),
        persons=[_person(p, f"{where}, person {n}") for n, p in enumerate(persons, 1)],
    )


def _room_name(name):
    """Sessions and room lists name rooms the same way only after this (and '' means no room)."""
    return name.strip()[:MAX["name"]]


def _person(raw, where):
    if not isinstance(raw, dict):
        raise ImportError_(f"{where}: must be an object with a name")
    name = _text(raw.get("public_name") or raw.get("name"), where, "name", required=True)
    return name[:MAX["speaker"]], _text(raw.get("role"), where, "role")[:MAX["role"]]


def kind_for(type_name):
    """No type: a talk, the usual case. A type we do not know: "other", rather than pretend."""
    name = type_name.strip().lower()
    if not name:
        return "talk"
    return name if name in SESSION_KINDS else KIND_ALIASES.get(name, "other")


def _parse_json(data):
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"broken JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # bytes that are not UTF-8/16/32
        raise ImportError_(f"broken JSON: not UTF-8 text ({exc})") from None
    schedule = document.get("schedule") if isinstance(document, dict) else None
    if not isinstance(schedule, dict):
        raise ImportError_("not a schedule.json: there is no top-level 'schedule' object")
    conference = schedule.get("conference")
    if not isinstance(conference, dict):
        raise ImportError_("not a schedule.json: 'schedule' has no 'conference' object")
    tz = _zone(_text(conference.get("time_zone_name"), "conference", "time_zone_name"))
    parsed = ParsedSchedule(
        title=_text(conference.get("title"), "conference", "title", required=True),
        timezone=tz,
        start=_conference_bound(_text(conference.get("start"), "conference", "start"), tz, "start"),
        end=_conference_bound(_text(conference.get("end"), "conference", "end"), tz, "end", end=True),
    )
    for n, room in enumerate(conference.get("rooms") or [], 1):
        parsed.rooms.append(_room_name(_text(room.get("name") if isinstance(room, dict) else None,
                                             f"conference, room {n}", "name", required=True)))
    days = conference.get("days")
    if not isinstance(days, list):
        raise ImportError_("conference: missing 'days' (a list)")
    for day_number, day in enumerate(days, 1):
        where = f"day {day_number}"
        if not isinstance(day, dict) or not isinstance(day.get("rooms"), dict):
            raise ImportError_(f"{where}: missing 'rooms' (an object of room name -> events)")
        day_date, day_start = _day_bounds(day.get("date"), day.get("day_start"), tz, where)
        for room, events in day["rooms"].items():
            if not isinstance(events, list):
                raise ImportError_(f"{where}, room '{room}': must be a list of events")
            parsed.rooms.append(_room_name(room))
            for n, raw in enumerate(events, 1):
                event_where = f"{where}, room '{room}', event {n}"
                if not isinstance(raw, dict):
                    raise ImportError_(f"{event_where}: must be an object")
                parsed.sessions.append(_session({**raw, "room": room}, event_where, day_date, day_start, tz))
    return parsed


def _day_bounds(date_value, start_value, tz, where):
    """The day's date and start, which an event with only a start time (HH:MM) needs."""
    day_date, day_start = _text(date_value, where, "date"), _text(start_value, where, "day start")
    return (_date(day_date, where, "date") if day_date else None,
            _datetime(day_start, tz, where, "day start") if day_start else None)


def _safe_xml_parser():
    # No entity expansion (billion laughs, external files), no network, no DTD loading, no huge trees.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def _parse_xml(data):
    try:
        root = etree.fromstring(bytes(data), parser=_safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise ImportError_(f"broken XML: {exc.msg}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ImportError_("XML with entity declarations (<!ENTITY …>) is not accepted")
    if root.tag != "schedule":
        raise ImportError_(f"not a frab schedule.xml: the root element is <{root.tag}>, not <schedule>")
    conference = root.find("conference")
    if conference is None:
        raise ImportError_("not a frab schedule.xml: <schedule> has no <conference>")
    tz = _zone(conference.findtext("time_zone_name", "").strip())
    parsed = ParsedSchedule(
        title=_text(conference.findtext("title"), "conference", "title", required=True),
        timezone=tz,
        start=_conference_bound(conference.findtext("start", "").strip(), tz, "start"),
        end=_conference_bound(conference.findtext("end", "").strip(), tz, "end", end=True),
    )
    for day_number, day in enumerate(root.iterfind("day"), 1):
        where = f"day {day_number}"
        day_date, day_start = _day_bounds(day.get("date"), day.get("start"), tz, where)
        for room in day.iterfind("room"):
            name = room.get("name", "")
            parsed.rooms.append(_room_name(name))
            for n, element in enumerate(room.iterfind("event"), 1):
                raw = {child.tag: (child.text or "") for child in element if isinstance(child.tag, str)}
                raw.update(guid=element.get("guid"), room=name or raw.get("room", ""),
                           persons=[{"name": p.text or ""} for p in element.iterfind("persons/person")])
                parsed.sessions.append(_session(raw, f"{where}, room '{name}', event {n}", day_date, day_start, tz))
    return parsed


# ---- writing it into the database ---------------------------------------------------------------------

def _unique_slug(name, taken, fallback):
    base = slugify(name, fallback)[:MAX["slug"] - 4]
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
        raise ImportError_("conference: no events and no 'start'/'end' to take the event's times from")
    return min(starts), max(max(ends), min(starts) + timedelta(minutes=1))


def _free_guids(event, parsed):
    """Guids from the file where possible; a new one when missing, invalid, repeated in the file or used by
    another event (guids are unique across the database)."""
    wanted = []
    for s in parsed.sessions:
        try:
            wanted.append(str(uuid.UUID(s.guid)) if s.guid else None)
        except ValueError:
            wanted.append(None)
    candidates = [g for g in wanted if g]
    taken = set(db.session.execute(
        select(Session.guid).where(Session.guid.in_(candidates), Session.event_id != event.id)
    ).scalars()) if candidates else set()
    guids = []
    for guid in wanted:
        if not guid or guid in taken:
            guid = str(uuid.uuid4())
        taken.add(guid)
        guids.append(guid)
    return guids


def _topic_slug(track):
    return slugify(track, "track")[:MAX["slug"]]


def _new(row):
    """SQLAlchemy 2 does not add a row to the session just because it names an event that is in it."""
    db.session.add(row)
    return row


def _keep_matching(event, parsed, guids):
    """Drop the event's rows the file no longer names and detach the kept sessions from everything, then
    flush: deletions run before the inserts, so a new row can take a freed name, slug or guid. Returns the
    kept rows by natural key."""
    sessions = {s.guid: s for s in event.sessions if s.guid in set(guids)}
    for session in list(event.sessions):
        session.room = session.planned_room = None
        session.speakers, session.topics = [], []
        if session.guid not in sessions:
            event.sessions.remove(session)
    db.session.flush()
    room_names = {s.room for s in parsed.sessions} | set(parsed.rooms)
    speaker_names = {name for s in parsed.sessions for name, _ in s.persons}
    topic_slugs = {_topic_slug(s.track) for s in parsed.sessions if s.track}
    rooms = {r.name: r for r in event.rooms if r.name in room_names}
    speakers = {}
    for speaker in event.speakers:
        if speaker.name in speaker_names:
            speakers.setdefault(speaker.name, speaker)
    topics = {t.slug: t for t in event.topics if t.slug in topic_slugs}
    for collection, kept in ((event.rooms, rooms), (event.speakers, speakers), (event.topics, topics)):
        for row in [row for row in collection if row not in kept.values()]:
            collection.remove(row)
    db.session.flush()
    return sessions, rooms, speakers, topics


def _replace_agenda(event, parsed, progress):
    """Make the event's rooms, topics, speakers and sessions those of the file; kept rows are updated in
    place. A session's delay and status start afresh: the file's times are the new plan."""
    guids = _free_guids(event, parsed)
    sessions, rooms, speakers, topics = _keep_matching(event, parsed, guids)

    taken_slugs = {r.slug for r in rooms.values()}
    room_names = dict.fromkeys(n for n in parsed.rooms + [s.room for s in parsed.sessions] if n)
    for position, name in enumerate(room_names):
        if name not in rooms:
            rooms[name] = _new(Room(event=event, name=name, slug=_unique_slug(name, taken_slugs, "raum")))
        rooms[name].position = position
    for s in parsed.sessions:
        if s.track and _topic_slug(s.track) not in topics:
            topics[_topic_slug(s.track)] = _new(Topic(event=event, slug=_topic_slug(s.track), name=s.track))
        for name, role in s.persons:
            if name not in speakers:
                speakers[name] = _new(Speaker(event=event, name=name, role=role))
            elif role:  # frab files carry no roles: keep the one staff typed in
                speakers[name].role = role

    total = len(parsed.sessions)
    progress(0, total)
    for done, (parsed_session, guid) in enumerate(zip(parsed.sessions, guids), 1):
        session = sessions.get(guid) or _new(Session(event=event, guid=guid))
        session.title = parsed_session.title
        session.abstract = parsed_session.abstract
        session.kind = parsed_session.kind
        session.language = parsed_session.language or session.language or "de"
        session.planned_start, session.planned_end = parsed_session.start, parsed_session.end
        session.delay_minutes, session.status = 0, "scheduled"
        session.room = rooms.get(parsed_session.room)
        session.speakers = list(dict.fromkeys(speakers[name] for name, _ in parsed_session.persons))
        session.topics = [topics[_topic_slug(parsed_session.track)]] if parsed_session.track else []
        progress(done, total)
    event.starts_at, event.ends_at = _span(parsed)
    db.session.flush()
    return {"rooms": len(rooms), "sessions": total, "speakers": len(speakers), "topics": len(topics)}


def import_schedule(slug, data, progress=None, actor=""):
    """Import a schedule file into event `slug`: a new event from the file's conference, or the agenda
    (rooms, sessions, speakers, topics) of an existing one replaced. One transaction: on any error nothing is
    written. An existing event gets exactly one live change, `agenda.imported`, whose `replace` carries the
    new agenda; a new event starts at revision 0 without one (nobody can be following it yet).
    Returns (event, counts)."""
    parsed = parse_schedule(data)
    try:
        event = db.session.execute(select(Event).filter_by(slug=slug)).scalar_one_or_none()
        created = event is None
        if created:
            if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
                raise ImportError_(f"event slug '{str(slug)[:70]}' must be 2 to 64 lowercase letters, digits, "
                                   f"'-' or '_'")
            starts_at, ends_at = _span(parsed)
            event = Event(slug=slug, title=parsed.title[:MAX["title"]], timezone=parsed.timezone,
                          starts_at=starts_at, ends_at=ends_at)
            db.session.add(event)
            db.session.flush()
        counts = _replace_agenda(event, parsed, progress or (lambda done, total: None))
        if not created:
            db.session.expire(event, ["rooms", "sessions", "speakers", "topics"])  # reload in their order
            agenda = agenda_json(event)
            summary = f"Programm neu eingelesen: {counts['sessions']} Programmpunkte in {counts['rooms']} Räumen"
            record_change(event, "agenda.imported", summary,
                          {"replace": {key: agenda[key] for key in ("event", "rooms", "sessions")}}, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event, counts
