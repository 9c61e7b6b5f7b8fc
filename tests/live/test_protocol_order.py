"""/live on the wire, read by a raw websocket client speaking Engine.IO 4 / Socket.IO 5 (as the bench's load
client and other non-socket.io-client clients do, which do not buffer events that arrive early):
the CONNECT acknowledgement comes before every event; a refused connect is a CONNECT_ERROR whose data is an
object with `message`; a flood of `sync` messages on one connection costs next to nothing and does not hold
up the door."""

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
import websocket

from tests.helpers import SLUG
from tests.server import ServerProcess


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def live_server(request, tmp_path_factory):
    proc = (
        ServerProcess(
            tmp_path_factory.mktemp(request.param), async_mode=request.param, env={"LIVE_SNAPSHOT_SECONDS": "5"}
        )
        .prepare()
        .start()
    )
    yield proc
    proc.stop()


class RawClient:
    """Engine.IO 4 over a websocket: answers pings, records every Socket.IO packet of /live as text."""

    def __init__(self, server):
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=10
        )
        opening = self.ws.recv()
        assert opening.startswith("0{"), opening
        self.packets = []

    def send(self, text):
        self.ws.send(text)

    def read_until(self, predicate, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                text = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            if text == "2":  # ping
                self.ws.send("3")
                continue
            self.packets.append(text)
            if predicate(text):
                return text
        raise AssertionError(f"not seen within {timeout} s; got {self.packets[:5]}")

    def close(self):
        self.ws.close()


def event_name(packet):
    """'42/live,["change",{…}]' -> 'change'; '43/live,12[…]' (an ack) -> None."""
    if not packet.startswith("42/live,"):
        return None
    return json.loads(packet[len("42/live,") :])[0]


def current_revision(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]


def test_the_connect_acknowledgement_precedes_every_event(live_server):
    # a snapshot, a replay of every change, and a phone already at the current revision (only `synced`)
    for since in (None, 0, current_revision(live_server)):
        client = RawClient(live_server)
        try:
            client.send("40/live," + json.dumps({"event": SLUG, "since": since}))
            client.read_until(lambda p: event_name(p) == "synced")
            first = client.packets[0]
            assert first.startswith("40/live,") and "sid" in json.loads(first[len("40/live,") :]), client.packets[:3]
            names = [event_name(p) for p in client.packets[1:]]
            assert names[0] in ("snapshot", "change", "synced") and "synced" in names
        finally:
            client.close()


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def test_memory_per_connection_is_bounded(live_server):
    """200 websocket phones (under the per-address cap of 256) at the current revision: the server's resident memory grows by less than
    200 KiB each (the bench measures ~60 KiB, Node's socket.io ~20 KiB; docs/performance.md)."""
    since = current_revision(live_server)
    warm = RawClient(live_server)  # the first connect loads what every later one shares
    warm.send("40/live," + json.dumps({"event": SLUG, "since": since}))
    warm.read_until(lambda p: event_name(p) == "synced")
    before = rss_kib(live_server.proc.pid)
    clients = []
    try:
        for _ in range(200):
            client = RawClient(live_server)
            clients.append(client)
            client.send("40/live," + json.dumps({"event": SLUG, "since": since}))
            client.read_until(lambda p: event_name(p) == "synced")
        per_connection = (rss_kib(live_server.proc.pid) - before) / len(clients)
        print(f"\n[live] memory per websocket connection: {per_connection:.1f} KiB")
        assert per_connection < 200
    finally:
        for client in clients + [warm]:
            client.close()


def test_a_refused_connect_is_a_connect_error_with_a_message(live_server):
    client = RawClient(live_server)
    try:
        client.send("40/live," + json.dumps({"event": "no-such-event", "since": None}))
        packet = client.read_until(lambda p: p.startswith("44/live,"))
        data = json.loads(packet[len("44/live,") :])
        assert (
            isinstance(data, dict) and data["message"] == "unknown event" and data["data"] == {"code": "unknown_event"}
        )
        assert not [p for p in client.packets if event_name(p)]
    finally:
        client.close()


def test_a_sync_flood_is_cheap_and_the_door_keeps_answering(live_server):
    """300 `sync` messages of ~30 bytes on one anonymous websocket (which used to hold check-ins for
    10–15 s): a few are served, the rest refused at once; check-ins meanwhile answer quickly."""
    guest = live_server.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": "Flut Test", "city": "Trier"})
    code = guest.json()["code"]
    client = RawClient(live_server)
    answers, times = [], []
    try:
        client.send("40/live," + json.dumps({"event": SLUG, "since": None}))
        client.read_until(lambda p: event_name(p) == "synced")

        def door():
            for _ in range(15):
                sent = time.monotonic()
                r = live_server.api(
                    "POST", f"/api/v1/events/{SLUG}/checkins", json={"code": code, "nonce": str(uuid.uuid4())}
                )
                times.append(time.monotonic() - sent)
                answers.append(r.json()["result"])
                time.sleep(0.05)

        scanner = threading.Thread(target=door)
        scanner.start()
        for n in range(300):
            client.send(f'42/live,{n}["sync",{{"since":null}}]')
        acks = []
        end = time.monotonic() + 30
        while len(acks) < 300 and time.monotonic() < end:
            packet = client.read_until(lambda p: p.startswith("43/live,"), timeout=max(0.1, end - time.monotonic()))
            acks.append(json.loads(packet[packet.index("[") :])[0])
        scanner.join(30)
    finally:
        client.close()
    assert len(acks) == 300, f"{len(acks)} of 300 syncs answered"
    served = [a for a in acks if a.get("ok")]
    refused = [a for a in acks if a.get("error", {}).get("code") in ("rate_limited", "busy")]
    assert 1 <= len(served) <= 5 and len(served) + len(refused) == 300
    snapshots = [p for p in client.packets if event_name(p) == "snapshot"]
    assert len(snapshots) == len(served) + 1  # the connect's own and one per served sync
    assert answers[0] == "ok" and set(answers[1:]) == {"already"}
    assert max(times) < 1.0, f"a check-in waited {max(times):.2f} s during the flood"


def test_a_snapshot_is_built_once_per_revision(app):
    from webapp.core.extensions import db
    from webapp.core.models import Event
    from webapp.live import revisions

    app.config["LIVE_SNAPSHOT_SECONDS"] = 5
    event = db.session.execute(db.select(Event).filter_by(slug=SLUG)).scalar_one()
    built = []
    revisions._snapshot_parts.append(lambda e: built.append(1) or {})
    try:
        first = revisions.snapshot(event)
        assert revisions.snapshot(event) is first and len(built) == 1
        requests_ = [revisions.snapshot(event) for _ in range(100)]
        assert all(s is first for s in requests_) and len(built) == 1
        from webapp.agenda import domain

        domain.add_announcement(event, "Neue Revision")
        second = revisions.snapshot(event)
        assert second["revision"] == first["revision"] + 1 and len(built) == 2
    finally:
        revisions._snapshot_parts.pop()
