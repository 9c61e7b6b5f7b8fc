"""Socket.IO namespace /live: clients join their event's room and are brought to the current revision.

connect auth: {"event": slug, "since": revision or null, "stats": false (optional: no counters wanted)}
server -> client: `change` (one revision), `snapshot` (full state), `synced` {revision} after catching up,
                  `stats` (counters, unless the client said "stats": false), `heartbeat` {revision, server_time}
client -> server: `sync` {"since": n} (after a gap) and the staff events of the areas (update_session, ...).

Order and resources: the connect handler only checks the event and reads what the client is owed; it
releases its database connection, and the messages go out right after python-socketio has sent the CONNECT
acknowledgement (`install`), so the acknowledgement precedes every event and no handler holds a pooled
connection while it sends (with a message queue a send may wait on Redis). A connection runs one catch-up
at a time and at most SYNC_BURST in a row, then one per 1/SYNC_PER_SECOND seconds: a flood of `sync`
messages costs the server next to nothing (the snapshot is shared per revision, see revisions.snapshot)."""

import time
from datetime import datetime, timezone

from flask import current_app, request
from flask_socketio import ConnectionRefusedError
from sqlalchemy import bindparam, select

from ..core.errors import unstorable
from ..core.extensions import db, socketio
from ..core.models import Event
from .broadcast import connect_stats_message, ensure_heartbeat
from .protocol import NAMESPACE, room_for, stats_room_for
from .revisions import missed_messages, snapshot

SYNC_BURST = 3
SYNC_PER_SECOND = 0.5

_after_connect = {}  # sid -> [(event name, data)] to send once the CONNECT acknowledgement is out
_catching_up = set()  # sids with a catch-up under way
_sync_allowance = {}  # sid -> (syncs allowed now, monotonic time of that reading)


def _since(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def catch_up_messages(head, since):
    """What a client at revision `since` is owed: the changes it missed, or one snapshot; then `synced`.
    `head`: the event's (id, revision) as just read. A client that is up to date (the usual reconnect after a
    Wi-Fi drop) costs no further query; the changes missed since a revision are read once for every client
    coming back from it (revisions.missed_messages); the event's row is loaded only for a snapshot."""
    event_id, current = head
    since = _since(since)
    missed = missed_messages(event_id, since, current_app.config["LIVE_MAX_REPLAY"], current)
    if missed is None:
        state = snapshot(db.session.get(Event, event_id))
        messages = [("snapshot", state)]
        revision = state["revision"]
    else:
        messages = [("change", m) for m in missed]
        revision = missed[-1]["revision"] if missed else since
    messages.append(("synced", {"revision": revision, "server_time": datetime.now(timezone.utc).isoformat()}))
    return messages


def send_to(sid, messages):
    """Send to one connection of this process, not through the message queue (it is ours)."""
    for name, data in messages:
        socketio.server.emit(name, data, to=sid, namespace=NAMESPACE, ignore_queue=True)


def connected_event_slug(sid=None):
    """The event whose room this connection (default: the one whose event is being handled) joined on
    connect."""
    prefix = room_for("")
    joined = socketio.server.rooms(sid or request.sid, namespace=NAMESPACE)
    return next((r[len(prefix) :] for r in joined if r.startswith(prefix)), None)


def _plausible(slug):
    return isinstance(slug, str) and len(slug) <= 64 and not unstorable(slug)


_events = Event.__table__
# Built once: a connect reads only this, on a pooled connection of its own rather than through the ORM
# session (which cost four fifths of the connect handler when 5,000 phones came back at once).
_HEAD = select(_events.c.id, _events.c.revision).where(_events.c.slug == bindparam("slug"))


def _event_head(slug):
    """(id, revision) of the event with this slug, or None: one small query, no ORM object."""
    if not _plausible(slug):
        return None
    with db.engine.connect() as connection:
        return connection.execute(_HEAD, {"slug": slug}).one_or_none()


def _end_read():
    """Give the session's pooled connection back before anything is sent, if the catch-up used the session
    at all (a snapshot or the change log; a client up to date costs none)."""
    if db.session.registry.has():
        db.session.rollback()


def _refuse():
    # CONNECT_ERROR data: {"message": "unknown event", "data": {"code": "unknown_event"}}
    raise ConnectionRefusedError("unknown event", {"code": "unknown_event"})


def on_connect(sid, _environ, auth):
    auth = auth if isinstance(auth, dict) else {}
    slug = auth.get("event")
    if not _plausible(slug):
        _refuse()
    # In the room before the revision is read: a change committed in between reaches this connection as a
    # broadcast, one committed before is in what it reads (with gevent or threads, other work runs here).
    # The counters go only to clients that show them: a phone on the agenda would get one `stats` message a
    # second during a door rush for nothing (venue Wi-Fi, battery, and most of the server's work per scan).
    wants_stats = auth.get("stats") is not False
    rooms_joined = (room_for(slug), stats_room_for(slug)) if wants_stats else (room_for(slug),)
    for room in rooms_joined:
        socketio.server.enter_room(sid, room, namespace=NAMESPACE)
    head = _event_head(slug)
    if head is None:
        for room in rooms_joined:
            socketio.server.leave_room(sid, room, namespace=NAMESPACE)
        _refuse()
    ensure_heartbeat(current_app._get_current_object())
    messages = catch_up_messages(head, auth.get("since"))
    stats = connect_stats_message(slug) if wants_stats else None  # the totals; later ones come coalesced
    if stats is not None:
        messages.append(("stats", stats))
    _end_read()
    _after_connect[sid] = messages


def _allowed(sid):
    allowance, seen = _sync_allowance.get(sid, (SYNC_BURST, time.monotonic()))
    now = time.monotonic()
    allowance = min(SYNC_BURST, allowance + (now - seen) * SYNC_PER_SECOND)
    if allowance < 1:
        _sync_allowance[sid] = (allowance, now)
        return False
    _sync_allowance[sid] = (allowance - 1, now)
    return True


def on_sync(sid, data=None, *_more):
    """A client saw a gap (a revision more than one ahead): resend from its revision."""
    if sid in _catching_up:
        return {"error": {"code": "busy", "message": "a catch-up for this connection is under way"}}
    if not _allowed(sid):
        return {"error": {"code": "rate_limited", "message": "too many sync requests; the next heartbeat will tell"}}
    slug = connected_event_slug(sid)
    head = _event_head(slug) if slug else None
    if head is None:
        return {"error": {"code": "not_connected", "message": "connect with an event first"}}
    _catching_up.add(sid)
    try:
        messages = catch_up_messages(head, data.get("since") if isinstance(data, dict) else None)
        _end_read()
        send_to(sid, messages)
    finally:
        _catching_up.discard(sid)
    return {"ok": True}


def on_disconnect(sid, _reason=None):
    _after_connect.pop(sid, None)
    _sync_allowance.pop(sid, None)
    _catching_up.discard(sid)


def register(app):
    """The namespace's handlers, on the server socketio.init_app just made for `app` (every app gets its
    own).

    These three go to python-socketio directly, with an app context for the database: Flask-SocketIO would
    run each in a request context of its own (the URL matched again, the cookie session copied), which
    showed up in the profile of 5,000 phones coming back at once (docs/performance.md), and none of them
    needs a request or a session. The areas' staff events on /live keep Flask-SocketIO's handlers (they
    need the session)."""
    server = socketio.server

    def in_app_context(handler):
        def handle(*args):
            with app.app_context():
                return handler(*args)

        return handle

    server.on("connect", in_app_context(on_connect), namespace=NAMESPACE)
    server.on("sync", in_app_context(on_sync), namespace=NAMESPACE)
    server.on("disconnect", on_disconnect, namespace=NAMESPACE)
    _acknowledge_first(server)


def _acknowledge_first(server):
    """Send each connection's catch-up right after python-socketio acknowledged its connect.

    python-socketio sends the CONNECT packet only when the connect handler has returned, and has no hook
    for "after the acknowledgement", so its connect step is wrapped here (python-socketio is pinned;
    tests/live/test_protocol_order.py checks the order on the wire)."""
    handle_connect = server._handle_connect

    def connect_then_catch_up(eio_sid, namespace, data):
        handle_connect(eio_sid, namespace, data)
        if namespace != NAMESPACE:
            return
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        messages = _after_connect.pop(sid, None) if sid is not None else None
        if messages and server.manager.is_connected(sid, namespace):
            send_to(sid, messages)

    server._handle_connect = connect_then_catch_up
