"""Socket.IO namespace /live: clients join their event's room and are brought to the current revision.

connect auth: {"event": slug, "since": revision or null}
server -> client: `change` (one revision), `snapshot` (full state), `synced` {revision} after catching up,
                  `heartbeat` {revision, server_time}
client -> server: `sync` {"since": n} (after a gap) and the staff events of the areas (update_session, ...)."""
from datetime import datetime, timezone

from flask import current_app
from flask_socketio import ConnectionRefusedError, emit, join_room, rooms

from ..agenda.models import Event
from ..errors import unstorable
from ..extensions import db, socketio
from . import NAMESPACE, room_for
from .broadcast import connect_stats_message, ensure_heartbeat
from .revisions import change_message, changes_since, snapshot


def _since(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def catch_up(event, since):
    """Send the client what it missed after `since`, or one snapshot; then `synced`."""
    rows = changes_since(event.id, _since(since), current_app.config["LIVE_MAX_REPLAY"])
    if rows is None:
        state = snapshot(event)
        emit("snapshot", state)
        revision = state["revision"]
    else:
        for change in rows:
            emit("change", change_message(change))
        revision = rows[-1].revision if rows else since
    emit("synced", {"revision": revision, "server_time": datetime.now(timezone.utc).isoformat()})


def connected_event_slug():
    """The event whose room this connection joined on connect."""
    prefix = room_for("")
    return next((r[len(prefix):] for r in rooms() if r.startswith(prefix)), None)


def send_stats_to_client(slug):
    """Counters start with the current totals; later `stats` messages come coalesced to the room."""
    message = connect_stats_message(slug)
    if message is not None:
        emit("stats", message)


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth):
    auth = auth if isinstance(auth, dict) else {}
    slug = auth.get("event")
    event = db.session.execute(db.select(Event).filter_by(slug=slug)).scalar_one_or_none() \
        if isinstance(slug, str) and len(slug) <= 64 and not unstorable(slug) else None
    if event is None:
        raise ConnectionRefusedError({"code": "unknown_event", "message": "unknown event"})
    ensure_heartbeat(current_app._get_current_object())
    join_room(room_for(slug))
    catch_up(event, auth.get("since"))
    send_stats_to_client(slug)


@socketio.on("sync", namespace=NAMESPACE)
def on_sync(data):
    """A client saw a gap (a revision more than one ahead): resend from its revision."""
    slug = connected_event_slug()
    event = db.session.execute(db.select(Event).filter_by(slug=slug)).scalar_one_or_none() if slug else None
    if event is None:
        return {"error": {"code": "not_connected", "message": "connect with an event first"}}
    catch_up(event, data.get("since") if isinstance(data, dict) else None)
    return {"ok": True}
