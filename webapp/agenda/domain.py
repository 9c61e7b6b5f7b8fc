"""Agenda logic: reading the agenda as JSON and every change to it. Routes, socket handlers, the CLI and
tests call these; each change is one transaction with exactly one new revision (or none if nothing
changed)."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.events import event_json, local_iso
from ..core.extensions import db
from ..core.text import unique_slug
from ..core.validation import (
    aware_time,
    boolean,
    choice,
    field_label,
    of_event,
    refuse_unknown,
    require,
    text,
    whole_number,
)
from ..live import record_change
from .labels import GROUPS
from .models import Announcement, Room, Session, Speaker, Topic
from .signals import programme_changed, programme_changing

MAX_DELAY = 24 * 60
MAX_OVERRUN = 6 * 60  # a session may run over (or end early) by at most six hours
MAX_TITLE = 300
MAX_TEXT = 500


# ---- reading -------------------------------------------------------------------------------------


def session_details():
    """What session_json reads, loaded with the session (an edit reads it before and after the change).
    Built when first needed: loader options configure every mapper, which must not happen at import."""
    return (
        joinedload(Session.room),
        joinedload(Session.planned_room),
        selectinload(Session.speakers),
        selectinload(Session.topics),
    )


def get_session(event, session_id):
    return of_event(
        Session,
        event,
        session_id,
        _l("Diesen Programmpunkt gibt es in dieser Veranstaltung nicht."),
        options=session_details(),
    )


def expected_start(session):
    return session.planned_start + timedelta(minutes=session.delay_minutes)


def expected_end(session):
    """The planned end, moved by the delay (which moves the start too) and by the overrun (the end only)."""
    return session.planned_end + timedelta(minutes=session.delay_minutes + overrun_of(session))


def overrun_of(session):
    """The overrun in minutes (0 for a session not yet flushed, or an import's preview of one)."""
    return getattr(session, "overrun_minutes", 0) or 0


def session_phase(session, now=None):
    """Where a session is at `now`: "upcoming" (before its expected start), "running", "ended" (on the day of
    its end) or "past" (an earlier day: history, such as the demo event)."""
    now = now or utcnow()
    if now < expected_start(session):
        return "upcoming"
    end = expected_end(session)
    if now < end:
        return "running"
    tz = ZoneInfo(session.event.timezone)
    return "ended" if now.astimezone(tz).date() <= end.astimezone(tz).date() else "past"


def started_today(session, now=None):
    """True once a session has begun, for the rest of its day: from then on only its end moves (an overrun);
    a delay would move its start, and the room would look free while it runs."""
    return session_phase(session, now) in ("running", "ended")


def session_json(s):
    tz = s.event.timezone
    return {
        "id": s.id,
        "guid": s.guid,
        "title": s.title,
        "abstract": s.abstract,
        "kind": s.kind,
        "language": s.language,
        "room": s.room.name if s.room else None,
        "planned_room": s.planned_room.name if s.planned_room else None,
        "planned_start": local_iso(s.planned_start, tz),
        "planned_end": local_iso(s.planned_end, tz),
        "start": local_iso(expected_start(s), tz),
        "end": local_iso(expected_end(s), tz),
        "delay_minutes": s.delay_minutes,
        "overrun_minutes": overrun_of(s),
        "status": s.status,
        "speakers": [sp.name for sp in s.speakers],
        "topics": [t.name for t in s.topics],
    }


def announcement_json(a):
    return {
        "id": a.id,
        "text": a.text,
        "severity": a.severity,
        "created_at": local_iso(a.created_at, a.event.timezone),
        "expires_at": local_iso(a.expires_at, a.event.timezone) if a.expires_at else None,
        "withdrawn": a.withdrawn,
    }


def active_announcements(event, now=None):
    now = now or datetime.now(timezone.utc)
    return [a for a in event.announcements if not a.withdrawn and (a.expires_at is None or a.expires_at > now)]


def agenda_json(event):
    """The public agenda (API GET …/agenda and the agenda part of a live snapshot)."""
    return {
        "event": event_json(event),
        "rooms": rooms_part(event),
        "sessions": [session_json(s) for s in event.sessions],
        "announcements": [announcement_json(a) for a in active_announcements(event)],
    }


# ---- validating input ---------------------------------------------------------------------------


def _room(event, name):
    if not isinstance(name, str):
        raise DomainError("invalid", _("„%(field)s“ muss ein Text sein.", field=field_label("room")), field="room")
    room = next((r for r in event.rooms if r.name == name or r.slug == name), None)
    if room is None:
        raise DomainError(
            "unknown_room",
            _(
                "Den Raum „%(name)s“ gibt es in dieser Veranstaltung nicht. Räume: %(rooms)s",
                name=name[:100],
                rooms=", ".join(r.name for r in event.rooms),
            ),
            field="room",
            choices=[r.name for r in event.rooms],
        )
    return room


def _labelled_choice(data, key, group):
    """One of the codes of a label group (kind, status, severity), refused with the labels a person reads."""
    codes, labels = GROUPS[group]
    return choice(data, key, codes, labels)


SESSION_FIELDS = {
    "delay_minutes",
    "overrun_minutes",
    "room",
    "status",
    "title",
    "abstract",
    "kind",
    "planned_start",
    "planned_end",
    "shift_following",
    "language",
    "speakers",
    "topics",
}
SESSION_LANGUAGES = ("de", "en")
LANGUAGE_NAMES = {"de": _l("Deutsch"), "en": _l("Englisch")}


def _language(data):
    if data["language"] not in SESSION_LANGUAGES:
        raise DomainError(
            "invalid",
            _(
                "„%(field)s“ muss einer dieser Werte sein: %(choices)s",
                field=field_label("language"),
                choices=", ".join(str(LANGUAGE_NAMES[c]) for c in SESSION_LANGUAGES),
            ),
            field="language",
            choices=list(SESSION_LANGUAGES),
        )
    return data["language"]


def _named(event_rows, values, key, unknown_message):
    """Rows of the event named in a list (names, or slugs for topics); unknown names are refused with
    `unknown_message` (a lazy text with %(names)s)."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or len(values) > 50:
        raise DomainError(
            "invalid",
            _("„%(field)s“ muss eine Liste von höchstens 50 Namen sein.", field=field_label(key)),
            field=key,
        )
    by_key = {}
    for row in event_rows:
        by_key[row.name.casefold()] = row
        if getattr(row, "slug", None):
            by_key[row.slug] = row
    unknown = [v for v in values if v.strip().casefold() not in by_key]
    if unknown:
        raise DomainError("invalid", unknown_message % {"names": ", ".join(unknown)}, field=key)
    return list(dict.fromkeys(by_key[v.strip().casefold()] for v in values))


def parse_session_fields(event, data, required=()):
    """Check a JSON object of session fields; returns clean values. Unknown keys are refused so a typo
    does not pass silently."""
    refuse_unknown(data, SESSION_FIELDS)
    require(data, required)
    clean = {}
    if "delay_minutes" in data:
        clean["delay_minutes"] = whole_number(data, "delay_minutes", -MAX_DELAY, MAX_DELAY)
    if "overrun_minutes" in data:
        clean["overrun_minutes"] = whole_number(data, "overrun_minutes", -MAX_OVERRUN, MAX_OVERRUN)
    if "room" in data:
        clean["room"] = _room(event, data["room"])
    if "status" in data:
        clean["status"] = _labelled_choice(data, "status", "status")
    if "title" in data:
        clean["title"] = text(data, "title", MAX_TITLE)
    if "abstract" in data:
        clean["abstract"] = text(data, "abstract", 5000, allow_empty=True)
    if "kind" in data:
        clean["kind"] = _labelled_choice(data, "kind", "kind")
    for key in ("planned_start", "planned_end"):
        if key in data:
            clean[key] = aware_time(data, key)
    if "shift_following" in data:
        clean["shift_following"] = boolean(data, "shift_following")
    if "language" in data:
        clean["language"] = _language(data)
    if "speakers" in data:
        clean["speakers"] = _named(
            event.speakers, data["speakers"], "speakers", _l("Diese Mitwirkenden gibt es nicht: %(names)s")
        )
    if "topics" in data:
        clean["topics"] = _named(event.topics, data["topics"], "topics", _l("Diese Themen gibt es nicht: %(names)s"))
    return clean


# ---- changing ------------------------------------------------------------------------------------


def _clock(moment, session):
    """A time of the session in its event's zone, "15:55" (the change log's words)."""
    return moment.astimezone(ZoneInfo(session.event.timezone)).strftime("%H:%M")


def _describe(session, before, kind):
    title = session.title
    if kind == "session.delayed":
        return f"{title}: {session.delay_minutes:+d} min" if session.delay_minutes else f"{title}: wieder pünktlich"
    if kind == "session.overrun":
        end, minutes = _clock(expected_end(session), session), session.overrun_minutes
        if minutes > 0:
            return f"{title}: überzieht um {minutes} min, endet um {end} Uhr"
        if minutes < 0:
            return f"{title}: endet {-minutes} min früher, um {end} Uhr"
        return f"{title}: endet wie geplant um {end} Uhr"
    if kind == "session.moved":
        return f"{title}: {before['room']} → {session.room.name if session.room else '–'}"
    if kind == "session.cancelled":
        return f"{title}: abgesagt"
    if kind == "session.restored":
        return f"{title}: findet wieder statt"
    return f"{title}: geändert"


# session_json's keys as the change log names what was edited (agenda/change_texts.py words them)
_EDITED_FIELDS = {
    "title": "title",
    "abstract": "abstract",
    "kind": "kind",
    "language": "language",
    "planned_start": "time",
    "planned_end": "time",
    "start": "time",
    "end": "time",
    "delay_minutes": "time",
    "overrun_minutes": "time",
    "room": "room",
    "planned_room": "room",
    "speakers": "speakers",
    "topics": "topics",
}


def _facts(before, after, kind, changed, shift):
    """The typed facts of a session's change, for the change log in the reader's language: titles, rooms,
    local times ("15:45"), minutes, and the titles of the following sessions moved with it."""
    facts = {"title": after["title"], "room": after["room"]}
    if kind == "session.delayed":
        facts.update({"from": before["start"][11:16], "to": after["start"][11:16], "minutes": after["delay_minutes"]})
    elif kind == "session.overrun":
        facts.update({"minutes": after["overrun_minutes"], "end": after["end"][11:16]})
    elif kind == "session.moved":
        facts.update({"from": before["room"], "to": after["room"]})
    elif kind == "session.edited":
        facts["fields"] = list(dict.fromkeys(f for k, f in _EDITED_FIELDS.items() if after[k] != before[k]))
        if after["title"] != before["title"]:
            facts["renamed_from"] = before["title"]
    if len(changed) > 1:
        facts.update({"following": [s.title for s in changed[1:]], "shift": shift})
    return facts


def following_in_room(session):
    """Later sessions in the same room on the same local day: what a delay pushes back."""
    tz = ZoneInfo(session.event.timezone)
    day = session.planned_start.astimezone(tz).date()
    return [
        s
        for s in session.event.sessions
        if s.id != session.id
        and s.room_id == session.room_id
        and s.status == "scheduled"
        and s.planned_start >= session.planned_start
        and s.planned_start.astimezone(tz).date() == day
    ]


def _push_following(session, minutes):
    """After `session` ran over by `minutes` more: the later sessions of its room that day that would start
    before its new end move back by as much, one after the other (one pushed into the next pushes that one
    too); a gap in the programme absorbs the overrun. Returns the sessions moved."""
    end = expected_end(session)
    pushed = []
    for other in sorted(following_in_room(session), key=lambda s: (expected_start(s), s.id)):
        if expected_start(other) < end:
            other.delay_minutes = max(-MAX_DELAY, min(MAX_DELAY, other.delay_minutes + minutes))
            pushed.append(other)
            end = max(end, expected_end(other))
    return pushed


def room_overlaps(session):
    """Other scheduled sessions in the same room whose expected times overlap this one's: allowed (an
    organiser may mean it), but the editor says so, and the screens list both."""
    if session.room_id is None or session.status != "scheduled":
        return []
    start, end = expected_start(session), expected_end(session)
    return [
        s
        for s in session.event.sessions
        if s.id != session.id
        and s.room_id == session.room_id
        and s.status == "scheduled"
        and expected_start(s) < end
        and start < expected_end(s)
    ]


def _check_timing(session, fields, now):
    """Refuse what does not fit where the session is at `now`: moving the start of one that has begun today
    (it would look as if it had not begun: the room "free" while it runs), and an overrun of one that has
    not begun."""
    if "delay_minutes" in fields and fields["delay_minutes"] != session.delay_minutes and started_today(session, now):
        overrun = overrun_of(session) + fields["delay_minutes"] - session.delay_minutes
        raise DomainError(
            "session_started",
            _(
                "„%(title)s“ hat um %(time)s Uhr begonnen; eine Verspätung würde den Beginn verschieben. "
                "Für ein späteres Ende bitte „überzieht“ verwenden.",
                title=session.title,
                time=_clock(expected_start(session), session),
            ),
            409,
            field="delay_minutes",
            overrun_minutes=overrun,
        )
    wanted = fields.get("overrun_minutes", overrun_of(session))
    if wanted and wanted != overrun_of(session) and session_phase(session, now) == "upcoming":
        raise DomainError(
            "not_started",
            _(
                "„%(title)s“ hat noch nicht begonnen: Überziehen geht erst, wenn der Programmpunkt läuft. "
                "Eine Verspätung verschiebt ihn.",
                title=session.title,
            ),
            409,
            field="overrun_minutes",
        )


# What a calendar entry shows: a change of one of these raises the session's `sequence`.
CALENDAR_KEYS = ("planned_start", "planned_end", "start", "end", "room", "status")


def _bump_sequence(session):
    session.sequence = (session.sequence or 0) + 1


def update_session(event, session, fields, actor="", now=None, summary=None, details=None):
    """Apply clean fields (from parse_session_fields) to a session. Returns the Change, or None if the
    request changed nothing (then the revision stays). Commits.

    `now` (default: the real time) says whether the session has begun: a delay of one that has begun today
    is refused (`session_started`, 409, naming the overrun that would move its end instead), an overrun of one
    that has not begun too (`not_started`). With `shift_following`, a delay moves the later sessions of the
    room that day by as much, an overrun those that would start before its new end. `summary`: the change
    log's words instead of the generated ones, `details`: facts added to the generated ones."""
    now = now or utcnow()
    shift = fields.pop("shift_following", False)
    _check_timing(session, fields, now)
    before = session_json(session)
    delta = overrun_delta = 0
    if "delay_minutes" in fields:
        delta = fields["delay_minutes"] - session.delay_minutes
        session.delay_minutes = fields["delay_minutes"]
    if "overrun_minutes" in fields:
        overrun_delta = fields["overrun_minutes"] - overrun_of(session)
        session.overrun_minutes = fields["overrun_minutes"]
    if "room" in fields:
        if session.planned_room_id is None:  # the relationship, not the id: session_json reads it next
            session.planned_room = session.room
        session.room = fields["room"]
    for key in (
        "status",
        "title",
        "abstract",
        "kind",
        "language",
        "planned_start",
        "planned_end",
        "speakers",
        "topics",
    ):
        if key in fields:
            setattr(session, key, fields[key])
    if session.planned_end <= session.planned_start:
        db.session.rollback()
        raise DomainError("invalid", _("Das Ende muss nach dem Beginn liegen."), field="planned_end")
    if expected_end(session) <= expected_start(session):
        start = _clock(expected_start(session), session)
        db.session.rollback()
        raise DomainError(
            "invalid",
            _(
                "Das Ende von „%(title)s“ muss nach dem Beginn (%(start)s Uhr) liegen.",
                title=session.title,
                start=start,
            ),
            field="overrun_minutes",
        )
    after = session_json(session)
    if after == before:
        db.session.rollback()
        return None
    if any(after[key] != before[key] for key in CALENDAR_KEYS):
        _bump_sequence(session)
    changed = [session]
    if shift and delta:
        for other in following_in_room(session):
            other.delay_minutes = max(-MAX_DELAY, min(MAX_DELAY, other.delay_minutes + delta))
            changed.append(other)
    if shift and overrun_delta > 0:
        changed += _push_following(session, overrun_delta)
    for other in changed[1:]:
        _bump_sequence(other)
    kind = _change_kind(before, after)
    facts = {**_facts(before, after, kind, changed, overrun_delta or delta), **(details or {})}
    summary = summary or _describe(session, before, kind)
    if len(changed) > 1 and kind == "session.overrun":
        summary += f"; danach im Raum {overrun_delta} min später: " + ", ".join(s.title for s in changed[1:])
    elif len(changed) > 1:
        summary += f" (+{len(changed) - 1} folgende)"
    change = record_change(event, kind, summary, {"sessions": [session_json(s) for s in changed]}, actor, facts)
    db.session.commit()
    return change


def _change_kind(before, after):
    differs = {k for k in after if after[k] != before[k]}
    if "status" in differs:
        return "session.cancelled" if after["status"] == "cancelled" else "session.restored"
    if differs <= {"overrun_minutes", "end"}:
        return "session.overrun"
    if differs <= {"delay_minutes", "start", "end"}:
        return "session.delayed"
    if differs <= {"room", "planned_room"}:
        return "session.moved"
    return "session.edited"


def _overrun_within_bounds(minutes):
    if not -MAX_OVERRUN <= minutes <= MAX_OVERRUN:
        raise DomainError(
            "invalid",
            _(
                "Um mehr als %(minutes)d Minuten kann ein Programmpunkt nicht überziehen oder früher enden.",
                minutes=MAX_OVERRUN,
            ),
            field="overrun_minutes",
        )
    return minutes


def extend_session(event, session, minutes, shift_following=False, actor="", now=None):
    """Runs over +5/+10/+15: a session that has begun ends `minutes` later (earlier if negative), its start
    stays; with `shift_following` the later sessions of its room that would start before the new end move
    back by as much. One live change (`session.overrun`), or None if nothing changed. Commits."""
    overrun = _overrun_within_bounds(overrun_of(session) + minutes)
    fields = {"overrun_minutes": overrun, "shift_following": shift_following}
    return update_session(event, session, fields, actor=actor, now=now)


def end_session_now(event, session, shift_following=False, actor="", now=None):
    """Ends now: the overrun that makes the session's expected end `now`, to the minute. Only for a session
    that has begun today (an ended one may still be running: then it ends now, later than planned). One live
    change, or None if it already ends this minute. Commits."""
    now = now or utcnow()
    phase = session_phase(session, now)
    if phase == "upcoming":
        raise DomainError(
            "not_started",
            _("„%(title)s“ hat noch nicht begonnen und kann daher nicht jetzt enden.", title=session.title),
            409,
        )
    if phase == "past":
        raise DomainError(
            "not_today",
            _("„%(title)s“ war an einem früheren Tag und kann nicht jetzt enden.", title=session.title),
            409,
        )
    end = (now + timedelta(seconds=30)).replace(second=0, microsecond=0)
    without_overrun = session.planned_end + timedelta(minutes=session.delay_minutes)
    overrun = _overrun_within_bounds(round((end - without_overrun).total_seconds() / 60))
    fields = {"overrun_minutes": overrun, "shift_following": shift_following}
    summary = f"{session.title}: beendet um {_clock(end, session)} Uhr"
    return update_session(event, session, fields, actor=actor, now=now, summary=summary, details={"ended": True})


def create_session(event, fields, actor=""):
    """Add a session (title, planned_start, planned_end required; room optional). Commits."""
    require(fields, ("title", "planned_start", "planned_end"))
    if fields["planned_end"] <= fields["planned_start"]:
        raise DomainError("invalid", _("Das Ende muss nach dem Beginn liegen."), field="planned_end")
    session = Session(
        event=event,
        title=fields["title"],
        abstract=fields.get("abstract", ""),
        kind=fields.get("kind", "talk"),
        planned_start=fields["planned_start"],
        planned_end=fields["planned_end"],
        delay_minutes=fields.get("delay_minutes", 0),
        overrun_minutes=fields.get("overrun_minutes", 0),
        status=fields.get("status", "scheduled"),
        room=fields.get("room"),
        language=fields.get("language", "de"),
    )
    if expected_end(session) <= expected_start(session):
        raise DomainError("invalid", _("Das Ende muss nach dem Beginn liegen."), field="overrun_minutes")
    session.speakers = list(fields.get("speakers", ()))
    session.topics = list(fields.get("topics", ()))
    db.session.add(session)
    db.session.flush()
    shown = session_json(session)
    change = record_change(
        event,
        "session.added",
        f"{session.title}: neu im Programm",
        {"sessions": [shown]},
        actor,
        {"title": session.title, "start": shown["start"], "room": shown["room"]},
    )
    db.session.commit()
    return session, change


def parse_announcement(data):
    refuse_unknown(data, {"text", "severity", "expires_at", "expires_in_minutes"})
    require(data, ["text"])
    clean = {"text": text(data, "text", MAX_TEXT), "severity": "info", "expires_at": None}
    if "severity" in data:
        clean["severity"] = _labelled_choice(data, "severity", "severity")
    if "expires_at" in data and data["expires_at"] is not None:
        clean["expires_at"] = aware_time(data, "expires_at")
    if "expires_in_minutes" in data:
        minutes = whole_number(data, "expires_in_minutes", 1, 7 * 24 * 60)
        clean["expires_at"] = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return clean


def add_announcement(event, text, severity="info", expires_at=None, actor=""):
    announcement = Announcement(
        event=event, text=text, severity=severity, expires_at=expires_at, created_at=datetime.now(timezone.utc)
    )
    db.session.add(announcement)
    db.session.flush()
    change = record_change(
        event,
        "announcement.added",
        text[:200],
        {"announcements": [announcement_json(announcement)]},
        actor,
        {"text": text[:200]},
    )
    db.session.commit()
    return announcement, change


def withdraw_announcement(event, announcement_id, actor=""):
    announcement = of_event(Announcement, event, announcement_id, _l("Diese Durchsage gibt es nicht."))
    if announcement.withdrawn:
        return None
    announcement.withdrawn = True
    change = record_change(
        event,
        "announcement.withdrawn",
        announcement.text[:200],
        {"announcements": [announcement_json(announcement)]},
        actor,
        {"text": announcement.text[:200]},
    )
    db.session.commit()
    return change


def event_rooms(event):
    return list(db.session.execute(select(Room).filter_by(event_id=event.id).order_by(Room.position)).scalars())


# ---- setting up: rooms, topics, removing sessions, the next meeting's programme -------------------------

MAX_NAME = 100


def parse_name(data, max_len=MAX_NAME):
    refuse_unknown(data, {"name"})
    require(data, ["name"])
    return text(data, "name", max_len, squash_spaces=True)


def rooms_part(event):
    return [{"name": r.name, "slug": r.slug} for r in event.rooms]


def add_room(event, name, actor=""):
    """A new room at the end of the event's list: one live change (the agenda's rooms). Commits."""
    if any(r.name.casefold() == name.casefold() for r in event.rooms):
        raise DomainError("conflict", _("Einen Raum „%(name)s“ gibt es schon.", name=name), 409, field="name")
    room = Room(
        event=event,
        name=name,
        slug=unique_slug(name, {r.slug for r in event.rooms}, "raum"),
        position=max((r.position for r in event.rooms), default=-1) + 1,
    )
    db.session.add(room)
    db.session.flush()
    change = record_change(
        event, "room.added", f"Neuer Raum: {name}", {"replace": {"rooms": rooms_part(event)}}, actor, {"name": name}
    )
    db.session.commit()
    return room, change


def add_topic(event, name):
    """A new project topic (sessions and the board use it; nothing shows it before then). Commits."""
    if any(t.name.casefold() == name.casefold() for t in event.topics):
        raise DomainError("conflict", _("Ein Thema „%(name)s“ gibt es schon.", name=name), 409, field="name")
    topic = Topic(event=event, name=name, slug=unique_slug(name, {t.slug for t in event.topics}, "thema"))
    db.session.add(topic)
    db.session.commit()
    return topic


def remove_session(event, session, actor=""):
    """Take a session out of the programme: one live change whose `replace` carries the sessions left (phones
    and screens drop it at that revision); the change log says who removed what. Commits."""
    title = session.title
    programme_changing.send(event)  # the board notes its tables first: the delete cascades to them
    db.session.delete(session)
    db.session.flush()
    db.session.expire(event, ["sessions"])
    change = record_change(
        event,
        "session.removed",
        f"{title}: aus dem Programm genommen",  # summaries are stored in German, as every change's
        {"replace": {"sessions": [session_json(s) for s in event.sessions]}},
        actor,
        {"title": title},
    )
    programme_changed.send(event)  # the board re-plans the tables held in that session (same transaction)
    db.session.commit()
    return change


def copy_programme(source, target, with_sessions=False):
    """Into a new event (in the caller's transaction, no revision: nothing is live yet): the rooms and topics
    of `source`, and with `with_sessions` its sessions (with speakers, topics and rooms) moved by whole
    days from the source's first day to the target's. Returns {source topic id: target topic}."""
    with db.session.no_autoflush:  # the new rows refer to each other before they are all added
        rooms = {}
        for room in source.rooms:
            rooms[room.id] = Room(event=target, name=room.name, slug=room.slug, position=room.position)
        topics = {
            t.id: Topic(
                event=target,
                name=t.name,
                slug=t.slug,
                phrase=t.phrase,
                phrase_indefinite=t.phrase_indefinite,
                phrase_en=t.phrase_en,
            )
            for t in source.topics
        }
        db.session.add_all([*rooms.values(), *topics.values()])
        if with_sessions:
            source_tz, target_tz = ZoneInfo(source.timezone), ZoneInfo(target.timezone)
            shift = target.starts_at.astimezone(target_tz).date() - source.starts_at.astimezone(source_tz).date()
            speakers = {}
            for s in source.sessions:
                if s.status == "cancelled":
                    continue  # what did not happen is not planned again
                copy = Session(
                    event=target,
                    title=s.title,
                    abstract=s.abstract,
                    kind=s.kind,
                    language=s.language,
                    room=rooms.get(s.planned_room_id or s.room_id),
                    planned_start=_shift_local(s.planned_start, shift, source_tz, target_tz),
                    planned_end=_shift_local(s.planned_end, shift, source_tz, target_tz),
                )
                for sp in s.speakers:
                    if sp.id not in speakers:
                        speakers[sp.id] = Speaker(event=target, name=sp.name, role=sp.role)
                    copy.speakers.append(speakers[sp.id])
                copy.topics = [topics[t.id] for t in s.topics]
                db.session.add(copy)
        db.session.flush()
        return topics


def _shift_local(moment, days, source_tz, target_tz):
    """The same wall-clock time `days` later, read in the source event's zone and kept in the target's (a
    summer talk at 10:00 stays at 10:00, in Berlin as in London)."""
    local = moment.astimezone(source_tz).replace(tzinfo=None) + days
    return local.replace(tzinfo=target_tz).astimezone(timezone.utc)


def _programme_change(event, kind, summary, actor, rooms=False, commit=True, details=None):
    """One live change whose `replace` carries the sessions (and rooms) as they are now."""
    db.session.flush()
    db.session.expire(event, ["sessions", "rooms"])
    part = {"sessions": [session_json(s) for s in event.sessions]}
    if rooms:
        part["rooms"] = rooms_part(event)
    change = record_change(event, kind, summary, {"replace": part}, actor, details)
    if commit:
        db.session.commit()
    return change


def rename_room(event, room, name, actor=""):
    if any(r.id != room.id and r.name.casefold() == name.casefold() for r in event.rooms):
        raise DomainError("conflict", _("Einen Raum „%(name)s“ gibt es schon.", name=name), 409, field="name")
    old, room.name = room.name, name
    for session in event.sessions:  # their calendar entries name the room
        if session.room_id == room.id:
            _bump_sequence(session)
    return _programme_change(
        event, "room.renamed", f"Raum {old} heißt jetzt {name}", actor, rooms=True, details={"from": old, "to": name}
    )


def move_room(event, room, step, actor=""):
    """One place up (-1) or down (+1) in the event's list (the order of the projector's columns)."""
    rooms = list(event.rooms)
    i = rooms.index(room)
    j = max(0, min(len(rooms) - 1, i + step))
    if i == j:
        return None
    rooms[i], rooms[j] = rooms[j], rooms[i]
    for position, r in enumerate(rooms):
        r.position = position
    return _programme_change(
        event,
        "room.moved",
        f"Reihenfolge der Räume: {room.name}",
        actor,
        rooms=True,
        details={"name": room.name, "step": j - i, "position": j + 1},
    )


def remove_room(event, room, actor=""):
    used = [s for s in event.sessions if room.id in (s.room_id, s.planned_room_id)]
    if used:
        raise DomainError(
            "in_use",
            ngettext(
                "%(room)s wird noch von %(num)d Programmpunkt genutzt; bitte ihn zuerst verlegen.",
                "%(room)s wird noch von %(num)d Programmpunkten genutzt; bitte diese zuerst verlegen.",
                len(used),
                room=room.name,
            ),
            409,
            field="room",
        )
    name = room.name
    db.session.delete(room)
    return _programme_change(event, "room.removed", f"Raum entfernt: {name}", actor, rooms=True, details={"name": name})


def rename_topic(event, topic, name, actor=""):
    if any(t.id != topic.id and t.name.casefold() == name.casefold() for t in event.topics):
        raise DomainError("conflict", _("Ein Thema „%(name)s“ gibt es schon.", name=name), 409, field="name")
    programme_changing.send(event)  # the board shows topic names too
    old, topic.name = topic.name, name
    change = _programme_change(
        event,
        "topic.renamed",
        f"Thema {old} heißt jetzt {name}",
        actor,
        commit=False,
        details={"from": old, "to": name},
    )
    programme_changed.send(event)
    db.session.commit()
    return change


# How the board's sentences name a topic (webapp/matchmaking/sentences.py): German accusative with the
# definite and the indefinite article, and English. Empty = derived from the name.
TOPIC_PHRASES = ("phrase", "phrase_indefinite", "phrase_en")
_ARTICLES = {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "the", "a", "an"}


def parse_topic_phrases(data):
    """The three phrases as typed (each optional, at most 200 characters), ready for inside a sentence:
    spaces squashed, a leading article in lower case ("Die Park App" → "die Park App")."""
    clean = {}
    for key in TOPIC_PHRASES:
        value = text(data, key, 200, allow_empty=True, squash_spaces=True) if key in data else ""
        first, _sep, rest = value.partition(" ")
        clean[key] = f"{first.casefold()} {rest}" if rest and first.casefold() in _ARTICLES else value
    return clean


def set_topic_phrases(event, topic, phrases, actor=""):
    """Set how the board names a topic. The board re-words its sentences: one live change if it shows the
    topic (the board's own, through the programme signals), none otherwise. Commits."""
    programme_changing.send(event)  # the board notes what it shows now
    for key in TOPIC_PHRASES:
        setattr(topic, key, phrases.get(key, ""))
    db.session.flush()
    programme_changed.send(event)
    db.session.commit()


def remove_topic(event, topic, actor=""):
    """Only a topic no session uses; the board's answers on it go with it (one board change if it showed
    any)."""
    used = [s for s in event.sessions if topic in s.topics]
    if used:
        raise DomainError(
            "in_use",
            ngettext(
                "%(num)d Programmpunkt hat dieses Thema noch.",
                "%(num)d Programmpunkte haben dieses Thema noch.",
                len(used),
            ),
            409,
            field="topic",
        )
    programme_changing.send(event)
    db.session.delete(topic)
    db.session.flush()
    db.session.expire(event, ["topics"])
    programme_changed.send(event)
    db.session.commit()


def parse_speaker(data):
    refuse_unknown(data, {"name", "role"})
    require(data, ["name"])
    clean = {"name": text(data, "name", 200, squash_spaces=True)}
    if "role" in data:
        clean["role"] = text(data, "role", 300, allow_empty=True, squash_spaces=True)
    return clean


def add_speaker(event, name, role=""):
    if any(sp.name.casefold() == name.casefold() for sp in event.speakers):
        raise DomainError("conflict", _("%(name)s steht schon in der Liste.", name=name), 409, field="name")
    speaker = Speaker(event=event, name=name, role=role)
    db.session.add(speaker)
    db.session.commit()
    return speaker


def update_speaker(event, speaker, name, role="", actor=""):
    if any(sp.id != speaker.id and sp.name.casefold() == name.casefold() for sp in event.speakers):
        raise DomainError("conflict", _("%(name)s steht schon in der Liste.", name=name), 409, field="name")
    old = speaker.name
    speaker.name, speaker.role = name, role
    if old != name and any(speaker in s.speakers for s in event.sessions):
        return _programme_change(
            event, "speaker.renamed", f"{old} heißt jetzt {name}", actor, details={"from": old, "to": name}
        )
    db.session.commit()
    return None


def remove_speaker(event, speaker, actor=""):
    """A speaker leaves every session they were on (one live change if there were any)."""
    on = [s for s in event.sessions if speaker in s.speakers]
    name = speaker.name
    for session in on:  # in memory too: the change below carries these sessions
        session.speakers.remove(speaker)
    db.session.delete(speaker)
    if on:
        return _programme_change(
            event, "speaker.removed", f"{name} wirkt nicht mehr mit", actor, details={"name": name, "sessions": len(on)}
        )
    db.session.commit()
    return None
