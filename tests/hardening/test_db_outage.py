"""The database goes away (webapp/dbhealth.py): writes, check-ins and pages answer 503 with Retry-After (JSON
`database_unavailable` under /api/, a German page elsewhere), the log gets one line when the outage starts and
one when it ends (no traceback per request), /healthz says the truth, nothing is half-written, and the server
works again without a restart once the database is back.

- SQLite, a read-only database file under a running eventlet server and a server started on one. The tests run
  as root, for whom chmod stops nothing; `chattr +i` (immutable) stops root too and SQLite meets it as a user
  meets a file it may not write: new connections open the file read-only ("attempt to write a readonly
  database", and they stay read-only when the file is writable again), open ones fail on the commit ("disk
  I/O error"). The -shm file stays writable (SQLite maps it into memory; a write fault on a mapped page of
  an immutable file could end the server with SIGBUS).
- PostgreSQL, two processes sharing Redis, their DATABASE_URL through a TCP proxy that the test cuts in the
  middle of a scan storm and mends again; and a database switched read-only (default_transaction_read_only).
- In-process: which errors count as "unavailable" (and which stay a 500 with a traceback), an exhausted pool,
  a PostgreSQL that accepts the TCP connection and never answers (the connect timeout), and a health probe
  that writes nothing.

Every loop is bounded in count and time; everything talks to 127.0.0.1 only."""

import re
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests

from tests.hardening.conftest import db_path, figure, offline_guests, sql_rows
from tests.helpers import SLUG, import_or_require, require
from tests.server import ServerProcess
from tests.tcp_proxy import TcpProxy

UNAVAILABLE_TEXT = "Der Dienst ist gerade nicht erreichbar"
DOWN_LINE = "database unavailable"
UP_LINE = "database available again"


# ---- helpers --------------------------------------------------------------------------------------------------


def timed(method, url, **kwargs):
    kwargs.setdefault("timeout", 15)
    start = time.monotonic()
    r = requests.request(method, url, **kwargs)
    return r, time.monotonic() - start


def assert_unavailable(r, api=True):
    """A 503 with a small Retry-After; JSON `database_unavailable` under /api/, the German page elsewhere."""
    assert r.status_code == 503, f"{r.request.method} {r.url}: {r.status_code} {r.text[:300]}"
    assert r.headers.get("Retry-After", "").isdigit() and 1 <= int(r.headers["Retry-After"]) <= 30, r.headers
    if api:
        body = r.json()
        assert body["error"]["code"] == "database_unavailable" and body["error"]["message"], body
    else:
        assert r.headers["Content-Type"].startswith("text/html") and UNAVAILABLE_TEXT in r.text, r.text[:300]


def assert_health(server, ok):
    r = requests.get(f"{server.base_url}/healthz", timeout=10)
    if ok:
        assert r.status_code == 200 and r.json() == {"ok": True, "database": "ok"}, (r.status_code, r.text)
    else:
        assert r.status_code == 503 and r.json() == {"ok": False, "database": "unavailable"}, (r.status_code, r.text)
        assert r.headers.get("Retry-After", "").isdigit(), r.headers


def check_in(server, code, nonce, session=None):
    return (session or requests).post(
        f"{server.base_url}/api/v1/events/{SLUG}/checkins",
        json={"code": code, "nonce": nonce},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=15,
    )


def patch_session(server, minutes, session_id=2):
    return timed(
        "PATCH",
        f"{server.base_url}/api/v1/events/{SLUG}/sessions/{session_id}",
        json={"delay_minutes": minutes},
        headers={"Authorization": f"Bearer {server.token}"},
    )


def register(server, name):
    """The public registration form: GET (for its CSRF token), then POST. Returns the POST's answer."""
    from tests.security.conftest import csrf_of

    browser = requests.Session()
    form = browser.get(f"{server.base_url}/e/{SLUG}/register", timeout=10)
    assert form.status_code == 200, form.status_code
    r = browser.post(
        f"{server.base_url}/e/{SLUG}/register",
        allow_redirects=False,
        timeout=15,
        data={"name": name, "municipality": "Trier", "consent": "y", "csrf_token": csrf_of(form.text)},
    )
    browser.close()
    return r


def log_offset(server):
    return server.log_path.stat().st_size if server.log_path.exists() else 0


BANNER = re.compile(
    r"^(Treffpunkt on |  (phones|projector|staff|e-mail|on the network|links and QR codes):? )"
)  # run.py's start banner


def log_since(server, offset):
    """The server's log lines after `offset`, without run.py's start banner."""
    with open(server.log_path, "rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", "replace").splitlines()
    return [line for line in lines if not BANNER.match(line)]


def log_records(lines):
    """Log lines grouped into records: a record starts with Flask's "[time] LEVEL in module: …" line and
    holds the lines after it (a traceback)."""
    records = []
    for line in lines:
        if line.startswith("[") or not records:
            records.append([line])
        else:
            records[-1].append(line)
    return records


# The /live background loops (webapp/live/broadcast.py: stats and heartbeat) report an outage through
# dbhealth like requests do (no traceback per run of the loop); any other failure of theirs logs these.
BACKGROUND = ("stats broadcast failed", "heartbeat failed")


def assert_outage_logged_once(lines, what, background=0):
    """One warning when the outage starts, one info line when it ends; no traceback from request handling;
    a handful of lines. `background`: how many failure records of the live background loops are tolerated."""
    records = log_records(lines)
    shown = "\n".join(lines[:60])
    down = [r for r in records if DOWN_LINE in r[0]]
    up = [r for r in records if UP_LINE in r[0]]
    loops = [r for r in records if any(b in r[0] for b in BACKGROUND)]
    others = [r for r in records if r not in down + up + loops]
    assert len(down) == 1 and len(up) == 1, f"{what}: want one down and one up line, got:\n{shown}"
    assert all(len(r) == 1 for r in down + up), f"{what}: a traceback with the outage lines:\n{shown}"
    assert not others, f"{what}: other log lines during the outage:\n{shown}"
    assert len(loops) <= background, f"{what}: {len(loops)} background-loop failures logged:\n{shown}"
    return loops


def start_answering(server, timeout=30):
    """Like ServerProcess.start, but ready as soon as /healthz answers at all (it says 503 on a read-only
    database, and ServerProcess.start waits for a 200)."""
    server.log = open(server.log_path, "ab")
    command, cwd = server.command()
    server.proc = subprocess.Popen(
        command, cwd=cwd, env=server.env, stdout=server.log, stderr=subprocess.STDOUT, start_new_session=True
    )
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited: {server.log_path.read_text()[-3000:]}")
        try:
            requests.get(server.base_url + "/healthz", timeout=1)
            return server
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start: {server.log_path.read_text()[-3000:]}")


def chattr(flag, *paths):
    try:
        return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return subprocess.CompletedProcess(["chattr"], 127, "", "chattr is not installed (e2fsprogs)")


@contextmanager
def immutable(*paths):
    """The files cannot be written, not even by root, until the block ends (chattr +i; skips where the
    filesystem or the container does not allow it)."""
    done = chattr("+i", *paths)
    if done.returncode:
        chattr("-i", *paths)
        require("REQUIRE_SERVICES", "an immutable database file (chattr +i)")(
            f"cannot make the database file read-only for root here (chattr +i: {done.stderr.strip()})"
        )
    try:
        yield
    finally:
        assert chattr("-i", *paths).returncode == 0


# ---- in-process: which errors mean "unavailable" ---------------------------------------------------------------


def test_unavailable_errors_are_told_from_programming_errors():
    psycopg = import_or_require("psycopg", "REQUIRE_SERVICES", "PostgreSQL's driver")
    from sqlalchemy import exc

    from webapp.core.dbhealth import is_unavailable

    def wrapped(err, cls=exc.OperationalError):
        return cls("SELECT 1", {}, err)

    unavailable = [
        wrapped(sqlite3.OperationalError("attempt to write a readonly database")),
        wrapped(sqlite3.OperationalError("disk I/O error")),
        wrapped(sqlite3.OperationalError("unable to open database file")),
        wrapped(sqlite3.OperationalError("database is locked")),
        wrapped(sqlite3.OperationalError("database or disk is full")),
        wrapped(psycopg.OperationalError("connection failed: Connection refused")),
        wrapped(psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")),
        wrapped(psycopg.InterfaceError("the connection is closed"), exc.InterfaceError),
        wrapped(psycopg.errors.lookup("25006")("cannot execute UPDATE in a read-only transaction"), exc.InternalError),
        wrapped(psycopg.errors.lookup("57P01")("terminating connection due to administrator command")),
        wrapped(psycopg.errors.lookup("57P03")("the database system is starting up")),
        wrapped(psycopg.errors.lookup("53300")("too many connections for role")),
        wrapped(psycopg.errors.lookup("53100")("could not extend file: No space left on device")),
        exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached, connection timed out"),
        exc.DisconnectionError("connection was invalidated"),
        psycopg.OperationalError("connection failed"),  # unwrapped, from code using the driver directly
    ]
    programming = [
        wrapped(sqlite3.OperationalError("no such table: nothing")),
        wrapped(sqlite3.OperationalError('near "SELEKT": syntax error')),
        wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: check_in.guest_id"), exc.IntegrityError),
        wrapped(sqlite3.InterfaceError("Error binding parameter 1"), exc.InterfaceError),
        wrapped(psycopg.errors.lookup("42P01")('relation "nothing" does not exist'), exc.ProgrammingError),
        wrapped(psycopg.errors.lookup("54000")("index row size exceeds btree maximum"), exc.OperationalError),
        wrapped(psycopg.errors.lookup("40P01")("deadlock detected"), exc.OperationalError),
        wrapped(psycopg.errors.lookup("23505")("duplicate key value"), exc.IntegrityError),
        exc.ArgumentError("bad argument"),
        ValueError("not the database"),
    ]
    assert [e for e in unavailable if not is_unavailable(e)] == []
    assert [e for e in programming if is_unavailable(e)] == []


def test_a_programming_error_stays_a_500_with_its_traceback(app, caplog):
    """Not every OperationalError is an outage: a missing table is a bug and must be seen as one."""
    from sqlalchemy import text

    from webapp import create_app
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    bug = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])

    @bug.get("/api/v1/bug")
    def buggy():
        return {"n": db.session.execute(text("SELECT * FROM no_such_table")).scalar()}

    with caplog.at_level("INFO"):
        r = bug.test_client().get("/api/v1/bug")
    assert r.status_code == 500 and r.json["error"]["code"] == "server_error"
    assert "Retry-After" not in r.headers
    assert any(rec.exc_info and "no such table" in str(rec.exc_info[1]) for rec in caplog.records)
    assert not any(DOWN_LINE in rec.getMessage() for rec in caplog.records)


def test_an_exhausted_pool_answers_503_at_the_pool_timeout(app, caplog):
    """Every pooled connection busy (what the /live connect storm did): 503 + Retry-After after the pool
    timeout (and the pool is kept: a busy pool is not a broken one, and replacing it would open more
    connections than it allows), one log line, and the next request once a connection is free works."""
    from webapp import create_app
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    small = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1},
    )
    client = small.test_client()
    with caplog.at_level("INFO", logger="webapp.core.dbhealth"):
        with small.app_context():
            held = db.engine.connect()  # the pool's only connection
            try:
                start = time.monotonic()
                r = client.get(f"/api/v1/events/{SLUG}/agenda")
                waited = time.monotonic() - start
                page = client.get(f"/e/{SLUG}/")
            finally:
                held.close()
        assert_unavailable_response(r)
        assert page.status_code == 503 and UNAVAILABLE_TEXT in page.get_data(as_text=True)
        assert 0.9 < waited < 3
        assert client.get("/healthz").status_code == 200
        assert client.get(f"/api/v1/events/{SLUG}/agenda").status_code == 200
    messages = [rec.getMessage() for rec in caplog.records if rec.name == "webapp.core.dbhealth"]
    assert (
        len(messages) == 2 and DOWN_LINE in messages[0] and "TimeoutError" in messages[0] and UP_LINE in messages[1]
    ), messages
    with small.app_context():
        db.engine.dispose()


def assert_unavailable_response(r):
    """assert_unavailable for a Flask test client response."""
    assert r.status_code == 503, r.status_code
    assert r.headers["Retry-After"].isdigit()
    assert r.json["error"]["code"] == "database_unavailable"


def test_a_silent_postgresql_answers_503_within_the_connect_timeout(caplog):
    """A server that takes the TCP connection and never answers (a hung host, a half-open firewall): without
    a connect timeout every request would hang. With dbhealth's default (3 s) the answer is a 503."""
    import_or_require("psycopg", "REQUIRE_SERVICES", "PostgreSQL's driver")
    from webapp import create_app
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        port = silent.getsockname()[1]
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"postgresql://postgres@127.0.0.1:{port}/none")
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["connect_timeout"] == 3
        client = app.test_client()
        start = time.monotonic()
        health = client.get("/healthz")
        r = client.get(f"/api/v1/events/{SLUG}/agenda")
        took = time.monotonic() - start
        assert health.status_code == 503 and health.json == {"ok": False, "database": "unavailable"}
        assert_unavailable_response(r)
        assert took < 12, f"two requests took {took:.1f} s"
        with app.app_context():
            db.engine.dispose()
    finally:
        silent.close()
    figure(
        "silent postgresql",
        f"/healthz and one API read answered 503 in {took:.1f} s together (connect_timeout 3 s each)",
    )


def test_the_rate_limiter_does_not_take_a_database_outage_for_its_own(caplog):
    """The limiter looks up the bearer token inside its own try/except; a lookup failing there switched its
    counts to per-process memory (no longer shared between processes through Redis) and logged a traceback
    per request. dbhealth asks first: the 503 comes before the limiter, which stays on its storage."""
    import_or_require("psycopg", "REQUIRE_SERVICES", "PostgreSQL's driver")
    from webapp import create_app
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    with socket.socket() as s:  # a port nobody listens on: every connect is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=f"postgresql://postgres@127.0.0.1:{port}/none", RATELIMIT_ENABLED=True
    )
    client = app.test_client()
    with caplog.at_level("INFO"):
        answers = [
            client.patch(
                f"/api/v1/events/{SLUG}/sessions/2",
                json={"delay_minutes": 1},
                headers={"Authorization": "Bearer no-such-token"},
            )
            for _ in range(3)
        ]
    for r in answers:
        assert_unavailable_response(r)
    assert not [rec.getMessage() for rec in caplog.records if rec.name == "flask-limiter"]
    assert getattr(app.extensions["rate_limiter"], "_storage_dead", False) is False
    assert [rec.levelname for rec in caplog.records if rec.name == "webapp.core.dbhealth"] == ["WARNING"]
    with app.app_context():
        db.engine.dispose()


def test_the_engine_options_for_postgresql_leave_sqlite_and_explicit_settings_alone():
    from webapp import create_app
    from webapp.core.config import Config, TestConfig

    class Production(TestConfig):  # Config's engine options (TestConfig's async mode: no eventlet here)
        SQLALCHEMY_ENGINE_OPTIONS = Config.SQLALCHEMY_ENGINE_OPTIONS

    shared = dict(Config.SQLALCHEMY_ENGINE_OPTIONS)
    pg = create_app(Production, SQLALCHEMY_DATABASE_URI="postgresql://u@127.0.0.1:1/x")
    assert pg.config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        **shared,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }
    assert Config.SQLALCHEMY_ENGINE_OPTIONS == shared  # the class's dict is not changed for other apps
    own = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI="postgresql://u@127.0.0.1:1/x?connect_timeout=9",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_timeout": 1},
    )
    assert own.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_timeout": 1, "connect_args": {}}
    lite = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert lite.config["SQLALCHEMY_ENGINE_OPTIONS"] == {}


def test_the_health_probe_writes_nothing(app):
    """/healthz may be polled every few seconds: its SQLite write probe is rolled back before anything reaches
    the file (PRAGMA data_version, which changes with every commit of another connection, stays put)."""
    from tests.hardening.conftest import DbWatch

    watch = DbWatch(app)
    try:
        before = watch.state()
        client = app.test_client()
        answers = [client.get("/healthz") for _ in range(20)]
        assert all(r.status_code == 200 and r.json == {"ok": True, "database": "ok"} for r in answers)
        assert all(r.headers["Cache-Control"] == "no-store" for r in answers)
        assert watch.state() == before
    finally:
        watch.close()


@pytest.mark.services
def test_a_read_only_postgresql_fails_healthz_and_refuses_writes_with_503(pg_database, caplog):
    """default_transaction_read_only (what a hot standby after a failover also says): /healthz 503, a PATCH
    503 `database_unavailable` (SQLSTATE 25006 is an outage, not a bug), nothing written; back to normal:
    both work again in the same app."""
    import psycopg

    from tests.conftest import make_staff
    from tests.hardening.conftest import PG_ADMIN
    from webapp import create_app
    from webapp.agenda.demo import load_demo
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    name = f"{pg_database.rsplit('/', 1)[1]}_ro"
    url = pg_database.rsplit("/", 1)[0] + "/" + name
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            db.create_all()
            load_demo()
            _, token = make_staff("nur-lesen")
            db.session.remove()
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/healthz").status_code == 200
        revision = client.get(f"/api/v1/events/{SLUG}/agenda").json["revision"]
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        with app.app_context():
            db.engine.dispose()  # the setting applies to new sessions (as after a failover to a standby)
        with caplog.at_level("INFO", logger="webapp.core.dbhealth"):
            health = client.get("/healthz")
            r = client.patch(f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 12}, headers=auth)
            read = client.get(f"/api/v1/events/{SLUG}/agenda")
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            health_after = client.get("/healthz")
            r_after = client.patch(f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 12}, headers=auth)
        assert health.status_code == 503 and health.json == {"ok": False, "database": "unavailable"}
        assert_unavailable_response(r)
        assert read.status_code == 200 and read.json["revision"] == revision  # reads go on, nothing written
        assert health_after.status_code == 200
        assert r_after.status_code == 200 and r_after.json["revision"] == revision + 1
        messages = [rec.getMessage() for rec in caplog.records if rec.name == "webapp.core.dbhealth"]
        assert len(messages) == 2 and "read" in messages[0] and UP_LINE in messages[1], messages
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ---- SQLite: a read-only database file under a real eventlet server --------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("when", ["while_running", "from_start"])
def test_a_read_only_sqlite_file_answers_503_and_recovers_without_restart(servers, when):
    """while_running: the file turns read-only under a running server (open connections fail on the commit,
    new ones open read-only). from_start: the server starts on a file it may not write (a backup restored by
    the wrong user): every connection is read-only, and before the fix they stayed so after the file was
    writable again. Both: check-ins, PATCHes and the registration form answer 503 + Retry-After, reads go on,
    /healthz says 503; once the file is writable the next check-in and /healthz work, without a restart;
    every 503 left nothing; the log has one line each way and no traceback."""
    server = servers(f"ro-{when}", start=False)
    database = db_path(server)
    guests = offline_guests(f"sqlite:///{database}", 10, f"Nur-Lesen {when}")
    wal = database.with_name(database.name + "-wal")
    ok_guests, refused = [], []
    if when == "while_running":
        server.start()
        r = check_in(server, guests[0]["code"], str(uuid.uuid4()))
        assert r.status_code == 200 and r.json()["result"] == "ok"
        ok_guests.append(guests[0])
        assert wal.exists()
        locked = (database, wal)
    else:
        locked = (database,)  # a read-only connection never writes the -wal; SQLite creates it for readers
    revision = sql_rows(database, "SELECT revision FROM event WHERE slug = ?", (SLUG,))[0][0]
    changes = sql_rows(database, "SELECT COUNT(*) FROM change")[0][0]
    offset = log_offset(server)
    times = []
    with immutable(*locked):
        if when == "from_start":
            start_answering(server)
        for guest in guests[1:7]:
            nonce = str(uuid.uuid4())
            start = time.monotonic()
            r = check_in(server, guest["code"], nonce)
            times.append(time.monotonic() - start)
            assert_unavailable(r)
            refused.append((guest, nonce))
        r, took = patch_session(server, 25)
        times.append(took)
        assert_unavailable(r)
        assert_unavailable(register(server, f"Nur-Lesen Anmeldung {when}"), api=False)
        reads = [
            requests.get(f"{server.base_url}/e/{SLUG}/", timeout=10).status_code,
            requests.get(f"{server.base_url}/api/v1/events/{SLUG}/agenda", timeout=10).status_code,
        ]
        assert reads == [200, 200], "a read-only file still serves reads"
        assert_health(server, ok=False)
        assert_health(server, ok=False)
        assert sql_rows(database, "SELECT revision FROM event WHERE slug = ?", (SLUG,))[0][0] == revision
    # writable again: the very next check-in works (no connection opened during the outage is reused)
    r = check_in(server, guests[7]["code"], str(uuid.uuid4()))
    assert r.status_code == 200 and r.json()["result"] == "ok", (r.status_code, r.text[:300])
    ok_guests.append(guests[7])
    assert_health(server, ok=True)
    r, _ = patch_session(server, 25)
    assert r.status_code == 200 and r.json()["revision"] == revision + 1
    assert register(server, f"Nur-Lesen Anmeldung {when}").status_code == 302
    for guest, nonce in refused[:2]:  # a scanner's retry with the same nonce now goes through, once
        r = check_in(server, guest["code"], nonce)
        assert r.status_code == 200 and r.json()["result"] == "ok"
        ok_guests.append(guest)

    lines = log_since(server, offset)
    assert_outage_logged_once(lines, f"SQLite read-only ({when})")
    assert sql_rows(database, "PRAGMA integrity_check") == [("ok",)]
    ids = ",".join(str(g["id"]) for g in guests)
    checked_in = sorted(
        gid for (gid,) in sql_rows(database, f"SELECT guest_id FROM check_in WHERE guest_id IN ({ids})")
    )
    assert checked_in == sorted(g["id"] for g in ok_guests), "only the answered check-ins are stored, once each"
    scans = sql_rows(database, f"SELECT nonce, result FROM scan WHERE guest_id IN ({ids})")
    assert len(scans) == len(ok_guests) and all(result == "ok" for _, result in scans)
    left = {nonce for _, nonce in refused[2:]} & {nonce for nonce, _ in scans}
    assert not left, "a scan answered 503 left an audit row"
    assert sql_rows(database, "SELECT COUNT(*) FROM change")[0][0] == changes + 1  # the one PATCH after
    figure(
        f"sqlite read-only ({when})",
        f"{len(times)} writes during the outage answered 503 in ≤ {max(times) * 1000:.0f} ms; reads 200; "
        f"/healthz 503, then 200; first check-in after it 200; {len(lines)} log lines "
        f"({lines[0].split(': ', 1)[-1][:90] if lines else ''} …)",
    )


# ---- PostgreSQL: two processes, the line to the database cut mid-storm -----------------------------------------

SCANNERS_PER_SERVER = 3
PG_GUESTS = 60


class Scanner(threading.Thread):
    """A door phone: scans its guests one by one; on a 503 it keeps the nonce and retries (after a short
    pause instead of Retry-After, to keep the test short) until `stop`."""

    def __init__(self, server, guests, stop):
        super().__init__(daemon=True)
        self.server, self.guests, self.stop = server, guests, stop
        self.answers = []  # (guest, nonce, status, result or error code or None, seconds, sent_at, Retry-After)

    def run(self):
        session = requests.Session()
        for guest in self.guests:
            nonce = str(uuid.uuid4())
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    r = check_in(self.server, guest["code"], nonce, session)
                    body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
                    status, retry = r.status_code, r.headers.get("Retry-After")
                    result = body.get("result") if status == 200 else body.get("error", {}).get("code")
                except (requests.RequestException, ValueError):
                    status, result, retry = None, None, None
                self.answers.append((guest, nonce, status, result, time.monotonic() - sent, sent, retry))
                if status == 200:
                    break
                self.stop.wait(0.25)
            if self.stop.is_set():
                break
        session.close()


def pg_counts(url, ids):
    ids = ",".join(map(str, ids))
    return {
        "check_in": sql_rows(url, f"SELECT COUNT(*) FROM check_in WHERE guest_id IN ({ids})")[0][0],
        "scan": sql_rows(url, f"SELECT COUNT(*) FROM scan WHERE guest_id IN ({ids})")[0][0],
        "change": sql_rows(url, "SELECT COUNT(*) FROM change")[0][0],
        "revision": sql_rows(url, "SELECT revision FROM event WHERE slug = ?", (SLUG,))[0][0],
    }


@pytest.mark.services
@pytest.mark.timeout(240)
def test_postgresql_cut_under_two_processes_answers_503_and_recovers(pg_database, redis_url, tmp_path):
    proxy = TcpProxy(5432)
    proxied = pg_database.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    env = {
        "DATABASE_URL": proxied,
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "SOCKETIO_CHANNEL": f"treffpunkt-outage-{uuid.uuid4().hex[:8]}",
    }
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    a = ServerProcess(tmp_path / "a", env=env)
    b = ServerProcess(tmp_path / "b", env=env)
    scanners = []
    stop = threading.Event()
    try:
        a.prepare()
        b.token = a.token
        a.start(), b.start()
        guests = offline_guests(pg_database, PG_GUESTS, "Ausfall")  # straight to PostgreSQL, not the proxy
        ids = [g["id"] for g in guests]
        before = pg_counts(pg_database, ids)
        offsets = {s: log_offset(s) for s in (a, b)}
        for r in (patch_session(a, 5)[0], patch_session(b, 10)[0]):
            assert r.status_code == 200
        shares = [guests[i :: 2 * SCANNERS_PER_SERVER] for i in range(2 * SCANNERS_PER_SERVER)]
        scanners = [Scanner(a if i % 2 else b, share, stop) for i, share in enumerate(shares)]
        for s in scanners:
            s.start()
        end = time.monotonic() + 30
        while time.monotonic() < end and sum(1 for s in scanners for x in s.answers if x[2] == 200) < 15:
            time.sleep(0.005)
        proxy.down()  # mid-storm: every connection to PostgreSQL is reset, new ones refused
        cut = time.monotonic()
        time.sleep(1.0)  # the requests in flight at the cut are answered by now
        at_cut = pg_counts(pg_database, ids)
        id_list = ",".join(map(str, ids))
        nonces_at_cut = {n for (n,) in sql_rows(pg_database, f"SELECT nonce FROM scan WHERE guest_id IN ({id_list})")}
        checked_in_at_cut = {
            g for (g,) in sql_rows(pg_database, f"SELECT guest_id FROM check_in WHERE guest_id IN ({id_list})")
        }
        outage = []  # (what, seconds)
        for server in (a, b):
            for minutes in (30, 35):
                r, took = patch_session(server, minutes)
                assert_unavailable(r)
                outage.append(("PATCH", took))
            for path in (f"/e/{SLUG}/", f"/e/{SLUG}/screen", f"/e/{SLUG}/board"):
                r, took = timed("GET", server.base_url + path)
                assert_unavailable(r, api=False)
                outage.append(("page", took))
            r, took = timed("GET", f"{server.base_url}/api/v1/events/{SLUG}/agenda")
            assert_unavailable(r)
            outage.append(("agenda", took))
            assert_health(server, ok=False)
        time.sleep(1.0)
        after_outage = pg_counts(pg_database, ids)
        assert after_outage == at_cut, "something was written while the database was cut off"
        refused_during = [x for s in scanners for x in s.answers if x[5] > cut + 0.5]
        assert refused_during and all(
            x[2] == 503 and x[3] == "database_unavailable" and (x[6] or "").isdigit() for x in refused_during
        ), {(x[2], x[3], x[6]) for x in refused_during}
        outage += [("check-in", x[4]) for x in refused_during]

        proxy.up()
        mended = time.monotonic()
        end = mended + 20
        while time.monotonic() < end and any(s.is_alive() for s in scanners):
            time.sleep(0.05)
        stuck = [s.answers[-3:] for s in scanners if s.is_alive()]
        assert not stuck, f"scanners still retrying 20 s after the line came back, last answers: {stuck}"
        back = max(x[5] + x[4] for s in scanners for x in s.answers) - mended
        for server in (a, b):
            assert_health(server, ok=True)
            r, _ = patch_session(server, 40 if server is a else 45)
            assert r.status_code == 200, r.text[:300]
            assert requests.get(f"{server.base_url}/e/{SLUG}/", timeout=10).status_code == 200
        after = pg_counts(pg_database, ids)
        lines = {name: log_since(server, offsets[server]) for name, server in (("a", a), ("b", b))}
    finally:
        stop.set()
        for s in scanners:
            s.join(10)
        a.stop(), b.stop()
        proxy.close()

    answers = [x for s in scanners for x in s.answers]
    assert not [x[2:4] for x in answers if x[2] not in (200, 503)], "only 200 and 503 answers"
    assert all(x[3] == "database_unavailable" and (x[6] or "").isdigit() for x in answers if x[2] == 503)
    oks = [x for x in answers if x[2] == 200]
    assert all(x[3] == "ok" for x in oks), "each fresh ticket scanned with one nonce must be ok"
    assert sorted(x[0]["id"] for x in oks) == sorted(ids), "every guest got through once the line was back"
    rows = sql_rows(
        pg_database,
        f"SELECT c.guest_id, COUNT(*) FROM check_in c WHERE c.guest_id IN "
        f"({','.join(map(str, ids))}) GROUP BY c.guest_id",
    )
    assert sorted(gid for gid, n in rows if n == 1) == sorted(ids), "each guest checked in exactly once"
    scan_rows = sql_rows(pg_database, f"SELECT nonce, result FROM scan WHERE guest_id IN ({','.join(map(str, ids))})")
    assert sorted(n for n, _ in scan_rows) == sorted(x[1] for x in oks), "one audit row per answered nonce"
    assert after["check_in"] - before["check_in"] == PG_GUESTS and after["scan"] - before["scan"] == PG_GUESTS
    # PATCHes: 2 before the cut, 4 refused during it (nothing written), 2 after it
    assert after["revision"] - before["revision"] == 4 and after["change"] - before["change"] == 4
    assert at_cut["revision"] - before["revision"] == 2
    # Scans in flight at the cut that were answered 503: applied completely (check-in and audit row: the line
    # was cut after PostgreSQL had the COMMIT, before its answer came back) or not at all, never half; their
    # retry with the same nonce was answered "ok" either way (above), and nobody is in twice.
    in_flight = [x for x in answers if x[2] == 503 and x[5] < cut]
    for guest, nonce, *_ in in_flight:
        assert (nonce in nonces_at_cut) == (guest["id"] in checked_in_at_cut), f"half-written scan {nonce}"
    committed_unanswered = {x[1] for x in in_flight} & nonces_at_cut
    loops = {
        name: assert_outage_logged_once(server_lines, f"PostgreSQL cut, process {name}")
        for name, server_lines in lines.items()
    }
    slowest = max(t for _, t in outage)
    assert slowest < 3, f"an answer during the outage took {slowest:.1f} s"
    figure(
        "postgresql cut",
        f"2 processes, {len(scanners)} scanners, {PG_GUESTS} tickets; cut after "
        f"{at_cut['check_in'] - before['check_in']} check-ins; {len(outage)} requests during "
        f"the outage all 503, slowest {slowest * 1000:.0f} ms; rows unchanged while cut; "
        f"{len(in_flight)} scans in flight at the cut answered 503, {len(committed_unanswered)} "
        f"of them committed (retry: ok); all "
        f"{PG_GUESTS} in once, last one {back:.1f} s after the line came back; log lines "
        f"a/b: {len(lines['a'])}/{len(lines['b'])}, of which from the live background loops: "
        f"{sum(map(len, loops['a']))}/{sum(map(len, loops['b']))}",
    )
