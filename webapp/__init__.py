"""Treffpunkt: live agenda, QR check-in and matchmaking for municipal networking meetings.

`create_app` puts the layers together, bottom up (docs/architecture.md): core, live, staff, the areas
(agenda, checkin, matchmaking), series (event set-up) and report (after the event), privacy, web. Each package's `init_app` registers its own blueprints, CLI
commands, snapshot parts, counters and signal receivers; nothing of that happens at import."""

import gc
import warnings

from flask import Flask

from . import agenda, checkin, demo, live, mail, matchmaking, privacy, report, series, staff, web
from .core import dbhealth
from .core.config import INSTANCE, ROOT, Config, instance_secret_key
from .core.db import install_sqlite_pragmas
from .core.extensions import add_background_task, babel, compress, csrf, db, socketio
from .core.urls import check_public_url, external_url
from .web.headers import select_locale

# Eventlet warns on import that it is in maintenance mode; we know (see docs/deployment.md: gevent is the
# tested alternative) and do not want the warning in every CLI run.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def create_app(config=Config, **overrides):
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE),
    )
    app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key()
    app.config["PUBLIC_URL"] = check_public_url(app.config.get("PUBLIC_URL"))
    app.add_template_global(external_url)
    if app.config.get("PROXY_FIX"):
        # Behind Caddy/nginx (docs/https.md): trust one proxy's X-Forwarded-For/-Proto/-Host, so that
        # absolute URLs (ticket and pairing QR codes) say https and the public host name.
        from werkzeug.middleware.proxy_fix import ProxyFix  # only behind a proxy

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    install_sqlite_pragmas()
    dbhealth.install(app)  # before db.init_app: PostgreSQL timeouts; 503 for an unavailable database
    db.init_app(app)
    init_migrations(app)
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    for layer in (live, mail, staff, agenda, checkin, matchmaking, series, report, privacy, web):
        layer.init_app(app)
    demo.register(app)
    add_background_task(app, collect_by_the_clock)
    return app


_started = set()


def init_migrations(app):
    """`flask db …` (Flask-Migrate on Alembic) for every app but a serving process's (SERVING: run.py, and
    wsgi.py under a WSGI server). That one never migrates (`make run` runs `flask db upgrade` before it),
    and importing Alembic was a quarter of a second of every restart, with the phones waiting."""
    if app.config["SERVING"]:
        return
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def start_background_tasks(app):
    """Start the areas' background tasks once per process (run.py before serving; wsgi.py under a WSGI
    server). Never at create_app: CLI commands and tests make apps that must not pull or send."""
    for task in app.extensions.get("background_tasks", []):
        if task not in _started:
            _started.add(task)
            socketio.start_background_task(task, app)


def collect_by_the_clock(app):
    """The background task that runs the garbage collector's full collections, every
    FULL_COLLECTION_SECONDS, in a serving process (0: Python's own rule).

    Python runs one whenever the objects that survived the younger generations have grown by a quarter.
    Every connection adds such objects, so while 5,000 phones come back after a Wi-Fi drop the heap grows by
    a quarter again and again, and each time the collector walks all connections: a restarted server
    taking 5,000 phones back ran 12 full collections (1.2 s), one that took them, lost them to a Wi-Fi drop
    and took them back 17 (3.6 s; docs/performance.md). By the clock a storm meets at most one; young
    cycles are still collected as Python does, and what reaches the oldest generation waits at most this
    long."""
    young, middle, oldest = gc.get_threshold()
    while (interval := app.config["FULL_COLLECTION_SECONDS"]) > 0:  # set to 0, the task ends (tests)
        gc.set_threshold(young, middle, NEVER)
        socketio.sleep(interval)
        gc.collect()
    gc.set_threshold(young, middle, oldest)


NEVER = 2**31 - 1  # collector threshold: no full collection triggered by allocations


def freeze_startup_objects():
    """Before serving: move everything built so far (the app and the modules it loaded, some 200,000
    objects) out of the garbage collector's reach. Each full collection walked them all, about 0.1 s, a pause
    for every request and phone of the process (a check-in storm's slowest answers); they live as long as
    the process anyway."""
    gc.collect()
    gc.freeze()
