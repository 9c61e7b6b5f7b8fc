"""The live mechanism over a real network: a real server process (eventlet, and gevent as the tested
alternative) and real python-socketio clients."""

import time

import pytest

from tests.helpers import SLUG
from tests.live.client import LiveClient
from tests.server import ServerProcess


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def live_server(request, tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp(request.param), async_mode=request.param).prepare().start()
    yield proc
    proc.stop()


def current_revision(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]


def a_session_id(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["sessions"][3]["id"]


def test_a_staff_patch_reaches_two_clients_within_a_second_with_the_next_revision(live_server):
    rev = current_revision(live_server)
    phone, screen = LiveClient(live_server.base_url, since=rev), LiveClient(live_server.base_url, since=rev)
    try:
        assert phone.wait_for(lambda c: c.received("synced")) and screen.wait_for(lambda c: c.received("synced"))
        sid = a_session_id(live_server)
        delay = (
            live_server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["sessions"][3]["delay_minutes"]
            + 10
        )
        sent = time.monotonic()
        r = live_server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{sid}", json={"delay_minutes": delay})
        assert r.status_code == 200 and r.json()["revision"] == rev + 1
        for client in (phone, screen):
            assert client.wait_revision(rev + 1, timeout=1.0), "change did not arrive within 1 s"
            ((arrived, message),) = client.received("change")
            assert arrived - sent < 1.0
            assert message["revision"] == rev + 1 and message["kind"] == "session.delayed"
            assert message["sessions"][0]["id"] == sid and message["sessions"][0]["delay_minutes"] == delay
    finally:
        phone.close(), screen.close()


def test_a_client_that_was_away_ends_at_the_current_revision_with_every_change(live_server):
    rev = current_revision(live_server)
    sid = a_session_id(live_server)
    for text in ("Kaffee ist fertig", "Bus fährt 17:00", "Bitte Badges tragen"):
        live_server.api("POST", f"/api/v1/events/{SLUG}/announcements", json={"text": text})
    live_server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{sid}", json={"status": "cancelled"})
    now = current_revision(live_server)
    assert now == rev + 4
    late = LiveClient(live_server.base_url, since=rev)
    try:
        assert late.wait_for(lambda c: c.received("synced"))
        assert [m["revision"] for _, m in late.received("change")] == [rev + 1, rev + 2, rev + 3, rev + 4]
        assert late.received("synced")[-1][1]["revision"] == now and late.revision == now
        assert not late.received("snapshot")
    finally:
        late.close()
    fresh = LiveClient(live_server.base_url, since=None)
    try:
        assert fresh.wait_for(lambda c: c.received("synced"))
        ((_, snap),) = fresh.received("snapshot")
        assert snap["revision"] == now
        assert next(s for s in snap["sessions"] if s["id"] == sid)["status"] == "cancelled"
    finally:
        fresh.close()


def test_after_a_server_restart_a_client_reconnects_and_gets_what_it_missed(live_server):
    rev = current_revision(live_server)
    client = LiveClient(live_server.base_url, since=rev, reconnection=True)
    try:
        assert client.wait_for(lambda c: c.received("synced"))
        live_server.stop()
        assert client.wait_for(lambda c: not c.sio.connected, timeout=10)
        live_server.start()
        # a change made while the client is still reconnecting must not be lost
        live_server.api("POST", f"/api/v1/events/{SLUG}/announcements", json={"text": "Wieder da"})
        assert client.wait_revision(rev + 1, timeout=15)
        assert client.revision == current_revision(live_server)
    finally:
        client.close()


def test_concurrent_writers_get_consecutive_revisions(live_server):
    """Twenty announcements at once: twenty revisions, none skipped, none twice."""
    from concurrent.futures import ThreadPoolExecutor

    rev = current_revision(live_server)
    with ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda i: live_server.api(
                    "POST", f"/api/v1/events/{SLUG}/announcements", json={"text": f"Nachricht {i}"}
                ),
                range(20),
            )
        )
    assert all(r.status_code == 201 for r in answers)
    assert sorted(r.json()["revision"] for r in answers) == list(range(rev + 1, rev + 21))


def test_a_phone_that_stops_reading_gets_every_change_whole_and_in_order_later(live_server):
    """Broadcasts are written straight to each socket (webapp/live/fastsend.py); when a phone stops reading,
    the kernel's buffers fill and the rest must wait, in order, without holding up the other clients."""
    import json
    import socket

    import websocket

    rev = current_revision(live_server)
    slow = websocket.create_connection(
        live_server.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        timeout=10,
        sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
    )
    assert slow.recv().startswith("0")
    slow.send(f'40/live,{{"event":"{SLUG}","since":{rev}}}')
    while '"synced"' not in slow.recv():
        pass
    fast = LiveClient(live_server.base_url, since=rev)
    try:
        assert fast.wait_for(lambda c: c.received("synced"))
        sid = a_session_id(live_server)
        for n in range(40):  # ~5 KB each: far more than the slow phone's buffers hold
            r = live_server.api(
                "PATCH", f"/api/v1/events/{SLUG}/sessions/{sid}", json={"abstract": f"Änderung {n}: " + "Ä" * 4900}
            )
            assert r.status_code == 200
        assert fast.wait_revision(rev + 40, timeout=5), "a phone that stopped reading held up the others"
        got = []
        while len(got) < 40:
            message = slow.recv()
            if message == "2":
                slow.send("3")
            elif message.startswith('42/live,["change"'):
                got.append(json.loads(message[len("42/live,") :])[1])
        assert [m["revision"] for m in got] == list(range(rev + 1, rev + 41))
        assert [m["sessions"][0]["abstract"] for m in got] == [f"Änderung {n}: " + "Ä" * 4900 for n in range(40)]
    finally:
        slow.close(), fast.close()
