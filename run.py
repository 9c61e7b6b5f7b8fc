"""Serve Treffpunkt: `python run.py` (what `make run` does). Settings from webapp/core/config.py.

This is the one place that knows the async server: it monkey-patches before anything else is imported,
opens the listening socket (eventlet or gevent) before the app is imported (a restart's returning phones
wait in the queue instead of being refused), raises the open-file limit, eventlet's connection cap and the
listen backlog (reconnect storms), sets eventlet's socket timeout (SERVER_SOCKET_TIMEOUT), writes the
access log (ACCESS_LOG=1, redacted: webapp/live/transport.py), and prints where to point phones and
screens."""

import os
import sys
import warnings

# Eventlet is in maintenance mode and says so on import; gevent is the tested alternative (docs/live.md).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

# Read here, not from the config: the server's library must patch the standard library before anything
# else (the app included) is imported.
ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif ASYNC_MODE != "threading":
    sys.exit(f"ASYNC_MODE must be eventlet, gevent or threading, not {ASYNC_MODE!r}")

import importlib.util  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
from pathlib import Path  # noqa: E402

# The app (webapp, with Flask, SQLAlchemy, Alembic …) is imported in main(), after the listening socket is
# open: see listen().

# Eventlet serves at most this many connections at once and lets the next wait unanswered (its default is
# 1,024). Websockets, requests and the database share one open-file limit, so the cap is what that limit
# allows after FD_RESERVE: with 10,000 phones connected the door's scans and the editor's changes must still
# get in (with a cap of exactly 10,000 the 10,001st connection, an organiser's PATCH, hung).
MAX_CONNECTIONS = 20_000
FD_RESERVE = 512
# Connections the kernel queues before the server accepts them. Eventlet's default of 50 (Flask-SocketIO
# keeps it) drops the SYNs of a reconnect storm: after a Wi-Fi drop 5,000 phones retry within about a
# second, and a dropped SYN waits 1, 3, 7 … s for its retransmission (the bench's reconnect row: 35 s until
# all were back, instead of 13-14 s). Node's default is 511; the kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096
MIN_SOCKET_TIMEOUT = 25.0  # SERVER_SOCKET_TIMEOUT must stay above the 20 s Socket.IO ping interval


def raise_file_limit():
    """Raise the open-file limit towards MAX_CONNECTIONS + FD_RESERVE; returns the connection cap it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + FD_RESERVE
    wanted = min(hard, wanted) if hard != resource.RLIM_INFINITY else wanted
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return max(1024, min(MAX_CONNECTIONS, soft - FD_RESERVE))


def settings():
    """webapp/core/config.py's Config without importing the app: that module reads the environment and
    imports nothing of the app, so it can be loaded on its own before the ~1 s of the app's imports."""
    spec = importlib.util.spec_from_file_location(
        "treffpunkt_settings", Path(__file__).parent / "webapp/core/config.py"
    )
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    return config.Config


def listen(host, port):
    """The listening socket, opened first thing. After a restart (a crash, an update during the day) every
    phone retries about 1 s after losing its connection; with the app still importing, a closed port refused
    them all and each waited for its next back-off step (2–5 s). An open port with a long backlog makes the
    kernel queue them, and they are served once the app is ready."""
    family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    if ASYNC_MODE == "eventlet":
        import eventlet

        return eventlet.listen(address, family, backlog=LISTEN_BACKLOG)
    listener = socket.socket(family, socket.SOCK_STREAM)  # gevent's, once patched
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gevent's own listener
    listener.bind(address)
    listener.listen(LISTEN_BACKLOG)
    return listener


def main():
    max_connections = raise_file_limit()
    listener = None
    if ASYNC_MODE in ("eventlet", "gevent"):
        early = settings()
        listener = listen(early.HOST, early.PORT)

    from sqlalchemy import select

    from webapp import create_app, freeze_startup_objects, start_background_tasks
    from webapp.core.extensions import db, socketio
    from webapp.core.models import Event
    from webapp.core.urls import lan_addresses, startup_lines

    app = create_app(SERVING=True)
    host, port, cert, key = (app.config[k] for k in ("HOST", "PORT", "CERT_FILE", "KEY_FILE"))
    with app.app_context():
        slugs = db.session.execute(select(Event.slug)).scalars().all()
    for line in startup_lines(app.config, slugs, ASYNC_MODE, lan_addresses()):
        print(line, flush=True)
    start_background_tasks(app)
    kwargs = {}
    if cert and key:  # HTTPS on the venue LAN (make cert)
        kwargs.update(certfile=cert, keyfile=key)
    if ASYNC_MODE == "eventlet":
        kwargs["max_size"] = max_connections
        timeout = app.config["SERVER_SOCKET_TIMEOUT"]
        if timeout > 0:  # a silent connection (idle keep-alive, half a request) is closed after this long;
            # live websockets hear a ping every 20 s and answer it, so they are never silent that long
            kwargs["socket_timeout"] = max(timeout, MIN_SOCKET_TIMEOUT)
    if ASYNC_MODE == "threading":  # Werkzeug logs every request line itself (tokens included)
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if app.config["ACCESS_LOG"]:  # our own log, which redacts ticket tokens and pairing codes
        from webapp.live.transport import install_access_log

        install_access_log(app)
    freeze_startup_objects()
    if ASYNC_MODE == "eventlet":
        serve_eventlet(app, listener, cert, key, kwargs)
    elif ASYNC_MODE == "gevent":
        serve_gevent(app, listener, kwargs)
    else:
        socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True, **kwargs)


def serve_eventlet(app, listener, cert, key, kwargs):
    """What socketio.run does for eventlet, on the socket listen() opened (LISTEN_BACKLOG)."""
    import eventlet
    import eventlet.wsgi

    if kwargs.pop("certfile", None):
        kwargs.pop("keyfile", None)
        listener = eventlet.wrap_ssl(listener, certfile=cert, keyfile=key, server_side=True)
    eventlet.wsgi.server(listener, app, log_output=False, **kwargs)


def serve_gevent(app, listener, kwargs):
    """What socketio.run does for gevent (pywsgi with gevent-websocket's handler), on the socket listen()
    opened (LISTEN_BACKLOG; gevent's own default is 128). certfile/keyfile make it wrap each connection."""
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, log=None, **kwargs).serve_forever()


if __name__ == "__main__":
    main()
