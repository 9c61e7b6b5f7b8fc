"""Sending live messages. Each message is built once and handed to Socket.IO once per event room; with
SOCKETIO_MESSAGE_QUEUE set, Flask-SocketIO publishes it to every server process."""
from datetime import datetime, timezone

from sqlalchemy import select

from ..extensions import db, socketio
from . import NAMESPACE, room_for

HEARTBEAT_SECONDS = 15


def send_changes(pending):
    for slug, message in pending:
        socketio.emit("change", message, to=room_for(slug), namespace=NAMESPACE)


_heartbeat_started = False


def ensure_heartbeat(app):
    """Start the heartbeat once per server process, with its first live client (so the CLI and tests that
    never serve sockets start none)."""
    global _heartbeat_started
    if not _heartbeat_started and not app.config.get("TESTING"):
        _heartbeat_started = True
        socketio.start_background_task(send_heartbeats, app)


def send_heartbeats(app):
    """Every few seconds each event's current revision goes to its room: a client that lost a message (or
    missed a change made by a process that could not broadcast) sees the gap and asks to resync."""
    from ..agenda.models import Event

    while True:
        socketio.sleep(HEARTBEAT_SECONDS)
        try:
            with app.app_context():
                rows = db.session.execute(select(Event.slug, Event.revision)).all()
                db.session.remove()
            now = datetime.now(timezone.utc).isoformat()
            for slug, revision in rows:
                socketio.emit("heartbeat", {"revision": revision, "server_time": now},
                              to=room_for(slug), namespace=NAMESPACE)
        except Exception:  # a database hiccup must not end the heartbeat for the rest of the day
            app.logger.exception("heartbeat failed")
