"""Check-in against a real server process: concurrent scans of one ticket, coalesced counters on /live."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import SLUG, server_guest
from tests.live.client import LiveClient


def scan(server, code, nonce=None):
    return server.api(
        "POST", f"/api/v1/events/{SLUG}/checkins", json={"code": code, "nonce": nonce or str(uuid.uuid4())}
    )


def test_fifty_concurrent_scans_of_one_ticket_give_exactly_one_ok(server):
    guest = server_guest(server, "Gleichzeitig")
    with ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(lambda _: scan(server, guest["ticket_url"]), range(50)))
    assert all(r.status_code == 200 for r in answers)
    results = [r.json()["result"] for r in answers]
    assert results.count("ok") == 1 and results.count("already") == 49
    times = {r.json()["checked_in_at"] for r in answers}
    assert len(times) == 1  # every `already` names the one check-in


def test_same_nonce_sent_concurrently_gives_one_answer(server):
    guest = server_guest(server, "Wiederholt")
    nonce = str(uuid.uuid4())
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: scan(server, guest["code"], nonce).json(), range(10)))
    assert all(a == answers[0] for a in answers) and answers[0]["result"] == "ok"


def test_a_burst_of_scans_is_coalesced_into_few_stats_messages(server):
    guests = [server_guest(server, f"Gast {i}", city="Mayen") for i in range(30)]
    before = server.api("GET", f"/api/v1/events/{SLUG}/stats", token=False).json()["checked_in"]
    client = LiveClient(server.base_url, since=None)
    phone = LiveClient(server.base_url, since=None, stats=False)  # the agenda on a phone shows no counters
    try:
        assert client.wait_for(lambda c: c.received("stats"))
        on_connect = len(client.received("stats"))
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda g: scan(server, g["code"]), guests))
        assert client.wait_for(lambda c: c.received("stats")[-1][1]["checked_in"] == before + 30, timeout=5)
        burst = len(client.received("stats")) - on_connect
        assert 1 <= burst < 30 / 2, f"{burst} stats messages for 30 scans"
        assert client.received("stats")[-1][1]["by_city"]["Mayen"] >= 30
        assert not client.received("change")  # counters are not revisions
        assert phone.received("synced") and not phone.received("stats")
    finally:
        client.close()
        phone.close()
