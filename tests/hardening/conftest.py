"""Fixtures and helpers of the hardening tests (issue 5: lose nothing, let no one in, leak nothing).

- `server_template` (session): ONE migrated SQLite database with the demo event and the admin "tester"
  (`ServerProcess.prepare()` costs ~6 s); `sqlite_server(...)` starts servers on copies of it.
- `servers` (per test): a factory for such servers; every server it started is stopped afterwards.
- `pg_database` / `redis_url` (module): a fresh PostgreSQL database and the local Redis; skip without them,
  or fail when REQUIRE_SERVICES=1 (as tests/live/test_multiprocess.py).
- `fuzz_app` (module): the app in-process on its own SQLite file with the demo event, an admin, a scanner, a
  delegate's ticket and a check-in; `db_digest(app)` hashes every table (a refused request must leave it as it
  was); `Browser` keeps a test client's requests in their own app contexts (a staff session).
- `FIGURES`: what the tests measure; printed at the end of the session (run with -s to see it).

Every request loop here is bounded in count and time and talks to 127.0.0.1 only."""

import hashlib
import os
import shutil
import socket
import sqlite3
import threading
import uuid
from collections import Counter

import pytest

from tests.helpers import SLUG, make_staff, require
from tests.server import ServerProcess

REDIS = "redis://127.0.0.1:6379/0"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# Tables that a refused request may still write (e.g. a rate limiter's counters); none so far.
VOLATILE_TABLES = set()

FIGURES = {}  # name -> text, printed at the end
FUZZ_CASES = Counter()  # area -> number of inputs tried
_figures_lock = threading.Lock()


def figure(name, text):
    with _figures_lock:
        FIGURES[name] = text
    print(f"\n[hardening] {name}: {text}", flush=True)


def count_case(area, n=1):
    with _figures_lock:
        FUZZ_CASES[area] += n


@pytest.fixture(scope="session", autouse=True)
def _print_figures():
    yield
    if FIGURES or FUZZ_CASES:
        print("\n\n==== hardening figures ====")
        for name, text in FIGURES.items():
            print(f"{name}: {text}")
        if FUZZ_CASES:
            print(
                f"fuzz cases run: {sum(FUZZ_CASES.values())} ("
                + ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_CASES.items()))
                + ")"
            )


# ---- real server processes ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server_template(tmp_path_factory):
    return ServerProcess(tmp_path_factory.mktemp("template")).prepare()


def sqlite_server(template, workdir, **kwargs):
    """A ServerProcess (not started) on a copy of the template's database, with its admin token."""
    workdir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = template.workdir / f"db.sqlite3{suffix}"
        if source.exists():
            shutil.copy(source, workdir / f"db.sqlite3{suffix}")
    proc = ServerProcess(workdir, **kwargs)
    proc.token = template.token
    return proc


def db_path(server):
    return server.workdir / "db.sqlite3"


@pytest.fixture
def servers(server_template, tmp_path):
    started = []

    def make(name="server", start=True, **kwargs):
        proc = sqlite_server(server_template, tmp_path / name, **kwargs)
        started.append(proc)
        return proc.start() if start else proc

    yield make
    for proc in started:
        proc.stop()


def reachable(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def redis_url():
    if not reachable(6379):
        require("REQUIRE_SERVICES", "Redis")("nothing listens on 127.0.0.1:6379")
    return REDIS


@pytest.fixture(scope="module")
def pg_database():
    missing = require("REQUIRE_SERVICES", "PostgreSQL")
    if not reachable(5432):
        missing("nothing listens on 127.0.0.1:5432")
    try:
        import psycopg
    except ImportError:
        missing("psycopg is not installed")
    name = f"treffpunkt_hard_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def sql_rows(database, query, params=()):
    """Rows of a query on a server's database: a SQLite file path or a PostgreSQL URL (`?` placeholders)."""
    if str(database).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(database)) as conn:
            return conn.execute(query.replace("?", "%s"), params).fetchall()
    conn = sqlite3.connect(str(database), timeout=10)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def offline_guests(database_uri, n, prefix, city="Trier"):
    """Register n guests straight in a (stopped or running) server's database through the guests domain
    functions; returns [{id, code, token}]. Much faster than n API calls, for the storm tests."""
    from webapp import create_app
    from webapp.checkin import guests
    from webapp.core.config import TestConfig
    from webapp.core.events import get_event
    from webapp.core.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_uri)
    with app.app_context():
        event = get_event(SLUG)
        made = [guests.new_guest(event, {"name": f"{prefix} {i:03d}", "city": city}, source="import") for i in range(n)]
        db.session.commit()
        out = [{"id": g.id, "code": g.code, "token": g.token} for g in made]
        db.session.remove()
        db.engine.dispose()
    return out


# ---- the app in-process ------------------------------------------------------------------------------


class Browser:
    """A test client whose every request runs in its own app context, as in production (Flask-Login caches
    the signed-in user in `g`, so clients sharing one context would share one user)."""

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with self.app.app_context():
                return getattr(self.client, method)(*args, **kwargs)

        return call


def login(app, name, password):
    browser = Browser(app)
    r = browser.post("/staff/login", data={"name": name, "password": password})
    assert r.status_code == 302, f"login of {name} failed: {r.status_code}"
    return browser


def db_digest(app):
    """A hash of every row of every table (bar VOLATILE_TABLES)."""
    from webapp.core.extensions import db

    h = hashlib.sha256()
    with app.app_context():
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.name in VOLATILE_TABLES:
                    continue
                rows = sorted(repr(tuple(row)) for row in conn.execute(table.select()))
                h.update(f"{table.name}:{len(rows)}\n".encode())
                for row in rows:
                    h.update(row.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class DbWatch:
    """Has anything been committed to the app's database since `state()` was taken? On SQLite it asks
    `PRAGMA data_version` on a connection of its own, which changes with every commit of any other connection
    (O(1), however big the database grew); elsewhere it hashes every table (db_digest)."""

    def __init__(self, app):
        self.app, self.conn = app, None
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
            self.conn = sqlite3.connect(uri[len("sqlite:///") :], isolation_level=None, check_same_thread=False)

    def state(self):
        if self.conn is not None:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]
        return db_digest(self.app)

    def close(self):
        if self.conn is not None:
            self.conn.close()


class FuzzApp:
    """The app and what the fuzz tests need to reach every endpoint."""


def build_fuzz_app(database_uri, tmp_path):
    from webapp import create_app
    from webapp.agenda.demo import load_demo
    from webapp.checkin import guests, service
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db
    from webapp.core.models import Event

    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=database_uri,
        GUEST_IMPORT_DIR=str(tmp_path / "imports"),
        RATELIMIT_ENABLED=False,
    )
    f = FuzzApp()
    f.app = app
    with app.app_context():
        db.create_all()
        load_demo()
        try:  # the demo board (municipalities' interests), when the matchmaking area provides it
            from webapp.matchmaking.demo import load_board_demo

            load_board_demo(db.session.execute(db.select(Event).filter_by(slug=SLUG)).scalar_one())
        except ImportError:
            pass
        _, f.admin_token = make_staff("fuzz-admin", password="fuzz-admin-pw")
        _, f.scanner_token = make_staff("fuzz-scanner", role="scanner", password="fuzz-scanner-pw")
        event = db.session.execute(db.select(Event).filter_by(slug=SLUG)).scalar_one()
        delegate = guests.create_guest(event, guests.parse_guest({"name": "Delegierte Trier", "city": "Trier"}))
        other = guests.create_guest(event, guests.parse_guest({"name": "Gast Koblenz", "city": "Koblenz"}))
        f.delegate_token, f.guest_id, f.guest_code = delegate.token, other.id, other.code
        answer = service.check_in(event, delegate.token, "fuzz-setup", device="setup")
        f.checkin_id = answer["checkin_id"]
        f.session_id = event.sessions[0].id
        f.municipality = event.municipalities[0].slug if event.municipalities else "trier"
        f.topic = event.topics[0].slug if event.topics else "park-app"
        db.session.remove()
    f.watch = DbWatch(app)
    f.admin = {"Authorization": f"Bearer {f.admin_token}"}
    f.scanner = {"Authorization": f"Bearer {f.scanner_token}"}
    return f


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    f = build_fuzz_app(f"sqlite:///{tmp / 'fuzz.sqlite3'}", tmp)
    yield f
    from webapp.core.extensions import db

    f.watch.close()
    with f.app.app_context():
        db.session.remove()
        db.engine.dispose()


def is_error_json(body):
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("code"), str)
        and body["error"]["code"]
        and isinstance(body["error"].get("message"), str)
        and body["error"]["message"]
    )


def hypothesis_profile():
    """Reproducible in CI: derandomized, no deadline (a shared 2-core machine), no example database."""
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "hardening",
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    return settings.get_profile("hardening")


def env_flag(name):
    return os.environ.get(name) == "1"


# ---- fuzz inputs: the corpus and hypothesis strategies -------------------------------------------------

CORPUS = os.path.join(os.path.dirname(__file__), "corpus")


def corpus_strings():
    """The nasty strings of corpus/strings.json plus a few too big to keep in a file."""
    import json

    with open(os.path.join(CORPUS, "strings.json"), encoding="utf-8") as f:
        strings = json.load(f)
    return strings + [
        "x" * 201,
        "ä" * 501,
        "A" * 2001,
        "n" * 65,
        "\u0000" * 10,
        "%" * 1000,
        "<" * 5000,
        "ö" * 100_000,
        "\ud800",
        "a\udfffb",
    ]


def corpus_files(kind):
    folder = os.path.join(CORPUS, kind)
    return sorted((name, open(os.path.join(folder, name), "rb").read()) for name in os.listdir(folder))


def fuzz_strategies():
    """(text, json_value): text = hypothesis text incl. control characters, the corpus, lone surrogates and
    long strings; json_value = any JSON document of such texts, numbers (incl. NaN, ±Infinity, huge
    integers), booleans, null, lists and objects."""
    from hypothesis import strategies as st

    strings = corpus_strings()
    text = st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),  # control chars
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20),  # incl. surrogates
        st.sampled_from(strings),
        st.builds(
            lambda s, n: s * n,
            st.sampled_from(["x", "ä", "%", "'", "\u202e", "😀"]),
            st.integers(min_value=100, max_value=6000),
        ),
    )
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        text,
    )
    json_value = st.recursive(
        scalar,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
        max_leaves=12,
    )
    return text, json_value


def iso_times():
    """ISO 8601 texts around the edges: any year 1..9999, with and without offsets up to ±14 h."""
    from datetime import timedelta, timezone

    from hypothesis import strategies as st

    offsets = st.one_of(
        st.none(), st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    )
    return st.builds(lambda dt, tz: (dt.replace(tzinfo=tz) if tz else dt).isoformat(), st.datetimes(), offsets)


class LoopThread:
    """An asyncio event loop in a thread of its own, for tests that drive many async clients in steps: in a
    full run, Playwright's sync API (the browser tests) keeps a loop running in the main thread, where another
    loop refuses to run."""

    def __init__(self):
        import asyncio

        self._asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine, timeout=None):
        return self._asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
