"""Crash safety: `kill -9` the server in the middle of a scan storm (8 scanners, 300 fresh tickets), restart it
on the same database (three rounds, each storming the tickets not scanned yet). Every scan that was answered
`ok` is in the database (a re-scan says `already` with that time, a retry with the same nonce gets the same
answer), no guest is checked in twice, and the audit log has an `ok` row for each of them and agrees with the
check-ins. Scans whose answer never arrived may or may not have applied (but never half); the figures say how
many of each."""

import threading
import time
import uuid
from datetime import datetime

import pytest
import requests

from tests.hardening.conftest import db_path, figure, offline_guests, sql_rows
from tests.helpers import SLUG

GUESTS = 300
SCANNERS = 8
ROUNDS = 3
KILL_AFTER_OK = 60  # per round: kill once this many scans were answered ok (mid-storm)


def storm(server, guests, stop_event, timeout=30):
    """SCANNERS threads scan their share of the tickets once each until the server stops answering.
    Returns [(guest, nonce, answer or None)] where None means the answer never arrived."""
    records, lock = [], threading.Lock()
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {server.token}"}
    url = f"{server.base_url}/api/v1/events/{SLUG}/checkins"

    def worker(share):
        session = requests.Session()
        for guest in share:
            if time.monotonic() > deadline or stop_event.is_set():
                break
            nonce = str(uuid.uuid4())
            try:
                r = session.post(url, json={"code": guest["code"], "nonce": nonce}, headers=headers, timeout=5)
                answer = r.json() if r.status_code == 200 else None
            except (requests.RequestException, ValueError):
                answer = None
            with lock:
                records.append((guest, nonce, answer))
            if answer is None:
                break  # the scanner would now queue offline: this storm is over for it
        session.close()

    threads = [threading.Thread(target=worker, args=(guests[i::SCANNERS],), daemon=True) for i in range(SCANNERS)]
    for t in threads:
        t.start()
    return threads, records, lock


@pytest.mark.timeout(150)
def test_kill_9_mid_storm_loses_no_answered_scan(servers):
    server = servers("crash", start=False)
    database = db_path(server)
    guests = offline_guests(f"sqlite:///{database}", GUESTS, "Sturm")
    records, kills = [], []
    for _ in range(ROUNDS):  # each round: start, storm over the tickets not scanned yet, kill -9 mid-storm
        scanned = {g["id"] for g, _, _ in records}
        remaining = [g for g in guests if g["id"] not in scanned]
        server.start()
        stop = threading.Event()
        threads, round_records, lock = storm(server, remaining, stop)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with lock:
                oks = sum(1 for _, _, a in round_records if a and a["result"] == "ok")
            if oks >= KILL_AFTER_OK:
                break
            time.sleep(0.003)
        server.stop(kill=True)  # SIGKILL to the process group, mid-storm
        for t in threads:
            t.join(timeout=10)
        stop.set()
        assert not any(t.is_alive() for t in threads)
        assert oks >= KILL_AFTER_OK, "the storm never got going"
        kills.append(oks)
        records += round_records

    answered = [(g, n, a) for g, n, a in records if a is not None]
    lost = [(g, n) for g, n, a in records if a is None]
    ok = [(g, n, a) for g, n, a in answered if a["result"] == "ok"]
    assert all(a["result"] == "ok" for _, _, a in answered), "fresh tickets scanned once each must be ok"

    server.start()  # the same database after the last crash
    assert sql_rows(database, "PRAGMA integrity_check") == [("ok",)]
    ids = ",".join(str(g["id"]) for g in guests)
    checkins = dict(
        sql_rows(database, f"SELECT guest_id, COUNT(*) FROM check_in WHERE guest_id IN ({ids}) GROUP BY guest_id")
    )
    assert all(n == 1 for n in checkins.values()), "a guest checked in twice"
    audit = sql_rows(database, f"SELECT nonce, result, guest_id FROM scan WHERE guest_id IN ({ids})")
    audit_ok = {nonce: guest_id for nonce, result, guest_id in audit if result == "ok"}
    assert sorted(audit_ok.values()) == sorted(checkins), "the audit log's ok rows and the check-ins disagree"

    session = requests.Session()
    headers = {"Authorization": f"Bearer {server.token}"}
    url = f"{server.base_url}/api/v1/events/{SLUG}/checkins"
    for guest, nonce, answer in ok:
        assert checkins.get(guest["id"]) == 1, f"answered ok but not in the database: {guest}"
        assert audit_ok.get(nonce) == guest["id"], f"answered ok but no ok row in the audit log: {nonce}"
        again = session.post(
            url, json={"code": guest["code"], "nonce": str(uuid.uuid4())}, headers=headers, timeout=5
        ).json()
        assert again["result"] == "already"
        assert datetime.fromisoformat(again["checked_in_at"]) == datetime.fromisoformat(answer["checked_in_at"])
    for guest, nonce, answer in ok[:20]:  # a scanner's retry after the crash gets its first answer back
        retry = session.post(url, json={"code": guest["code"], "nonce": nonce}, headers=headers, timeout=5).json()
        assert retry == answer
    applied_lost = [(g, n) for g, n in lost if n in audit_ok]
    for guest, nonce in lost:  # unanswered: applied completely (check-in and audit row) or not at all
        assert (guest["id"] in checkins) == (nonce in audit_ok), f"half-applied scan {nonce}"
    session.close()
    figure(
        "crash safety",
        f"{ROUNDS} × kill -9 mid-storm ({SCANNERS} scanners, {GUESTS} tickets; killed after "
        f"{'/'.join(map(str, kills))} ok answers): {len(records)} scans sent, {len(ok)} answered "
        f"ok (all in the database and the audit log after restart), {len(lost)} unanswered "
        f"({len(applied_lost)} of them applied, {len(lost) - len(applied_lost)} not), "
        f"{len(checkins)} guests checked in, 0 twice; check-ins = audit ok rows",
    )


def test_a_check_in_and_its_audit_row_are_one_transaction(fuzz_app):
    """The deterministic half of the crash test: on SQLite, nothing commits between the check-in's INSERT and
    its audit row's INSERT (a SAVEPOINT opened before any write used to be the outermost transaction there,
    and its RELEASE committed the check-in alone)."""
    from webapp.checkin import guests, service
    from webapp.core.events import get_event
    from webapp.core.extensions import db

    with fuzz_app.app.app_context():
        event = get_event(SLUG)
        guest = guests.create_guest(event, {"name": "Eine Transaktion", "city": "Mayen"})
        statements = []
        db.session.connection().connection.dbapi_connection.set_trace_callback(
            lambda sql: statements.append(sql.split(None, 2)[:2])
        )
        for nonce in ("tx-1", "tx-2"):  # ok, then already
            service.check_in(event, guest.code, nonce, device="tx")
        db.session.connection().connection.dbapi_connection.set_trace_callback(None)
        db.session.remove()
    words = [" ".join(s).upper() for s in statements]
    first = words.index("INSERT INTO") if "INSERT INTO" in words else -1
    assert first >= 0
    between = words[first : words.index("COMMIT", first)]
    assert sum(w == "INSERT INTO" for w in between) == 2, words  # check_in and scan before the one COMMIT
    assert not any(w.startswith(("RELEASE", "SAVEPOINT")) for w in words), words
