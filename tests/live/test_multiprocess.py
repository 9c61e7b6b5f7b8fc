"""Several server processes sharing PostgreSQL and a Redis message queue: a change made through one process
reaches the clients of the other with the next revision, and a client moving between them resyncs without
a gap. Needs the local Redis and PostgreSQL (skips without them unless REQUIRE_SERVICES=1)."""

import socket
import uuid

import pytest

from tests.helpers import SLUG, require
from tests.live.client import LiveClient
from tests.server import ServerProcess

REDIS = "redis://127.0.0.1:6379/0"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

pytestmark = pytest.mark.services


def reachable(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def database():
    missing = require("REQUIRE_SERVICES", "Redis and PostgreSQL")
    if not reachable(6379):
        missing("nothing listens on 127.0.0.1:6379")
    if not reachable(5432):
        missing("nothing listens on 127.0.0.1:5432")
    import psycopg

    name = f"treffpunkt_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def two_servers(database, tmp_path_factory):
    env = {"DATABASE_URL": database, "SOCKETIO_MESSAGE_QUEUE": REDIS}
    a = ServerProcess(tmp_path_factory.mktemp("a"), env=env).prepare().start()
    b = ServerProcess(tmp_path_factory.mktemp("b"), env=env)
    b.token = a.token
    b.start()
    yield a, b
    a.stop(), b.stop()


def revision(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]


def test_a_change_through_process_a_reaches_clients_of_process_b(two_servers):
    a, b = two_servers
    rev = revision(a)
    on_a, on_b = LiveClient(a.base_url, since=rev), LiveClient(b.base_url, since=rev)
    try:
        assert on_b.wait_for(lambda c: c.received("synced")) and on_a.wait_for(lambda c: c.received("synced"))
        r = a.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 20})
        assert r.status_code == 200 and r.json()["revision"] == rev + 1
        assert on_b.wait_revision(rev + 1, timeout=2) and on_a.wait_revision(rev + 1, timeout=2)
        assert [m["revision"] for _, m in on_b.received("change")] == [rev + 1]  # once, not once per process
        r = b.api("POST", f"/api/v1/events/{SLUG}/announcements", json={"text": "über B"})
        assert on_a.wait_revision(rev + 2, timeout=2)
    finally:
        on_a.close(), on_b.close()


def test_a_client_moving_from_a_to_b_resyncs_without_a_gap(two_servers):
    a, b = two_servers
    rev = revision(a)
    client = LiveClient(a.base_url, since=rev)
    assert client.wait_for(lambda c: c.received("synced"))
    client.close()
    for minutes in (5, 10):
        a.api("PATCH", f"/api/v1/events/{SLUG}/sessions/3", json={"delay_minutes": minutes})
    b.api("POST", f"/api/v1/events/{SLUG}/announcements", json={"text": "Weiter geht's"})
    moved = LiveClient(b.base_url, since=client.revision)
    try:
        assert moved.wait_revision(rev + 3, timeout=3)
        assert [m["revision"] for _, m in moved.received("change")] == [rev + 1, rev + 2, rev + 3]
    finally:
        moved.close()


def test_concurrent_scans_through_two_processes_on_postgresql_admit_once(two_servers):
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    a, b = two_servers
    guest = a.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": "Zwei Türen", "city": "Koblenz"}).json()

    def scan(i):
        server = a if i % 2 else b
        return server.api(
            "POST", f"/api/v1/events/{SLUG}/checkins", json={"code": guest["ticket_url"], "nonce": str(uuid.uuid4())}
        ).json()["result"]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(scan, range(40)))
    assert results.count("ok") == 1 and results.count("already") == 39
