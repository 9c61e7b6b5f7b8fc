"""Treffpunkt: live agenda, QR check-in and matchmaking for municipal networking meetings."""
import warnings

from flask import Flask, request
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from . import dbhealth
from .config import INSTANCE, ROOT, Config
from .extensions import babel, compress, csrf, db, login_manager, migrate, socketio

VERSION = "0.1.0"

# Eventlet warns on import that it is in maintenance mode; we know (see docs/deployment.md: gevent is the
# tested alternative) and do not want the warning in every CLI run.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def create_app(config=Config, **overrides):
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(INSTANCE))
    app.config.from_object(config)
    app.config.update(overrides)
    # Socket handlers must be imported before socketio.init_app: Flask-SocketIO keeps decorators applied
    # before init_app for every app it is attached to, but binds later ones to the current server only.
    from .agenda import sockets as agenda_sockets  # noqa: F401
    from .live import sockets as live_sockets  # noqa: F401

    if app.config.get("PROXY_FIX"):
        # Behind Caddy/nginx (docs/https.md): trust one proxy's X-Forwarded-For/-Proto/-Host, so that
        # absolute URLs (ticket and pairing QR codes) say https and the public host name.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    dbhealth.install(app)  # before db.init_app: PostgreSQL timeouts; 503 for an unavailable database
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    from .live import transport

    # The client manager carries SOCKETIO_CHANNEL; for Redis it reconnects quickly and resyncs after an outage.
    socketio.init_app(app, async_mode=app.config["ASYNC_MODE"], message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
                      client_manager=transport.client_manager(app.config),
                      cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
                      max_http_buffer_size=app.config["SOCKETIO_MAX_BUFFER"], ping_interval=20, ping_timeout=20)
    transport.install(app, socketio)  # long-polling body guard, bounded disconnect, sessions per address
    if app.config["LIVE_FAST_SEND"] and socketio.server.async_mode in ("eventlet", "gevent"):
        from .live import fastsend

        fastsend.install()  # one write per recipient for broadcasts (webapp/live/fastsend.py)
    live_sockets.install(socketio.server)  # /live catch-up after the CONNECT acknowledgement

    from . import models  # noqa: F401  (every table known to Alembic and create_all)
    from . import api, cli, security, web
    from .agenda import api as agenda_api, pages as agenda_pages
    from .checkin import api as checkin_api, pages as checkin_pages, staff_guests, staff_scan
    from .matchmaking import api as matchmaking_api, pages as matchmaking_pages
    from .staff import views as staff_views

    for blueprint in (web.bp, agenda_pages.bp, agenda_api.bp, staff_views.bp, checkin_pages.bp, checkin_api.bp,
                      staff_guests.bp, staff_scan.bp, matchmaking_api.bp, matchmaking_pages.bp):
        app.register_blueprint(blueprint)
    # The API checks CSRF itself, for session-authenticated writes only (staff.auth.api_staff).
    csrf.exempt(agenda_api.bp)
    csrf.exempt(checkin_api.bp)
    csrf.exempt(matchmaking_api.bp)  # ticket-token and bearer requests; no cookies involved
    api.install(app)
    from .checkin.stats import arrival_stats
    from .live.broadcast import bind_app, register_stats

    bind_app(app)
    register_stats(arrival_stats)
    web.install(app)
    security.install(app)
    cli.register(app)
    if not app.testing:
        from .checkin import uploads

        uploads.sweep(app)  # guest-list uploads a crash or an abandoned preview left behind
    return app


def select_locale():
    """German unless the visitor chose English (?lang=en is remembered in a cookie by web.install)."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return chosen if chosen in ("de", "en") else "de"


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL lets readers work during a write; busy_timeout makes writers wait instead of failing;
    foreign keys on so cascades hold as on PostgreSQL."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
