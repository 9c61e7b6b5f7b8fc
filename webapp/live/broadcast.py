"""Sending live messages. Each message is built once and handed to Socket.IO once per event room; with
SOCKETIO_MESSAGE_QUEUE set, Flask-SocketIO publishes it to every server process."""

import time
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import select

from ..core.dbhealth import report_loop_failure
from ..core.extensions import db, socketio
from ..core.models import Event
from .protocol import NAMESPACE, room_for, stats_room_for

HEARTBEAT_SECONDS = 15
STATS_SECONDS = 0.5  # a burst of scans within this window is one `stats` message
# For a big room the window grows so that the counters cost at most this many sends per second and event:
# at 20 scans/s with 2,000 phones watching, one message a second instead of two (the door's own answer to
# a scan never waits for it).
STATS_SENDS_PER_SECOND = 2000

_stats_builder = None
_stats_dirty = set()
_stats_sent = {}  # slug -> monotonic time of its last `stats` message
_stats_started = False
_app = None
_connect_stats = {}  # slug -> (monotonic time, message): the counters a newly connected client gets
_stats_generation = Counter()  # slug -> number of counter changes seen by this process


def send_changes(pending):
    for slug, message in pending:
        socketio.emit("change", message, to=room_for(slug), namespace=NAMESPACE)


_heartbeat_started = False


def register_stats(build, app=None):
    """The check-in area provides build(slug) -> the full counters of an event (or None)."""
    global _stats_builder
    _stats_builder = build


def bind_app(app):
    global _app
    _app = app


def mark_stats_dirty(slugs):
    """Called after a commit that changed counters. Under test (TESTING) the message goes out at once;
    in a server, a background task sends at most one message per event every STATS_SECONDS."""
    global _stats_started
    for slug in slugs:
        _stats_generation[slug] += 1
        _connect_stats.pop(slug, None)
    if _app is None or _stats_builder is None:
        return
    if _app.config.get("TESTING"):
        for slug in slugs:
            send_stats(slug)
        return
    _stats_dirty.update(slugs)
    if not _stats_started:
        _stats_started = True
        socketio.start_background_task(_stats_loop, _app)


def stats_message(slug):
    return _stats_builder(slug) if _stats_builder is not None else None


def connect_stats_message(slug):
    """The counters for a client that just connected. After a restart thousands of phones connect within
    seconds; they share one computation until the counters change. That is safe in one process, where
    every change passes mark_stats_dirty; changes from the CLI (another process) show after at most
    LIVE_STATS_CACHE_SECONDS. With a message queue other processes change the counters unseen, so each
    connection computes its own."""
    ttl = _app.config["LIVE_STATS_CACHE_SECONDS"] if _app is not None else 0
    if ttl <= 0 or _app.config["SOCKETIO_MESSAGE_QUEUE"]:
        return stats_message(slug)
    now = time.monotonic()
    cached = _connect_stats.get(slug)
    if cached and now - cached[0] < ttl:
        return cached[1]
    generation = _stats_generation[slug]
    message = stats_message(slug)
    if _stats_generation[slug] == generation:  # no change committed while it was being computed
        _connect_stats[slug] = (now, message)
    return message


def send_stats(slug):
    message = stats_message(slug)
    if message is not None:
        socketio.emit("stats", message, to=stats_room_for(slug), namespace=NAMESPACE)


def stats_window(slug):
    """Seconds between two `stats` messages of an event: STATS_SECONDS, longer when more than
    STATS_SENDS_PER_SECOND × STATS_SECONDS clients of this process show its counters."""
    rooms = socketio.server.manager.rooms.get(NAMESPACE, {}) if socketio.server else {}
    return max(STATS_SECONDS, len(rooms.get(stats_room_for(slug), ())) / STATS_SENDS_PER_SECOND)


def due_stats(now):
    """The events whose counters changed and whose window has passed; they count as sent at `now`."""
    slugs = [slug for slug in _stats_dirty if now - _stats_sent.get(slug, float("-inf")) >= stats_window(slug) - 0.01]
    _stats_dirty.difference_update(slugs)
    _stats_sent.update((slug, now) for slug in slugs)
    return slugs


def _stats_loop(app):
    while True:
        socketio.sleep(STATS_SECONDS)
        if not _stats_dirty:
            continue
        slugs = due_stats(time.monotonic())
        if not slugs:
            continue
        try:
            with app.app_context():
                for slug in slugs:
                    send_stats(slug)
                db.session.remove()
        except Exception as exc:
            report_loop_failure(app, "stats broadcast failed", exc)


def ensure_heartbeat(app):
    """Start the heartbeat once per server process, with its first live client (so the CLI and tests that
    never serve sockets start none)."""
    global _heartbeat_started
    if not _heartbeat_started and not app.config.get("TESTING"):
        _heartbeat_started = True
        socketio.start_background_task(send_heartbeats, app)


def send_heartbeat(app, local_only=True):
    """One heartbeat now: each event's current revision to its room, to this process's clients only
    (local_only; used after a message queue outage, webapp/live/transport.py) or through the message queue
    to every process's clients."""
    with app.app_context():
        rows = db.session.execute(select(Event.slug, Event.revision)).all()
        db.session.remove()
    now = datetime.now(timezone.utc).isoformat()
    extra = {"ignore_queue": True} if local_only else {}
    for slug, revision in rows:
        socketio.emit(
            "heartbeat", {"revision": revision, "server_time": now}, to=room_for(slug), namespace=NAMESPACE, **extra
        )


def send_heartbeats(app):
    """Every few seconds each event's current revision goes to its room: a client that lost a message (or
    missed a change made by a process that could not broadcast) sees the gap and asks to resync. Each
    process that serves clients runs this loop for its own clients (not through the message queue: with N
    processes a client would get N heartbeats, and none during a queue outage)."""
    while True:
        socketio.sleep(HEARTBEAT_SECONDS)
        try:
            send_heartbeat(app, local_only=True)
        except Exception as exc:  # a database hiccup must not end the heartbeat for the rest of the day
            report_loop_failure(app, "heartbeat failed", exc)
