"""Live state shared by every area: per-event revisions, the change log, broadcast after commit, coalesced
counters and the Socket.IO namespace `/live` (see docs/live.md). It knows no area: the areas give it their
parts of the snapshot and the counters (`register_snapshot_part`, `register_stats`), and how their kinds of
change read in the change log (`register_change_text`)."""

from ..core.extensions import socketio
from . import change_texts, fastsend, sockets, transport
from .broadcast import bind_app, register_stats  # noqa: F401
from .change_texts import change_kind_label, change_text, register_change_actor, register_change_text  # noqa: F401
from .protocol import NAMESPACE, room_for  # noqa: F401
from .revisions import current_revision, install_listeners, record_change, register_snapshot_part, snapshot, touch_stats  # noqa: F401


def init_app(app):
    """Socket.IO on the app, with our client manager (Redis: quick reconnect and resync), the transport
    guards, the direct write for broadcasts and the /live handlers."""
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        client_manager=transport.client_manager(app.config),
        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
        max_http_buffer_size=app.config["SOCKETIO_MAX_BUFFER"],
        ping_interval=20,
        ping_timeout=20,
    )
    transport.install(app, socketio)  # long-polling body guard, bounded disconnect, sessions per address
    if app.config["LIVE_FAST_SEND"] and socketio.server.async_mode in ("eventlet", "gevent"):
        fastsend.install()  # one write per recipient for broadcasts (webapp/live/fastsend.py)
    sockets.register(app)
    install_listeners()
    bind_app(app)
    change_texts.install(app)
