"""Standard exports of an event's agenda: iCalendar, frab schedule.xml, c3voc schedule.json.

All three show the *expected* times (planned + delay), so a calendar subscription or a Fahrplan app follows
the day as it really runs. The two Fahrplan formats are built from one record per session
(`schedule_days` + `session_record`), so they always say the same thing."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from flask import url_for
from lxml import etree
from sqlalchemy import func, select

from ..core.config import VERSION
from ..core.extensions import db
from ..core.text import slugify
from ..core.urls import external_url
from ..live.models import Change
from .domain import expected_end, expected_start, local_iso

GENERATOR = "Treffpunkt"
C3VOC_SCHEMA_URL = "https://c3voc.de/schedule/schema.json"
TIMESLOT = "00:05"
# Stable, made-up namespace for the uuid5s of rooms and speakers (they have no guid in the database).
GUID_NAMESPACE = uuid.UUID("6f0c6a52-6c1e-4d4b-9a55-2f1b1c7e5d10")
# Characters XML 1.0 cannot carry at all; imported texts may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---- shared by the Fahrplan formats (and the importer) -------------------------------------------------


def acronym(event):
    """The c3voc acronym: slug kl-2018 -> kl_2018 (the schema allows no hyphen inside, at least 4 chars)."""
    return re.sub(r"[^a-z0-9_]", "_", event.slug.lower()).ljust(4, "_")


def hhmm(delta):
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def agenda_url(event, endpoint="agenda_pages.agenda"):
    """Absolute URL (from the request, or SERVER_NAME); the formats want absolute links."""
    try:
        return external_url(endpoint, slug=event.slug)
    except RuntimeError:  # no request and no SERVER_NAME (CLI): a relative link would be invalid in the files
        return f"http://localhost{url_for(endpoint, slug=event.slug)}"


def stable_guid(event, kind, key):
    return str(uuid.uuid5(GUID_NAMESPACE, f"{event.slug}/{kind}/{key}"))


def room_name(session):
    """Sessions without a room sit in a room with an empty name (the importer reads it back as no room)."""
    return session.room.name if session.room else ""


@dataclass
class ScheduleDay:
    index: int
    date: date
    start: datetime
    end: datetime
    rooms: dict = field(default_factory=dict)  # room name -> sessions, in the event's room order


def published_sessions(event):
    """Cancelled sessions are left out of the Fahrplan formats: neither format has a status, and frab and
    pretalx publish only what takes place (the iCalendar export keeps them as STATUS:CANCELLED)."""
    return [s for s in event.sessions if s.status != "cancelled"]


def _local_dates(start, end, tz):
    first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    return {first + timedelta(days=n) for n in range(max(0, (last - first).days) + 1)}


def schedule_days(event):
    """Every local day of the event (and any day a delayed session slips into), each with its rooms and the
    sessions starting that day. A day runs from its first start to its last end; an empty day is midnight to
    midnight."""
    tz = ZoneInfo(event.timezone)
    sessions = sorted(published_sessions(event), key=lambda s: (expected_start(s), s.id))

    def local_day(dt):
        return dt.astimezone(tz).date()

    dates = _local_dates(event.starts_at, event.ends_at, tz) | {local_day(expected_start(s)) for s in sessions}
    names = [r.name for r in event.rooms] + ([""] if any(s.room is None for s in sessions) else [])
    days = []
    for index, day in enumerate(sorted(dates), 1):
        on_day = [s for s in sessions if local_day(expected_start(s)) == day]
        midnight = datetime.combine(day, time(), tz)
        starts = [expected_start(s) for s in on_day] + [t for t in [event.starts_at] if local_day(t) == day]
        ends = [expected_end(s) for s in on_day] + [t for t in [event.ends_at] if local_day(t) == day]
        days.append(
            ScheduleDay(
                index,
                day,
                min(starts, default=midnight),
                max(ends, default=midnight + timedelta(1)),
                {name: [s for s in on_day if room_name(s) == name] for name in names},
            )
        )
    return days


def session_slug(event, session):
    """Matches both formats' slug patterns (acronym-…, at least 4 characters after it, ends alphanumeric)."""
    title = slugify(session.title)[:60].strip("-")
    return f"{acronym(event)}-{session.id}-{title if len(title) >= 3 else 'session'}"


def session_record(event, session, base_url):
    """One session as the Fahrplan formats describe it (c3voc field names; the XML writer uses the same)."""
    tz = event.timezone
    start, end = expected_start(session), expected_end(session)
    return {
        "guid": session.guid,
        "id": session.id,
        "date": local_iso(start, tz),
        "start": start.astimezone(ZoneInfo(tz)).strftime("%H:%M"),
        "end": local_iso(end, tz),
        "duration": hhmm(end - start),
        "room": room_name(session),
        "slug": session_slug(event, session),
        "url": f"{base_url}#s{session.id}",
        "title": session.title,
        "subtitle": "",
        # Only one track per session in both formats: the first topic.
        "track": session.topics[0].name if session.topics else None,
        "type": session.kind,
        "language": session.language,
        "abstract": session.abstract,
        "description": "",
        "persons": [
            {"id": sp.id, "guid": stable_guid(event, "speaker", sp.id), "name": sp.name, "role": sp.role}
            for sp in session.speakers
        ],
        "links": [],
        "attachments": [],
    }


def conference_tracks(event):
    return [{"name": t.name, "slug": t.slug} for t in event.topics]


def schedule_version(event):
    return f"rev-{event.revision}"


# ---- c3voc schedule.json -------------------------------------------------------------------------------


def c3voc_json(event):
    """schedule.json as c3voc's schema.json defines it. Persons carry `name` (pretalx style) and, beyond the
    standard, the speaker's `role`, which the importer reads back."""
    base_url = agenda_url(event)
    days = schedule_days(event)

    def person(p):
        return {"id": p["id"], "guid": p["guid"], "name": p["name"], **({"role": p["role"]} if p["role"] else {})}

    def event_entry(session):
        record = session_record(event, session, base_url)
        return {**record, "persons": [person(p) for p in record["persons"]]}

    conference = {
        "acronym": acronym(event),
        "title": event.title,
        "description": event.description,
        "start": days[0].date.isoformat(),
        "end": days[-1].date.isoformat(),
        "daysCount": len(days),
        "timeslot_duration": TIMESLOT,
        "time_zone_name": event.timezone,
        "url": base_url,
        "tracks": [t for t in conference_tracks(event) if re.fullmatch(r"[a-z0-9_-]+[a-z0-9]", t["slug"])],
        "rooms": [{"name": r.name, "slug": r.slug, "guid": stable_guid(event, "room", r.id)} for r in event.rooms],
        "days": [
            {
                "index": day.index,
                "date": day.date.isoformat(),
                "day_start": local_iso(day.start, event.timezone),
                "day_end": local_iso(day.end, event.timezone),
                "rooms": {name: [event_entry(s) for s in sessions] for name, sessions in day.rooms.items()},
            }
            for day in days
        ],
    }
    return {
        "$schema": C3VOC_SCHEMA_URL,
        "generator": {"name": GENERATOR, "version": VERSION},
        "schedule": {"version": schedule_version(event), "base_url": base_url, "conference": conference},
    }


# ---- frab schedule.xml ---------------------------------------------------------------------------------


def _add(parent, tag, text=None, **attributes):
    element = etree.SubElement(parent, tag, {k: str(v) for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = _NOT_XML.sub("", str(text))
    return element


def frab_xml(event):
    """schedule.xml as c3voc's schedule.xml.xsd defines it (same content as c3voc_json, minus the
    speakers' roles, for which the XSD has no place; cancelled sessions are left out, see
    published_sessions)."""
    base_url = agenda_url(event)
    days = schedule_days(event)
    root = etree.Element("schedule")
    _add(root, "generator", name=GENERATOR, version=VERSION)
    _add(root, "url", agenda_url(event, "agenda_pages.frab_xml"))
    _add(root, "version", schedule_version(event))
    conference = _add(root, "conference")
    for tag, text in [
        ("title", event.title),
        ("acronym", acronym(event)),
        ("start", days[0].date.isoformat()),
        ("end", days[-1].date.isoformat()),
        ("days", len(days)),
        ("timeslot_duration", TIMESLOT),
        ("base_url", base_url),
        ("url", base_url),
        ("time_zone_name", event.timezone),
    ]:
        _add(conference, tag, text)
    for track in conference_tracks(event):
        slug_ok = re.fullmatch(r"[a-z][a-z0-9-]+", track["slug"])
        _add(conference, "track", track["name"], name=track["name"], slug=track["slug"] if slug_ok else None)
    for day in days:
        day_element = _add(
            root,
            "day",
            date=day.date.isoformat(),
            index=day.index,
            start=local_iso(day.start, event.timezone),
            end=local_iso(day.end, event.timezone),
        )
        for name, sessions in day.rooms.items():
            room_element = _add(day_element, "room", name=name)
            for session in sessions:
                _add_event_element(room_element, session_record(event, session, base_url))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_event_element(parent, record):
    element = _add(parent, "event", id=record["id"], guid=record["guid"])
    for tag in (
        "date",
        "start",
        "duration",
        "room",
        "slug",
        "url",
        "title",
        "subtitle",
        "track",
        "type",
        "language",
        "abstract",
        "description",
    ):
        _add(element, tag, record[tag] if record[tag] is not None else "")
    persons = _add(element, "persons")
    for person in record["persons"]:
        _add(persons, "person", person["name"], id=person["id"], guid=person["guid"])
    _add(element, "links")
    _add(element, "attachments")


# ---- iCalendar -----------------------------------------------------------------------------------------


def _last_change_at(event):
    return db.session.scalar(select(func.max(Change.created_at)).where(Change.event_id == event.id))


def _ical_description(session, tz):
    parts = [session.abstract.strip()] if session.abstract.strip() else []
    if session.speakers:
        parts.append("\n".join(f"{sp.name}, {sp.role}" if sp.role else sp.name for sp in session.speakers))
    if session.delay_minutes:
        planned = session.planned_start.astimezone(tz).strftime("%H:%M")
        parts.append(f"Verschoben um {session.delay_minutes:+d} min (geplant {planned} Uhr)")
    if session.overrun_minutes > 0:
        parts.append(f"Dauert {session.overrun_minutes} min länger als geplant")
    elif session.overrun_minutes < 0:
        parts.append(f"Endet {-session.overrun_minutes} min früher als geplant")
    if session.status == "cancelled":
        parts.append("Abgesagt.")
    return "\n\n".join(parts)


def ical(event, sessions=None, personal=False):
    """iCalendar for calendar subscriptions: times in the event's zone (with its VTIMEZONE), a UID that stays
    the same across changes and SEQUENCE = the event's revision, so clients update instead of duplicating.
    Cancelled sessions stay in with STATUS:CANCELLED (and say so in the title) so calendars drop or mark
    them rather than keep a stale copy. `sessions`: only these (a guest's starred ones, `personal`)."""
    tz = ZoneInfo(event.timezone)
    base_url = agenda_url(event)
    now = datetime.now(timezone.utc)
    last_change = _last_change_at(event)
    calendar = icalendar.Calendar.new(
        prodid=f"-//{GENERATOR}//Live-Agenda {VERSION}//DE",
        name=f"{event.title} (Merkliste)" if personal else event.title,
        description=event.description or None,
        url=base_url,
        # No UID on the VCALENDAR itself (RFC 7986 allows one): subscription clients such as vdirsyncer
        # split a feed into entries by UID and would take the whole calendar for one entry.
        refresh_interval=timedelta(minutes=15),
    )  # also sets X-WR-CALNAME/-CALDESC
    calendar.pop("UID", None)  # Calendar.new makes one up; see the comment above
    calendar.add("x-wr-timezone", event.timezone)
    calendar.add("x-published-ttl", "PT15M")
    location_suffix = [event.venue] if event.venue else []
    for session in event.sessions if sessions is None else sessions:
        cancelled = session.status == "cancelled"
        vevent = icalendar.Event.new(
            uid=f"{session.guid}@treffpunkt",
            summary=f"Abgesagt: {session.title}" if cancelled else session.title,
            start=expected_start(session).astimezone(tz),
            end=expected_end(session).astimezone(tz),
            location=", ".join(([session.room.name] if session.room else []) + location_suffix) or None,
            description=_ical_description(session, tz) or None,
            categories=[t.name for t in session.topics] or (),  # [] would write an empty CATEGORIES line
            status="CANCELLED" if cancelled else "CONFIRMED",
            sequence=event.revision,
            stamp=now,
            last_modified=last_change,
            url=f"{base_url}#s{session.id}",
        )
        calendar.add_component(vevent)
    # Only the transitions around the event: a VTIMEZONE from 1970 to 2038 would be most of the file.
    first, last = event.starts_at.astimezone(tz).date(), event.ends_at.astimezone(tz).date()
    calendar.add_missing_timezones(first_date=first - timedelta(days=366), last_date=last + timedelta(days=366))
    return calendar.to_ical()
