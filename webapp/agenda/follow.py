"""Following a schedule URL (pretalx, frab, c3voc): the address per event (`ScheduleFollow`), fetching it
(stdlib urllib, http/https only, 10 s, 8 MiB, conditional requests), and applying only what changed since
the file was last read, each changed session as its own typed live change (session.delayed, .moved,
.cancelled, .restored, .edited, .added, .removed), so phones get exactly those sessions. Pulls come on
demand (the import page, the CLI) and from one background task per server process every
SCHEDULE_FOLLOW_MINUTES while the event runs (from a day before its start to its end).

Also here, because it compares the same things: `preview_plan`, what a whole import (imports.apply_plan)
would create, change and remove, as the import page shows it before anything is written.

What a pull leaves alone: rooms, speakers and topics are only ever added; a session is removed only if it
came from the followed file (one added in the editor stays); a delay, room move or cancellation made in the
editor stays until the file changes that session's time, room or state."""

import hashlib
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.client import HTTPException
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..core.config import VERSION
from ..core.cooperative import paced
from ..core.db import UTCDateTime, utcnow
from ..core.dbhealth import report_loop_failure
from ..core.errors import DomainError
from ..core.events import event_json, get_event, local_iso
from ..core.extensions import db, socketio
from ..core.models import Event
from ..core.text import slugify
from ..live import current_revision, record_change
from .domain import expected_end, expected_start, rooms_part, session_details, session_json
from .imports import ImportError_, apply_plan, describe_problem, parse_schedule, plan_import
from .models import Room, Session, Speaker, Topic
from .signals import programme_changed, programme_changing

TIMEOUT = 10  # seconds for the whole fetch, not only for each read
MAX_BODY = 8 * 1024 * 1024
MAX_URL = 2000
DEFAULT_MINUTES = 5  # between automatic pulls; app.config["SCHEDULE_FOLLOW_MINUTES"]
LOOP_SECONDS = 30  # how often the background task looks for a pull that is due
WINDOW_BEFORE = timedelta(days=1)  # automatic pulls from a day before the event's start to its end
AUTO_ACTOR = "Fahrplan-Abruf"
SEPARATE_REMOVALS = 20  # more removals than this in one pull: one change for all (each would carry the agenda)
RETRIES = 3


class ScheduleFollow(db.Model):
    """The schedule URL an event follows, with what the last fetch said (for conditional requests and to
    see that nothing changed) and what the last pull did (`last_result`: JSON, see `result`)."""

    __tablename__ = "schedule_follow"
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, unique=True)
    url = db.Column(db.String(MAX_URL), nullable=False)
    etag = db.Column(db.String(300), nullable=False, default="")
    last_modified = db.Column(db.String(100), nullable=False, default="")
    body_hash = db.Column(db.String(64), nullable=False, default="")  # sha256 of the last body read
    # JSON {"all": [guid…], "cancelled": [guid…]}: the sessions the last file had, and those it had cancelled
    guids = db.Column(db.Text, nullable=False, default="{}")
    last_checked_at = db.Column(UTCDateTime, nullable=True)
    last_result = db.Column(db.Text, nullable=False, default="{}")
    created_by = db.Column(db.String(120), nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    event = db.relationship("Event", backref=db.backref("schedule_follow", uselist=False, cascade="all, delete-orphan"))

    @property
    def result(self):
        """{"status": "imported"|"applied"|"unchanged"|"error", "changes": n, "code", "detail", "seconds"}."""
        try:
            value = json.loads(self.last_result or "{}")
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}

    def last_file(self):
        """(guids of the sessions the last file had, guids of those it had cancelled)."""
        try:
            value = json.loads(self.guids or "{}")
            return set(value.get("all", ())), set(value.get("cancelled", ()))
        except (AttributeError, TypeError, ValueError):
            return set(), set()


def file_state(plan):
    """What ScheduleFollow.guids keeps of a plan."""
    return json.dumps(
        {
            "all": sorted(s["guid"] for s in plan.sessions),
            "cancelled": sorted(s["guid"] for s in plan.sessions if s.get("status") == "cancelled"),
        }
    )


def follow_of(event):
    return db.session.execute(select(ScheduleFollow).filter_by(event_id=event.id)).scalar_one_or_none()


# ---- fetching -----------------------------------------------------------------------------------------------


def _unreachable(detail):
    sentences = {
        "name": lambda: _("Die Adresse ist nicht erreichbar: Den Namen des Servers gibt es nicht."),
        "refused": lambda: _("Die Adresse ist nicht erreichbar: Der Server nimmt keine Verbindung an."),
        "tls": lambda: _(
            "Die Adresse ist nicht erreichbar: Eine sichere Verbindung (HTTPS) kam nicht zustande, z. B. wegen "
            "eines ungültigen Zertifikats."
        ),
        "broken": lambda: _("Die Verbindung zum Server ist abgebrochen."),
    }
    return sentences[detail]() if detail in sentences else _("Die Adresse ist nicht erreichbar.")


def fetch_error(code, detail=""):
    """What went wrong with a followed or fetched URL (FetchError, ImportError_ or a refused sync; `detail` as
    stored with the last result) as a sentence in the reader's language."""
    sentences = {
        "bad_url": lambda: _(
            "Bitte eine vollständige Adresse angeben, die mit http:// oder https:// beginnt (ohne Benutzername "
            "und Passwort)."
        ),
        "http": lambda: _(
            "Der Server antwortete mit dem Fehler %(status)s statt mit der Datei.",
            status=str(detail).split(" ", 1)[0][:3] or "?",
        ),
        "timeout": lambda: _("Der Server hat nicht innerhalb von %(seconds)s Sekunden geantwortet.", seconds=TIMEOUT),
        "too_large": lambda: _("Die Datei ist größer als 8 MiB."),
        "unreachable": lambda: _unreachable(detail),
        "redirect": lambda: _("Die Adresse leitet auf eine Adresse um, die nicht mit http:// oder https:// beginnt."),
        "invalid_schedule": lambda: describe_problem(detail),
        "busy": lambda: _("Das Programm wurde währenddessen mehrfach geändert; bitte noch einmal abrufen."),
        "not_following": lambda: _("Diese Veranstaltung folgt keiner Adresse."),
    }
    return sentences[code]() if code in sentences else str(detail or "")


class FetchError(DomainError):
    """The URL could not be read. `code`: bad_url, http, timeout, too_large, unreachable, redirect; `detail`
    (technical: the URL, the HTTP status, the kind of network failure) is kept with a followed URL's result;
    the message is the sentence for people (fetch_error)."""

    def __init__(self, code, detail=""):
        self.detail = detail
        super().__init__(code, fetch_error(code, detail), 422)


def check_url(url):
    """An absolute http(s) URL without user name or password (those would be stored in the clear), at most
    MAX_URL characters; returns it stripped, or FetchError("bad_url")."""
    url = url.strip() if isinstance(url, str) else ""
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise FetchError("bad_url", url[:80])
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises ValueError)
    except ValueError:
        raise FetchError("bad_url", url[:80]) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise FetchError("bad_url", url[:80])
    return url


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        try:
            check_url(newurl)
        except FetchError:
            raise FetchError("redirect", newurl[:120]) from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener():
    """Only HTTP and HTTPS (no file:, ftp: or data: handlers, not even through a redirect)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _Redirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


@dataclass
class Fetched:
    body: bytes | None  # None: 304 Not Modified
    etag: str = ""
    last_modified: str = ""
    seconds: float = 0.0

    @property
    def digest(self):
        return hashlib.sha256(self.body).hexdigest() if self.body is not None else ""


def fetch(url, etag="", last_modified="", timeout=TIMEOUT, limit=MAX_BODY):
    """GET the URL (If-None-Match / If-Modified-Since when known). Under eventlet or gevent the socket is the
    server's cooperative one, so a slow schedule server holds up nobody else."""
    url = check_url(url)
    headers = {
        "User-Agent": f"Treffpunkt/{VERSION} (schedule follow)",
        "Accept": "application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    deadline = started + timeout
    try:
        with _opener().open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise FetchError("too_large", f"{int(length)} bytes")
            chunks, size = [], 0
            while chunk := response.read1(64 * 1024):  # what has arrived: a slow drip meets the deadline
                size += len(chunk)
                if size > limit:
                    raise FetchError("too_large", f"more than {limit} bytes")
                if time.monotonic() > deadline:
                    raise FetchError("timeout", timeout)
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                response.headers.get("ETag", "")[:300],
                response.headers.get("Last-Modified", "")[:100],
                time.monotonic() - started,
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            return Fetched(None, etag, last_modified, time.monotonic() - started)
        raise FetchError("http", f"{exc.code} {exc.reason}"[:200]) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FetchError("timeout", timeout) from None
        raise FetchError("unreachable", _network_failure(exc.reason)) from None
    except TimeoutError:
        raise FetchError("timeout", timeout) from None
    except (HTTPException, OSError, ValueError) as exc:
        raise FetchError("unreachable", _network_failure(exc)) from None


def _network_failure(reason):
    """What kind of failure it was (FetchError "unreachable"'s detail): name, refused, tls, broken or other."""
    if isinstance(reason, socket.gaierror):
        return "name"
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, ssl.SSLError):
        return "tls"
    if isinstance(reason, (ConnectionError, HTTPException)):
        return "broken"
    return "other"


# ---- comparing a planned session with the one in the database ----------------------------------------------

DETAILS = ("abstract", "kind", "language", "speakers", "topics")


def _as_planned(session):
    """A session as the file last set it: its planned times and planned room (a delay or move made in the
    editor is on top of that)."""
    room = session.planned_room or session.room
    return {
        "title": session.title,
        "abstract": session.abstract,
        "kind": session.kind,
        "language": session.language,
        "planned_start": session.planned_start,
        "planned_end": session.planned_end,
        "room": room.name if room else None,
        "speakers": sorted(sp.name for sp in session.speakers),
        "topics": sorted(t.slug for t in session.topics),
        "status": session.status,
    }


def _from_file(planned):
    return {
        **{k: planned[k] for k in ("title", "abstract", "kind", "language", "planned_start", "planned_end", "room")},
        "speakers": sorted(planned["speakers"]),
        "topics": [planned["topic"]] if planned["topic"] else [],
        "status": planned.get("status"),
    }


def file_differences(session, planned):
    """The fields (as in _as_planned) in which the followed file now differs from the session; the state
    only where the file has one."""
    before, after = _as_planned(session), _from_file(planned)
    return [k for k in after if after[k] != before[k] and not (k == "status" and after[k] is None)]


def change_kind(differences, status):
    if "status" in differences:
        return "session.cancelled" if status == "cancelled" else "session.restored"
    if set(differences) <= {"planned_start", "planned_end"}:
        return "session.delayed"
    if differences == ["room"]:
        return "session.moved"
    return "session.edited"


def _moment(dt, tz):
    return dt.astimezone(ZoneInfo(tz)).strftime("%d.%m. %H:%M")


def _span_text(start, end, tz):
    local_end = end.astimezone(ZoneInfo(tz))
    same_day = start.astimezone(ZoneInfo(tz)).date() == local_end.date()
    return f"{_moment(start, tz)}–{local_end.strftime('%H:%M') if same_day else _moment(end, tz)}"


FIELD_NAMES = {  # for the German change summaries (stored in German, as every change's)
    "title": "Titel",
    "abstract": "Beschreibung",
    "kind": "Art",
    "language": "Sprache",
    "planned_start": "Zeit",
    "planned_end": "Zeit",
    "room": "Raum",
    "speakers": "Mitwirkende",
    "topics": "Themen",
}


def _summary(kind, before, session, differences, tz):
    title = session.title
    if kind == "session.delayed":
        return f"{title}: {_span_text(before['planned_start'], before['planned_end'], tz)} → " + _span_text(
            session.planned_start, session.planned_end, tz
        )
    if kind == "session.moved":
        return f"{title}: {before['room'] or '–'} → {session.room.name if session.room else '–'}"
    if kind == "session.cancelled":
        return f"{title}: abgesagt"
    if kind == "session.restored":
        return f"{title}: findet wieder statt"
    names = ", ".join(dict.fromkeys(FIELD_NAMES[k] for k in differences if k in FIELD_NAMES))
    return f"{title}: geändert ({names})" if names else f"{title}: geändert"


def _details(kind, before, session, differences, tz):
    """The typed facts of a change from the file, for the change log in the reader's language
    (agenda/change_texts.py): planned times as local ISO times, rooms, what else changed."""
    facts = {"title": session.title}
    if kind == "session.delayed":
        facts["planned_from"] = [local_iso(before["planned_start"], tz), local_iso(before["planned_end"], tz)]
        facts["planned_to"] = [local_iso(session.planned_start, tz), local_iso(session.planned_end, tz)]
    elif kind == "session.moved":
        facts.update({"from": before["room"], "to": session.room.name if session.room else None})
    elif kind == "session.edited":
        fields = ("time" if k.startswith("planned_") else k for k in differences if k in FIELD_NAMES)
        facts["fields"] = list(dict.fromkeys(fields))
        if "title" in differences:
            facts["renamed_from"] = before["title"]
    return facts


# ---- the preview of a whole import --------------------------------------------------------------------------

PREVIEW_LIMIT = 300  # sessions listed per group; the counts are always complete


@dataclass
class Preview:
    """What apply_plan(plan) would do to the event, as plain data (the import page shows it and compares it
    again before writing). `groups[kind][created|changed|removed]`: lists; sessions as dicts."""

    counts: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    event: list = field(default_factory=list)  # [(what, before, after)] of the event's own times
    revision: int = 0

    @property
    def empty(self):
        return not self.event and not any(n for kinds in self.counts.values() for n in kinds.values())

    @property
    def digest(self):
        shown = {"counts": self.counts, "groups": self.groups, "event": self.event}
        return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()


def preview_plan(plan, event):
    """The Preview of an ImportPlan for an existing event: created, changed and removed sessions (with what
    changes: time, room, title, status, details), rooms, speakers and topics; read only, pausing now and then."""
    tz = event.timezone
    preview = Preview(revision=current_revision(event.id))
    sessions = {
        s.id: s
        for s in db.session.execute(
            select(Session).where(Session.event_id == event.id).options(*session_details())
        ).scalars()
    }
    created, changed = [], []
    for planned in paced(plan.sessions):
        if planned["id"] is None:
            created.append(
                {
                    "title": planned["title"],
                    "when": _span_text(planned["planned_start"], planned["planned_end"], tz),
                    "room": planned["room"],
                }
            )
            continue
        session = sessions[planned["id"]]
        what = _visible_changes(session, planned, tz)
        if what:
            changed.append({"id": session.id, "title": session.title, "changes": what})
    removed = [
        {"id": s.id, "title": s.title, "when": _span_text(expected_start(s), expected_end(s), tz)}
        for s in (sessions[i] for i in plan.removed.get(Session, ()))
    ]
    groups = {"sessions": {"created": created, "changed": changed, "removed": removed}}
    groups.update(_named_groups(plan, event))
    preview.counts = {kind: {k: len(v) for k, v in parts.items()} for kind, parts in groups.items()}
    preview.groups = {kind: {k: v[:PREVIEW_LIMIT] for k, v in parts.items()} for kind, parts in groups.items()}
    start, end = plan.span
    if (start, end) != (event.starts_at, event.ends_at):
        preview.event = [["time", _span_text(event.starts_at, event.ends_at, tz), _span_text(start, end, tz)]]
    return preview


def _visible_changes(session, planned, tz):
    """[(what, before, after)] as phones will see it after apply_plan (which also ends a delay, a move or a
    cancellation made in the editor)."""
    what = []
    before = _span_text(expected_start(session), expected_end(session), tz)
    after = _span_text(planned["planned_start"], planned["planned_end"], tz)
    if (expected_start(session), expected_end(session)) != (planned["planned_start"], planned["planned_end"]):
        what.append(["time", before, after])
    room = session.room.name if session.room else None
    if room != planned["room"]:
        what.append(["room", room or "–", planned["room"] or "–"])
    if session.title != planned["title"]:
        what.append(["title", session.title, planned["title"]])
    status = planned.get("status") or "scheduled"
    if session.status != status:
        what.append(["status", session.status, status])
    current, wanted = _as_planned(session), _from_file(planned)
    details = [k for k in DETAILS if current[k] != wanted[k]]
    if details:
        what.append(["details", "", ",".join(details)])
    return what


def _named_groups(plan, event):
    rooms = {r.id: r for r in event.rooms}
    speakers = {sp.id: sp for sp in event.speakers}
    topics = {t.id: t for t in event.topics}
    return {
        "rooms": {
            "created": [r["name"] for r in plan.rooms if r["id"] is None],
            "changed": [r["name"] for r in plan.rooms if r["id"] and rooms[r["id"]].position != r["position"]],
            "removed": [rooms[i].name for i in plan.removed.get(Room, ())],
        },
        "speakers": {
            "created": [sp["name"] for sp in plan.speakers if sp["id"] is None],
            "changed": [sp["name"] for sp in plan.speakers if sp["id"] and speakers[sp["id"]].role != sp["role"]],
            "removed": [speakers[i].name for i in plan.removed.get(Speaker, ())],
        },
        "topics": {
            "created": [t["name"] for t in plan.topics if t["id"] is None],
            "changed": [t["name"] for t in plan.topics if t["id"] and topics[t["id"]].name != t["name"]],
            "removed": [topics[i].name for i in plan.removed.get(Topic, ())],
        },
    }


# ---- applying only what changed -------------------------------------------------------------------------------


@dataclass
class _Work:
    revision: int
    plan: object
    changed: list  # [(session, planned, differences)]
    added: list  # [planned]
    removed: list  # [session]

    @property
    def empty(self):
        return not (self.changed or self.added or self.removed)


def _work_out(event, parsed, last_file):
    """Read only (pausing now and then): what the file changes, compared with the sessions as they are. A
    session the last file had cancelled and this one has without a state is restored."""
    known, cancelled = last_file
    revision = current_revision(event.id)  # first: a change that lands after this makes the write re-plan
    plan = plan_import(event.slug, parsed)
    sessions = {
        s.id: s
        for s in db.session.execute(
            select(Session).where(Session.event_id == event.id).options(*session_details())
        ).scalars()
    }
    changed, added = [], []
    for planned in paced(plan.sessions):
        if planned["id"] is None:
            added.append(planned)
        else:
            if planned.get("status") is None and planned["guid"] in cancelled:
                planned["status"] = "scheduled"
            differences = file_differences(sessions[planned["id"]], planned)
            if differences:
                changed.append((sessions[planned["id"]], planned, differences))
    removed = [sessions[i] for i in plan.removed.get(Session, ()) if sessions[i].guid in known]
    return _Work(revision, plan, changed, added, removed)


def _unique_slug(name, taken, fallback):
    base = slugify(name, fallback)[:96]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _rows_needed(event, work):
    """Rooms, speakers and topics the written sessions need, the missing ones created (flushed, so that their
    ids order the speakers as the database will). Returns (rooms by name, speakers by name, topics by slug,
    whether rooms were created)."""
    wanted = [planned for _, planned, _ in work.changed] + work.added
    rooms = {r.name: r for r in event.rooms}
    taken = {r.slug for r in event.rooms}
    position = max((r.position for r in event.rooms), default=-1)
    created_rooms = False
    for name in dict.fromkeys(p["room"] for p in wanted if p["room"]):
        if name not in rooms:
            position += 1
            rooms[name] = Room(event=event, name=name, slug=_unique_slug(name, taken, "raum"), position=position)
            db.session.add(rooms[name])
            created_rooms = True
    speakers = {}
    for sp in sorted(event.speakers, key=lambda sp: sp.id):
        speakers.setdefault(sp.name, sp)
    roles = {sp["name"]: sp["role"] for sp in work.plan.speakers}
    for name in dict.fromkeys(n for p in wanted for n in p["speakers"]):
        if name not in speakers:
            speakers[name] = Speaker(event=event, name=name, role=roles.get(name, ""))
            db.session.add(speakers[name])
    topics = {t.slug: t for t in event.topics}
    names = {t["slug"]: t["name"] for t in work.plan.topics}
    for slug in dict.fromkeys(p["topic"] for p in wanted if p["topic"]):
        if slug not in topics:
            topics[slug] = Topic(event=event, slug=slug, name=names.get(slug, slug))
            db.session.add(topics[slug])
    db.session.flush()
    return rooms, speakers, topics, created_rooms


def _set_fields(session, planned, differences, rooms, speakers, topics):
    for key in ("title", "abstract", "kind", "language"):
        if key in differences:
            setattr(session, key, planned[key])
    if "planned_start" in differences or "planned_end" in differences:
        session.planned_start, session.planned_end = planned["planned_start"], planned["planned_end"]
        session.delay_minutes = session.overrun_minutes = 0  # the file's new time is the plan now
    if "room" in differences:
        session.room = rooms[planned["room"]] if planned["room"] else None
        session.planned_room = None
    if set(differences) & {"planned_start", "planned_end", "room", "status"}:
        session.sequence += 1
    if "speakers" in differences:
        session.speakers = sorted((speakers[n] for n in planned["speakers"]), key=lambda sp: sp.id)
    if "topics" in differences:
        session.topics = [topics[planned["topic"]]] if planned["topic"] else []
    if "status" in differences:
        session.status = planned["status"]


def _write(event, work, actor):
    """The changes of one pull, in the caller's transaction: one live change per session, in the file's
    order, removals last. The first change also carries the rooms (when some were created) and the event
    (when the file runs beyond its times)."""
    tz = event.timezone
    rooms, speakers, topics, created_rooms = _rows_needed(event, work)
    extra = {}
    if created_rooms:
        db.session.expire(event, ["rooms"])
        extra["rooms"] = rooms_part(event)
    start, end = work.plan.span
    if start < event.starts_at or end > event.ends_at:
        event.starts_at, event.ends_at = min(start, event.starts_at), max(end, event.ends_at)
        extra["event"] = event_json(event)
    changes = []

    def record(kind, summary, payload, details):
        if extra:
            payload["replace"] = {**payload.get("replace", {}), **extra}
            extra.clear()
        changes.append(record_change(event, kind, summary, payload, actor, details))

    order = {p["guid"]: n for n, p in enumerate(work.plan.sessions)}
    writes = [("changed", s, p, d) for s, p, d in work.changed] + [("added", None, p, None) for p in work.added]
    for what, session, planned, differences in sorted(writes, key=lambda w: order[w[2]["guid"]]):
        if what == "changed":
            before, shown = _as_planned(session), session_json(session)
            _set_fields(session, planned, differences, rooms, speakers, topics)
            if session_json(session) == shown:
                continue
            kind = change_kind(differences, session.status)
            record(
                kind,
                _summary(kind, before, session, differences, tz),
                {"sessions": [session_json(session)]},
                _details(kind, before, session, differences, tz),
            )
        else:
            session = Session(
                event=event,
                guid=planned["guid"],
                title=planned["title"],
                abstract=planned["abstract"],
                kind=planned["kind"],
                language=planned["language"],
                planned_start=planned["planned_start"],
                planned_end=planned["planned_end"],
                room=rooms[planned["room"]] if planned["room"] else None,
                status=planned.get("status") or "scheduled",
                delay_minutes=0,
            )
            session.speakers = sorted((speakers[n] for n in planned["speakers"]), key=lambda sp: sp.id)
            session.topics = [topics[planned["topic"]]] if planned["topic"] else []
            db.session.add(session)
            db.session.flush()
            shown = session_json(session)
            facts = {"title": session.title, "start": shown["start"], "room": shown["room"]}
            record("session.added", f"{session.title}: neu im Programm", {"sessions": [shown]}, facts)
    if work.removed:
        _remove(event, work.removed, record)
    return changes


def _remove(event, removed, record):
    """Each removed session is a change whose `replace` carries the sessions left at that revision (more than
    SEPARATE_REMOVALS: one change for all of them, or each would carry the whole agenda)."""
    db.session.flush()
    programme_changing.send(event)  # the board notes its tables first: the delete cascades to them
    db.session.expire(event, ["sessions"])
    gone = {s.id for s in removed}
    staying = [(s.planned_start, s.id, session_json(s)) for s in event.sessions if s.id not in gone]
    leaving = [(s.planned_start, s.id, session_json(s)) for s in removed]
    batches = [[s] for s in removed] if len(removed) <= SEPARATE_REMOVALS else [removed]
    for batch in batches:
        for session in batch:
            db.session.delete(session)
        done = {s.id for s in batch}
        leaving = [item for item in leaving if item[1] not in done]
        left = [payload for *_, payload in sorted(staying + leaving, key=lambda item: item[:2])]
        summary = (
            f"{batch[0].title}: aus dem Programm genommen"
            if len(batch) == 1
            else f"{len(batch)} Programmpunkte aus dem Programm genommen"
        )
        facts = {"title": batch[0].title} if len(batch) == 1 else {"count": len(batch)}
        record("session.removed", summary, {"replace": {"sessions": left}}, facts)
    db.session.flush()
    programme_changed.send(event)  # the board re-plans tables held in those sessions (same transaction)


def _lock(event, revision):
    """Take the event's write lock (PostgreSQL: its row; SQLite: the database) and say whether it is still at
    `revision`, i.e. whether the work out is still right."""
    now = db.session.execute(
        update(Event).where(Event.id == event.id).values(revision=Event.revision).returning(Event.revision),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return now == revision


def sync_schedule(event, parsed, actor="", last_file=(), before_commit=None):
    """Apply to `event` only what `parsed` changes (see the module's description), one typed live change per
    session, in one transaction; `before_commit(plan, changes)` runs inside it. Returns the Changes ([] and no write when
    nothing changed) and the ImportPlan it followed. If the event changes while the work is worked out, it is
    worked out again."""
    last_file = tuple(last_file) or (set(), set())
    for _attempt in range(RETRIES):
        work = _work_out(event, parsed, last_file)
        if work.empty:
            db.session.rollback()
            return [], work.plan
        try:
            if not _lock(event, work.revision):
                db.session.rollback()
                continue
            changes = _write(event, work, actor)
            if before_commit is not None:
                before_commit(work.plan, changes)
            db.session.commit()
            return changes, work.plan
        except Exception:
            db.session.rollback()
            raise
    raise DomainError("busy", fetch_error("busy"), 409)


# ---- following: set up, pull, stop ------------------------------------------------------------------------------


def _result(status, **extra):
    return json.dumps({"status": status, **extra})


def save_follow(event, url, fetched, plan, actor="", result=None):
    """Follow `url` from now on, starting from the file just read (`fetched`, planned as `plan`); in the
    caller's transaction."""
    follow = follow_of(event) or ScheduleFollow(event=event, created_by=actor[:120])
    if follow.id is None:
        db.session.add(follow)
    follow.url = check_url(url)
    follow.etag, follow.last_modified, follow.body_hash = fetched.etag, fetched.last_modified, fetched.digest
    follow.guids = file_state(plan)
    follow.last_checked_at = datetime.now(timezone.utc)
    follow.last_result = result or _result("imported")
    return follow


def follow_url(event, url, actor=""):
    """Read `url`, import it whole (imports.apply_plan: one revision) and follow it (the CLI's `schedule
    follow`; the import page does the same in two steps, with a preview). Returns (follow, counts)."""
    fetched = fetch(url)
    parsed = parse_schedule(fetched.body)
    plan = plan_import(event.slug, parsed)
    _event, counts = apply_plan(plan, actor)
    save_follow(event, url, fetched, plan, actor, _result("imported", changes=counts["sessions"]))
    db.session.commit()
    return follow_of(event), counts


def stop_following(event):
    follow = follow_of(event)
    if follow is not None:
        db.session.delete(follow)
        db.session.commit()
    return follow is not None


def pull(event, actor=AUTO_ACTOR, now=None):
    """Fetch the followed URL once and apply what changed. Never raises for what the URL serves: an HTTP
    error, a timeout or a broken file is recorded as the result and changes nothing else. Returns the result
    (see ScheduleFollow.result); DomainError "not_following" without a follow. `now`: the time recorded as
    checked (the background task's round)."""
    follow = follow_of(event)
    if follow is None:
        raise DomainError("not_following", fetch_error("not_following"), 404)
    follow_id, url, etag, modified, known_hash = (
        follow.id,
        follow.url,
        follow.etag,
        follow.last_modified,
        follow.body_hash,
    )
    last_file = follow.last_file()
    db.session.commit()  # no transaction stays open while the network is asked
    started = time.monotonic()

    def store(status, fetched=None, plan=None, **extra):
        row = db.session.get(ScheduleFollow, follow_id)
        if row is None:  # stopped meanwhile
            return
        row.last_checked_at = now or datetime.now(timezone.utc)
        row.last_result = _result(status, seconds=round(time.monotonic() - started, 3), **extra)
        if fetched is not None:
            row.etag, row.last_modified = fetched.etag, fetched.last_modified
            if fetched.body is not None:
                row.body_hash = fetched.digest
        if plan is not None:
            row.guids = file_state(plan)

    try:
        fetched = fetch(url, etag, modified)
        if fetched.body is None or fetched.digest == known_hash:
            store("unchanged", fetched)
        else:
            changes, plan = sync_schedule(
                event,
                parse_schedule(fetched.body),
                actor,
                last_file,
                before_commit=lambda plan, changes: store("applied", fetched, plan, changes=len(changes)),
            )
            if not changes:
                store("unchanged", fetched, plan)
    except (FetchError, ImportError_, DomainError) as exc:
        db.session.rollback()
        detail = getattr(exc, "detail", None)  # described in the reader's language when shown (fetch_error)
        store("error", code=exc.code, detail=detail if detail is not None else exc.message[:500])
    db.session.commit()
    follow = db.session.get(ScheduleFollow, follow_id)
    return follow.result if follow is not None else {"status": "stopped"}


def pull_due(now=None, minutes=None):
    """One round of the background task: pull each followed event that is running (from a day before its
    start to its end, not archived) and was last checked `minutes` ago or longer. Each pull is claimed first
    (several server processes pull each event once). Returns {slug: result}."""
    now = now or datetime.now(timezone.utc)
    if minutes is None:
        minutes = current_app.config.get("SCHEDULE_FOLLOW_MINUTES", DEFAULT_MINUTES)
    cutoff = now - timedelta(minutes=minutes)
    due = db.session.execute(
        select(ScheduleFollow.id, Event.slug)
        .join(Event, Event.id == ScheduleFollow.event_id)
        .where(
            Event.starts_at <= now + WINDOW_BEFORE,
            Event.ends_at >= now,
            Event.archived.is_(False),
            (ScheduleFollow.last_checked_at.is_(None)) | (ScheduleFollow.last_checked_at <= cutoff),
        )
        .order_by(ScheduleFollow.id)
    ).all()
    db.session.commit()
    results = {}
    for follow_id, slug in due:
        claimed = db.session.execute(
            update(ScheduleFollow)
            .where(
                ScheduleFollow.id == follow_id,
                (ScheduleFollow.last_checked_at.is_(None)) | (ScheduleFollow.last_checked_at <= cutoff),
            )
            .values(last_checked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed:
            results[slug] = pull(get_event(slug), now=now)
    return results


# ---- the background task ---------------------------------------------------------------------------------------


def follow_loop(app):
    """The background task (webapp.start_background_tasks): pulls what is due, for as long as it serves."""
    while True:
        socketio.sleep(LOOP_SECONDS)
        run_once(app)


def run_once(app, now=None):
    """One iteration of the background task, in its own app context; a failure is logged, not raised (the
    task must run on for the rest of the day). Returns {slug: result} of the pulls it made."""
    try:
        with app.app_context():
            try:
                return pull_due(now)
            finally:
                db.session.remove()
    except Exception as exc:
        report_loop_failure(app, "schedule follow failed", exc)
        return {}
