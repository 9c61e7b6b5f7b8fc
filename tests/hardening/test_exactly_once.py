"""Exactly-once check-in across processes: 100 tickets, each scanned at the same moment by two scanners with
different nonces, give exactly 100 `ok` and 100 `already`; the database holds 100 check-ins (one per guest)
and an audit row per scan; every connected live client's counter ends at baseline + 100.

(a) SQLite, one server process (eventlet). (b) PostgreSQL (fresh database), two server processes sharing
Redis as message queue, the two scanners on different processes, live clients on both."""

import threading
import time
import uuid

import pytest
import requests

from tests.hardening.conftest import db_path, figure, offline_guests, sql_rows
from tests.helpers import SLUG
from tests.live.client import LiveClient
from tests.server import ServerProcess

GUESTS = 100
PAIRS = 10  # ten pairs of scanners at once; the two of a pair scan the same ticket at the same moment


def stats(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/stats", token=False).json()


def scan_in_pairs(base_a, base_b, token, guests, timeout=60):
    """Scanner A (on base_a) reads each ticket's QR, scanner B (on base_b) types its code or reads the QR too;
    the two of a pair wait for each other before every scan. Returns [(guest id, side, nonce, answer)]."""
    results, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}

    def worker(pair, side, barrier):
        session = requests.Session()
        base = base_a if side == "A" else base_b
        try:
            for n, guest in enumerate(guests[pair::PAIRS]):
                if time.monotonic() > deadline:
                    raise TimeoutError("scan storm took too long")
                if side == "B" and n % 2:
                    code = guest["code"].lower()[:4] + "-" + guest["code"].lower()[4:]  # typed at the door
                else:
                    code = f"{base_a}/t/{guest['token']}"  # the QR code's text
                nonce = f"{side}-{uuid.uuid4()}"
                barrier.wait(timeout=15)
                r = session.post(
                    f"{base}/api/v1/events/{SLUG}/checkins",
                    json={"code": code, "nonce": nonce},
                    headers=headers,
                    timeout=15,
                )
                assert r.status_code == 200, r.text
                with lock:
                    results.append((guest["id"], side, nonce, r.json()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            barrier.abort()
            with lock:
                errors.append(f"{side}{pair}: {exc!r}")
        finally:
            session.close()

    threads = []
    for pair in range(PAIRS):
        barrier = threading.Barrier(2)
        threads += [threading.Thread(target=worker, args=(pair, side, barrier), daemon=True) for side in "AB"]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a scanner thread hung"
    return results, time.monotonic() - started


def check_results(results, guests, database, label, seconds):
    by_guest = {}
    for guest_id, side, nonce, answer in results:
        by_guest.setdefault(guest_id, []).append((side, nonce, answer))
    counts = {r: sum(1 for *_, a in results if a["result"] == r) for r in ("ok", "already")}
    figure(
        f"exactly-once {label}",
        f"{len(results)} scans of {len(guests)} tickets in {seconds:.1f} s: "
        f"{counts['ok']} ok, {counts['already']} already, "
        f"{len(results) - counts['ok'] - counts['already']} other",
    )
    assert counts == {"ok": GUESTS, "already": GUESTS}
    assert len(by_guest) == GUESTS
    for guest_id, answers in by_guest.items():
        assert sorted(a["result"] for _, _, a in answers) == ["already", "ok"], (guest_id, answers)
        assert len({a["checked_in_at"] for _, _, a in answers}) == 1  # `already` names the one check-in
        assert all(a["guest"]["id"] == guest_id for _, _, a in answers)
    ids = ",".join(str(g["id"]) for g in guests)
    rows = sql_rows(database, f"SELECT guest_id, COUNT(*) FROM check_in WHERE guest_id IN ({ids}) GROUP BY guest_id")
    assert len(rows) == GUESTS and all(n == 1 for _, n in rows), "not exactly one check-in per guest"
    audit = sql_rows(database, f"SELECT nonce, result FROM scan WHERE guest_id IN ({ids})")
    assert sorted(audit) == sorted((nonce, a["result"]) for _, _, nonce, a in results)  # one audit row per scan


def wait_counters(clients, expected, timeout=10.0):
    end = time.monotonic() + timeout
    last = lambda c: (c.received("stats") or [(0, {"checked_in": None})])[-1][1]["checked_in"]  # noqa: E731
    while time.monotonic() < end and any(last(c) != expected for c in clients):
        time.sleep(0.05)
    return [last(c) for c in clients]


def run(server_a, server_b, guests, database, label, clients_per_process=3):
    baseline = stats(server_a)["checked_in"]
    clients = [
        LiveClient(s.base_url) for s in (server_a, server_b) if s is not None for _ in range(clients_per_process)
    ]
    try:
        for c in clients:
            assert c.wait_for(lambda c: c.received("synced") and c.received("stats"), timeout=10)
        results, seconds = scan_in_pairs(server_a.base_url, (server_b or server_a).base_url, server_a.token, guests)
        check_results(results, guests, database, label, seconds)
        finals = wait_counters(clients, baseline + GUESTS)
        figure(
            f"exactly-once {label} counters",
            f"baseline {baseline}, final `stats` of {len(clients)} live clients: {sorted(set(finals))}",
        )
        assert finals == [baseline + GUESTS] * len(clients)
        assert stats(server_a)["checked_in"] == baseline + GUESTS
    finally:
        for c in clients:
            c.close()


@pytest.mark.timeout(120)
def test_sqlite_one_process_two_scanners_per_ticket(servers):
    server = servers("sqlite", start=False)
    guests = offline_guests(f"sqlite:///{db_path(server)}", GUESTS, "Doppelt gescannt")
    server.start()
    run(server, None, guests, db_path(server), "SQLite, 1 process")


@pytest.mark.services
@pytest.mark.timeout(180)
def test_postgresql_two_processes_with_redis_scanners_on_different_processes(pg_database, redis_url, tmp_path):
    env = {"DATABASE_URL": pg_database, "SOCKETIO_MESSAGE_QUEUE": redis_url}
    a = ServerProcess(tmp_path / "a", env=env)
    b = ServerProcess(tmp_path / "b", env=env)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    try:
        a.prepare()
        b.token = a.token
        guests = offline_guests(pg_database, GUESTS, "Zwei Prozesse", city="Koblenz")
        a.start(), b.start()
        run(a, b, guests, pg_database, "PostgreSQL, 2 processes + Redis")
    finally:
        a.stop(), b.stop()
