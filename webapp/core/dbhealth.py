"""When the database is unavailable: 503 with Retry-After instead of a 500, one log line per outage, and
recovery without a restart.

"Unavailable" is the database refusing service, not our code failing: SQLAlchemy's OperationalError /
InterfaceError / DisconnectionError / pool TimeoutError whose driver error says so — psycopg's connection
errors (no SQLSTATE, class 08), shutdown and "cannot connect now" (57P01–57P03), insufficient resources
(class 53: disk full, out of memory, too many connections), a cancelled statement (57014, statement_timeout),
a lock not available (55P03), a read-only transaction (25006: default_transaction_read_only, a hot standby),
an I/O error (58030); SQLite's "attempt to write a readonly database", "disk I/O error", "unable to open
database file", "database is locked" (after busy_timeout) and "database or disk is full". Anything else (a
missing table, a constraint, a bad statement) stays a 500 with its traceback: a bug to fix.

What happens on such an error (api.unexpected calls `unavailable_response`):
- the session is rolled back and its connection invalidated, and the pool is disposed: a broken PostgreSQL
  connection or a read-only SQLite connection (SQLite opens a file it cannot write read-only and stays
  so) is never handed out again; the next request opens a fresh one;
- the answer is 503 with Retry-After (RETRY_AFTER seconds): JSON {"error": {"code": "database_unavailable",
  …}} under /api/, a short German page otherwise;
- the log gets ONE warning line (the error's first line, no SQL, no parameters) when the process first
  sees the outage, and ONE info line when it sees the database work again: the first successful write
  (a commit after a flush or an ORM insert/update/delete) or the first successful /healthz probe;
- while an outage is known, every request ends with a pool dispose, so that connections opened during it
  (read-only on SQLite) do not outlive it.

`/healthz` (web.healthz → `health`) runs a cheap probe on a pooled connection (`_probe`): on SQLite a write
inside a transaction that is rolled back (it fails on a read-only file), on PostgreSQL the read-only state
the server would enforce on a write (hot standby, default_transaction_read_only); both fail on any
connection failure, and neither writes anything or needs a table. While an outage is known it disposes the
pool first, so it tests a fresh connection.

PostgreSQL: `install` sets a short connect timeout (DB_CONNECT_TIMEOUT, default 3 s; psycopg's
connect_timeout) and pool timeout (DB_POOL_TIMEOUT, default 5 s) unless the configuration or the URL sets
them, so an outage is answered within seconds, not after SQLAlchemy's 30-s pool timeout.
"""

import logging
import sqlite3
import sys
import threading
import time

from flask import current_app, has_app_context, jsonify, render_template_string, request
from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .extensions import db

RETRY_AFTER = 5  # seconds
EXTENSION = "treffpunkt.dbhealth"
DEFAULT_CONNECT_TIMEOUT = 3
DEFAULT_POOL_TIMEOUT = 5
PROBE_TIMEOUT_MS = 2000

SQLITE_UNAVAILABLE = (
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
    "database is locked",
    "database or disk is full",
)
PG_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "57014", "55P03", "25006", "58030"}
PG_UNAVAILABLE_CLASSES = ("08", "53")

_WROTE = "treffpunkt.dbhealth.wrote"

_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · Treffpunkt{% endblock %}
{% block content %}<h1>{{ title }}</h1><p>{{ text }}</p>{% endblock %}"""

log = logging.getLogger(__name__)


# ---- which errors mean "the database is unavailable" --------------------------------------------------------


def _chain(exc):
    """The error, the driver error it wraps (`orig`) and what it was raised from, a few levels deep."""
    seen, todo = set(), [exc]
    while todo and len(seen) < 8:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [getattr(item, "orig", None), item.__cause__]


def _driver_unavailable(err):
    if isinstance(err, sqlite3.Error):
        message = str(err).lower()
        return isinstance(err, sqlite3.OperationalError) and any(m in message for m in SQLITE_UNAVAILABLE)
    # SQLAlchemy's PostgreSQL dialect loads psycopg; with SQLite it stays unloaded (a restart is 85 ms
    # shorter), and no error can be one of its own.
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(err, psycopg.Error):
        state = getattr(err, "sqlstate", None)
        if isinstance(err, (psycopg.OperationalError, psycopg.InterfaceError)) and state is None:
            return True  # refused, reset, timed out, closed: no server answer to go by
        return bool(state) and (state in PG_UNAVAILABLE_STATES or state.startswith(PG_UNAVAILABLE_CLASSES))
    return False


def is_unavailable(exc):
    """True if `exc` says the database cannot serve right now (see the module docstring); False for errors
    of our own making."""
    for err in _chain(exc):
        if isinstance(err, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
            return True
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return True  # SQLAlchemy's dialect recognised a lost connection
        if _driver_unavailable(err):
            return True
    return False


def first_line(exc):
    """The error's first line (SQLAlchemy puts the statement and its parameters on later lines)."""
    lines = str(exc).strip().splitlines()
    line = (lines[0] if lines else "")[:300]
    return line if line.startswith("(") else f"{type(exc).__name__}: {line}"  # "(psycopg.OperationalError) …"


# ---- the outage state of this process ---------------------------------------------------------------------


class Health:
    """Is an outage known to this process? Logs each change of state once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.down_since = None
        self.refused = 0
        self.suspect = False  # connections of this outage may be broken or read-only (not: the pool was busy)

    @property
    def down(self):
        return self.down_since is not None

    def failed(self, exc, answered=True, suspect=True):
        with self._lock:
            first = self.down_since is None
            if first:
                self.down_since, self.refused, self.suspect = time.monotonic(), 0, False
            self.refused += answered
            self.suspect = self.suspect or suspect
        if first:
            log.warning("database unavailable, answering 503 until it is back: %s", first_line(exc))

    def recovered(self, how):
        with self._lock:
            if self.down_since is None:
                return
            seconds, refused = time.monotonic() - self.down_since, self.refused
            self.down_since = None
        log.info("database available again (%s) after %.1f s; %d requests were answered 503", how, seconds, refused)


def _health(app=None):
    app = app or current_app
    return app.extensions.get(EXTENSION)


def outage_known():
    """Has this process seen the database fail and not yet work again?"""
    state = _health()
    return state is not None and state.down


def _drop_connections(session=True):
    """Roll back, invalidate this request's connection and empty the pool: nothing broken or read-only is
    handed out again."""
    if session:
        try:
            db.session.rollback()
        except Exception:  # the connection is gone already
            pass
        try:
            db.session.invalidate()
        except Exception:
            pass
    try:
        db.engine.dispose()
    except Exception:
        pass


# ---- answers ------------------------------------------------------------------------------------------------


def _with_retry_after(response):
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def unavailable_response(exc):
    """The answer to a request that met an unavailable database (called by api.unexpected)."""
    busy = any(isinstance(err, sa_exc.TimeoutError) for err in _chain(exc))
    if busy:
        # Every pooled connection is busy: the pool is fine. Replacing it would let this process open another
        # pool's worth of connections beside the busy ones (and again at each timeout).
        try:
            db.session.rollback()
        except Exception:
            pass
    else:
        _drop_connections()
    health = _health()
    if health is not None:
        health.failed(exc, suspect=not busy)
    if request.path.startswith("/api/"):
        return _with_retry_after(
            jsonify(
                {
                    "error": {
                        "code": "database_unavailable",
                        "message": f"the database is unavailable; try again in {RETRY_AFTER} s",
                    }
                }
            )
        )
    title = _("Der Dienst ist gerade nicht erreichbar")
    text_ = _(
        "Die Datenbank antwortet im Moment nicht. Bitte versuchen Sie es in %(n)d Sekunden noch einmal.", n=RETRY_AFTER
    )
    try:
        body = render_template_string(_PAGE, title=title, text=text_)
    except Exception:  # the page must not fail in turn: plain text then
        body = f"{title}. {text_}"
    return _with_retry_after(current_app.make_response(body))


def note_unavailable(exc, app):
    """A background task (live counters, heartbeat) met the outage: it is logged once, with everything else
    of this outage, and the pool is emptied as for a request."""
    health = _health(app)
    if health is not None:
        health.failed(exc, answered=False)
    with app.app_context():
        _drop_connections()


class ReadOnly(Exception):
    """The health probe found the database read-only."""


def _probe(conn):
    """Does the database answer, and would it take a write? Writes nothing.

    SQLite: inside a transaction that is rolled back, set user_version to the value it has: that needs the
    write lock and a writable connection (a connection to a file it cannot write was opened read-only and
    fails with "attempt to write a readonly database"); the changed page stays in the page cache and is
    dropped by the rollback (checked: the -wal file and PRAGMA data_version do not change). Waits for another
    writer at most PROBE_TIMEOUT_MS, not the 10-s busy_timeout. No table needed.
    PostgreSQL: SHOW transaction_read_only is "on" when the server would refuse writes (hot standby,
    default_transaction_read_only): the same check an INSERT meets, without a lock or a table."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        if conn.exec_driver_sql("SHOW transaction_read_only").scalar() != "off":
            raise ReadOnly("(postgresql) transaction_read_only is on: the server refuses writes")
        conn.rollback()
        return
    if dialect != "sqlite":  # any other database: that it answers
        conn.exec_driver_sql("SELECT 1")
        conn.rollback()
        return
    version = conn.exec_driver_sql("PRAGMA user_version").scalar()
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {PROBE_TIMEOUT_MS}")
    try:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
    finally:
        conn.rollback()
        conn.exec_driver_sql("PRAGMA busy_timeout = 10000")  # as webapp._sqlite_pragmas sets it
        conn.rollback()


def health():
    """(status, body) for /healthz: 200 {"ok": true, "database": "ok"} or 503 {"ok": false, "database":
    "unavailable"}."""
    state = _health()
    engine = db.engine
    if state is not None and state.down and state.suspect:
        engine.dispose()  # a fresh connection, not one opened during the outage
    try:
        with engine.connect() as conn:
            try:
                _probe(conn)
            except Exception:
                conn.invalidate()
                raise
    except Exception as exc:
        busy = any(isinstance(err, sa_exc.TimeoutError) for err in _chain(exc))
        if state is not None:
            state.failed(exc, answered=False, suspect=not busy)
        if not busy:
            _drop_connections(session=False)
        response = jsonify({"ok": False, "database": "unavailable"})
        return _with_retry_after(response)
    if state is not None:
        state.recovered("health probe")
    response = jsonify({"ok": True, "database": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- wiring -------------------------------------------------------------------------------------------------


def _after_flush(session, flush_context):
    session.info[_WROTE] = True


def _orm_execute(orm_execute_state):
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        orm_execute_state.session.info[_WROTE] = True


def _after_commit(session):
    if session.info.pop(_WROTE, False) and has_app_context():
        state = _health()
        if state is not None and state.down:
            state.recovered("a write succeeded")


def _after_rollback(session, previous_transaction):
    session.info.pop(_WROTE, None)


_LISTENERS = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _orm_execute),
    ("after_commit", _after_commit),
    ("after_soft_rollback", _after_rollback),
)


def _listen():
    """Session events tell when a write succeeded (the outage is over). Once per process."""
    for name, listener in _LISTENERS:
        if not sa_event.contains(Session, name, listener):
            sa_event.listen(Session, name, listener)


def _engine_options(app):
    """PostgreSQL: fail fast when the server is away (connect timeout) or every connection is busy (pool
    timeout). A copy: the config classes' dict is shared by every app made from them."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    try:
        url = make_url(uri)
    except Exception:
        return
    if url.get_backend_name() != "postgresql":
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    if "connect_timeout" not in url.query:
        connect_args.setdefault("connect_timeout", app.config.get("DB_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
    options["connect_args"] = connect_args
    options.setdefault("pool_timeout", app.config.get("DB_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def install(app):
    """Called by create_app BEFORE db.init_app (the engine options must be in place when the engine is made).
    web.errors answers unavailable-database errors through `unavailable_response`; web.pages.healthz uses
    `health`."""
    _engine_options(app)
    _listen()
    app.extensions[EXTENSION] = Health()
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)  # the "available again" line; goes out through Flask's handler

    app.logger  # noqa: B018  (creates Flask's handler, through which this module's lines go out)

    @app.teardown_appcontext
    def drop_outage_connections(exc=None):
        # Registered before Flask-SQLAlchemy's teardown, so it runs after it: the session's connection is back
        # in the pool and goes with it.
        state = app.extensions.get(EXTENSION)
        if state is not None and state.down and state.suspect:
            try:
                db.engine.dispose()
            except Exception:
                pass


def report_loop_failure(app, what, exc):
    """A background loop's failure: a database outage is reported once by webapp.core.dbhealth (not with a
    traceback every few seconds for as long as it lasts); anything else with its traceback."""
    if is_unavailable(exc):
        note_unavailable(exc, app)
    else:
        app.logger.exception(what)
