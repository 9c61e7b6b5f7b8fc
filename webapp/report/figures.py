"""The figures of the report after an event, read from the areas' rows and domain functions: arrivals by
municipality and over time, the programme as planned and as it ran (with the change log's times), and the
board's connections, meetings and tables. One function, `event_report`, returns all of it; the page, the
CSV and the PDF only lay it out. How each figure is counted: docs/report.md."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..agenda.domain import expected_start
from ..checkin.guests import sort_key
from ..checkin.models import CheckIn, Guest
from ..core.extensions import db
from ..core.text import compact_key, fold_umlauts
from ..live.models import Change
from ..matchmaking.board import board_json, plan_json
from ..matchmaking.models import STAGES, MeetingRequest

# Arrivals over time: the smallest bucket that keeps the chart at most MAX_BUCKETS bars wide.
BUCKET_CHOICES = (15, 30, 60, 120, 240, 480, 1440)
MAX_BUCKETS = 24
NO_TOWN = ""  # guests who named no town


def utc(moment):
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


# ---- arrivals -------------------------------------------------------------------------------------------


@dataclass
class Town:
    """One row of "arrivals by municipality". `registered` counts everyone who had a place or came (status
    "registered", or checked in whatever the status is now), so that registered = arrived + no_shows."""

    name: str
    kind: str  # host | guest (one of the event's municipalities) | other (a town typed by a guest) | none
    registered: int = 0
    arrived: int = 0
    no_shows: int = 0
    cancelled: int = 0
    waiting: int = 0

    @property
    def rate(self):
        return self.arrived / self.registered if self.registered else None


@dataclass
class Bucket:
    start: datetime  # local time of the event
    arrivals: int
    total: int  # cumulative


@dataclass
class Arrivals:
    towns: list
    total: Town
    buckets: list
    bucket_minutes: int
    arrived_guests: list  # Guest rows with their check-in, by town then name (certificates)
    no_show_guests: list  # Guest rows, by town then name
    first: datetime | None = None
    last: datetime | None = None


def _town_of(guest, municipalities):
    """(name, kind) of a guest's municipality; a typed town that matches one of the event's is that one."""
    if guest.municipality_id in municipalities:
        m = municipalities[guest.municipality_id]
        return m.name, "host" if m.is_host else "guest"
    city = " ".join((guest.city or "").split())
    if not city:
        return NO_TOWN, "none"
    by_key = {compact_key(m.name): m for m in municipalities.values()}
    m = by_key.get(compact_key(city))
    if m is not None:
        return m.name, "host" if m.is_host else "guest"
    return city, "other"


def _bucket_minutes(first, last):
    span = (last - first).total_seconds() / 60
    for minutes in BUCKET_CHOICES:
        if span / minutes < MAX_BUCKETS:
            return minutes
    return BUCKET_CHOICES[-1] * (int(span // (BUCKET_CHOICES[-1] * MAX_BUCKETS)) + 1)


def _floor(moment, minutes):
    """The start of the bucket (local time, aligned to the day) that holds the moment."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    into = int((moment - midnight).total_seconds() // 60)
    return midnight + timedelta(minutes=into - into % minutes) if minutes < 1440 else midnight


def timeline(times, tz):
    """Arrivals per bucket from the first to the last check-in, empty buckets included; (buckets, minutes)."""
    local = sorted(utc(t).astimezone(tz) for t in times)
    if not local:
        return [], BUCKET_CHOICES[0]
    minutes = _bucket_minutes(local[0], local[-1])
    start, end = _floor(local[0], minutes), _floor(local[-1], minutes)
    counts = {}
    for moment in local:
        key = _floor(moment, minutes)
        counts[key] = counts.get(key, 0) + 1
    buckets, total, at = [], 0, start
    while at <= end:
        # Walk in UTC: a bucket across the change from summer time keeps its length.
        total += counts.get(at, 0)
        buckets.append(Bucket(at, counts.get(at, 0), total))
        at = (at.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(tz)
        at = _floor(at, minutes)
    return buckets, minutes


def _town_order(town, positions):
    if town.kind in ("host", "guest"):
        return (0, positions.get(town.name, 0), "")
    if town.kind == "other":
        return (1, 0, fold_umlauts(town.name).casefold())
    return (2, 0, "")


def arrivals(event):
    tz = ZoneInfo(event.timezone)
    municipalities = {m.id: m for m in event.municipalities}
    positions = {m.name: i for i, m in enumerate(event.municipalities)}
    rows = db.session.execute(
        select(Guest, CheckIn).outerjoin(CheckIn, CheckIn.guest_id == Guest.id).where(Guest.event_id == event.id)
    ).all()
    towns = {m.name: Town(m.name, "host" if m.is_host else "guest") for m in event.municipalities}
    arrived, no_shows, times = [], [], []
    for guest, checkin in rows:
        name, kind = _town_of(guest, municipalities)
        town = towns.setdefault(name, Town(name, kind))
        if checkin is not None:
            town.registered += 1
            town.arrived += 1
            arrived.append((guest, checkin, name))
            times.append(checkin.at)
        elif guest.status == "registered":
            town.registered += 1
            town.no_shows += 1
            no_shows.append((guest, None, name))
        elif guest.status == "cancelled":
            town.cancelled += 1
        elif guest.status == "waiting":
            town.waiting += 1
    ordered = sorted(towns.values(), key=lambda t: _town_order(t, positions))
    total = Town("", "total")
    for town in ordered:
        for key in ("registered", "arrived", "no_shows", "cancelled", "waiting"):
            setattr(total, key, getattr(total, key) + getattr(town, key))
    buckets, minutes = timeline(times, tz)
    by_town = {t.name: i for i, t in enumerate(ordered)}

    def people(entries):
        return [g for g, _, _ in sorted(entries, key=lambda e: (by_town[e[2]], sort_key(e[0])))]

    local = sorted(utc(t).astimezone(tz) for t in times)
    return Arrivals(
        towns=ordered,
        total=total,
        buckets=buckets,
        bucket_minutes=minutes,
        arrived_guests=people(arrived),
        no_show_guests=people(no_shows),
        first=local[0] if local else None,
        last=local[-1] if local else None,
    )


# ---- the programme ----------------------------------------------------------------------------------------


@dataclass
class Note:
    """One change of a session from the change log, in the reader's words (kind and what it set)."""

    at: datetime  # local time
    kind: str  # the Change kind, e.g. session.delayed
    delay: int | None = None
    overrun: int | None = None
    room: str | None = None


@dataclass
class SessionRow:
    id: int
    title: str
    kind: str
    planned_start: datetime
    planned_end: datetime
    start: datetime
    end: datetime
    delay: int
    overrun: int
    state: str  # held | cancelled | upcoming
    planned_room: str
    room: str
    notes: list = field(default_factory=list)

    @property
    def moved(self):
        return self.state != "cancelled" and self.planned_room != self.room

    @property
    def delayed(self):
        return self.state != "cancelled" and self.delay > 0

    @property
    def early(self):
        return self.state != "cancelled" and self.delay < 0

    @property
    def overran(self):
        return self.state != "cancelled" and self.overrun > 0

    @property
    def on_time(self):
        return self.state == "held" and self.delay <= 0 and self.overrun <= 0 and not self.moved


@dataclass
class Programme:
    sessions: list
    planned: int
    held: int
    cancelled: int
    upcoming: int
    delayed: int
    early: int
    overran: int
    moved: int
    on_time: int
    delay_minutes: int  # the sum of the delays of the delayed sessions
    max_delay: int
    overrun_minutes: int


def _session_notes(event, tz):
    """{session id: [Note]} from the change log (the changes that carried that session)."""
    notes = {}
    changes = db.session.execute(
        select(Change).where(Change.event_id == event.id, Change.kind.like("session.%")).order_by(Change.revision)
    ).scalars()
    for change in changes:
        for s in (change.payload or {}).get("sessions", []):
            if not isinstance(s, dict) or "id" not in s:
                continue
            notes.setdefault(s["id"], []).append(
                Note(
                    at=utc(change.created_at).astimezone(tz),
                    kind=change.kind,
                    delay=s.get("delay_minutes"),
                    overrun=s.get("overrun_minutes"),
                    room=s.get("room"),
                )
            )
    return notes


def programme(event, now=None):
    now = now or datetime.now(timezone.utc)
    tz = ZoneInfo(event.timezone)
    notes = _session_notes(event, tz)
    rows = []
    for s in event.sessions:
        overrun = getattr(s, "overrun_minutes", 0) or 0
        start = expected_start(s)
        end = s.planned_end + timedelta(minutes=s.delay_minutes + overrun)
        if s.status == "cancelled":
            state = "cancelled"
        else:
            state = "held" if utc(start) <= now else "upcoming"
        room = s.room.name if s.room else ""
        rows.append(
            SessionRow(
                id=s.id,
                title=s.title,
                kind=s.kind,
                planned_start=utc(s.planned_start).astimezone(tz),
                planned_end=utc(s.planned_end).astimezone(tz),
                start=utc(start).astimezone(tz),
                end=utc(end).astimezone(tz),
                delay=s.delay_minutes,
                overrun=overrun,
                state=state,
                planned_room=s.planned_room.name if s.planned_room else room,
                room=room,
                notes=notes.get(s.id, []),
            )
        )
    delayed = [r for r in rows if r.delayed]
    return Programme(
        sessions=rows,
        planned=len(rows),
        held=sum(r.state == "held" for r in rows),
        cancelled=sum(r.state == "cancelled" for r in rows),
        upcoming=sum(r.state == "upcoming" for r in rows),
        delayed=len(delayed),
        early=sum(r.early for r in rows),
        overran=sum(r.overran for r in rows),
        moved=sum(r.moved for r in rows),
        on_time=sum(r.on_time for r in rows),
        delay_minutes=sum(r.delay for r in delayed),
        max_delay=max((r.delay for r in delayed), default=0),
        overrun_minutes=sum(r.overrun for r in rows if r.overran),
    )


# ---- the board --------------------------------------------------------------------------------------------


@dataclass
class Table:
    session: str
    start: datetime
    table: int
    kind: str  # meeting | table
    topic: str
    cities: list
    present: list  # the cities of the table with at least one guest checked in
    took_place: bool
    why_not: str  # "" | cancelled | upcoming | absent


@dataclass
class Board:
    enabled: bool
    municipalities: int  # on the public board (their delegates agreed)
    interests: dict  # stage -> number of stated interests
    matches: list  # [{cities, score, reasons, topics}], strongest first
    requests: dict  # status -> number
    accepted: list  # [{from, to, topic, answered_at, took_place}]
    tables: list  # [Table]

    @property
    def interests_total(self):
        return sum(self.interests.values())

    @property
    def meetings_held(self):
        return sum(t.took_place for t in self.tables if t.kind == "meeting")

    @property
    def tables_held(self):
        return sum(t.took_place for t in self.tables if t.kind == "table")


def board(event, programme_rows, arrivals_figures):
    tz = ZoneInfo(event.timezone)
    if not event.board_enabled:
        return Board(False, 0, dict.fromkeys(STAGES, 0), [], {}, [], [])
    public = board_json(event)
    interests = dict.fromkeys(STAGES, 0)
    for topic in public["topics"]:
        for city in topic["cities"]:
            interests[city["stage"]] = interests.get(city["stage"], 0) + 1
    present = {t.name for t in arrivals_figures.towns if t.arrived}
    states = {r.id: r.state for r in programme_rows}
    tables = []
    for t in plan_json(event):
        here = [c for c in t["cities"] if c in present]
        state = states.get(t["session_id"], "cancelled")
        why_not = "cancelled" if state == "cancelled" else "upcoming" if state == "upcoming" else ""
        if not why_not and len(here) < 2:
            why_not = "absent"
        tables.append(
            Table(
                session=t["session"],
                start=datetime.fromisoformat(t["start"]).astimezone(tz),
                table=t["table"],
                kind=t["kind"],
                topic=t["topic"],
                cities=t["cities"],
                present=here,
                took_place=not why_not,
                why_not=why_not,
            )
        )
    requests = db.session.execute(
        select(MeetingRequest).where(MeetingRequest.event_id == event.id).order_by(MeetingRequest.id)
    ).scalars()
    counts, accepted = {"requested": 0, "accepted": 0, "declined": 0}, []
    for r in requests:
        counts[r.status] = counts.get(r.status, 0) + 1
        if r.status != "accepted":
            continue
        pair = {r.from_municipality.name, r.to_municipality.name}
        held = any(
            t.took_place and t.kind == "meeting" and t.topic == r.topic.name and set(t.cities) == pair for t in tables
        )
        accepted.append(
            {
                "from": r.from_municipality.name,
                "to": r.to_municipality.name,
                "topic": r.topic.name,
                "answered_at": utc(r.answered_at).astimezone(tz) if r.answered_at else None,
                "took_place": held,
            }
        )
    return Board(
        enabled=True,
        municipalities=len(public["municipalities"]),
        interests=interests,
        matches=public["matches"],
        requests=counts,
        accepted=accepted,
        tables=tables,
    )


# ---- all of it ----------------------------------------------------------------------------------------------


@dataclass
class Report:
    event: object
    made_at: datetime  # local time
    arrivals: Arrivals
    programme: Programme
    board: Board


def event_report(event, now=None):
    now = now or datetime.now(timezone.utc)
    arrived = arrivals(event)
    programme_figures = programme(event, now)
    return Report(
        event=event,
        made_at=now.astimezone(ZoneInfo(event.timezone)),
        arrivals=arrived,
        programme=programme_figures,
        board=board(event, programme_figures.sessions, arrived),
    )


def host_place(event):
    """Where a certificate is signed: the host municipality, else the last part of the venue."""
    host = next((m for m in event.municipalities if m.is_host), None)
    if host is not None:
        return host.name
    return event.venue.rsplit(",", 1)[-1].strip() if event.venue else ""
