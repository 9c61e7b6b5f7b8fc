"""Restart and reconnect: 300 live clients (python-socketio's asyncio client, all in one event loop) on one
server; the server is restarted; two changes are made while it is down (straight in its database, as the CLI
or another process would) and one right after it is back, while the clients are still reconnecting. Every
client comes back by itself (reconnection=True, auth asks for what came after the revision it holds), ends at
the current revision, and has applied each of the three changes in order (or a snapshot at least that new).
Fails if not all are current within 60 s of the restart; prints p50/max of the time from restart to current."""

import asyncio
import statistics
import threading
import time

import pytest
import socketio

from tests.hardening.conftest import db_path, figure
from tests.helpers import SLUG

CLIENTS = 300
CONNECT_AT_ONCE = 25
ALL_BACK_WITHIN = 60.0


class AsyncLive:
    """A phone or screen as static/js/live.js behaves: applies `change` n+1 after n, takes a `snapshot`,
    asks for `sync` when it sees a gap (a change or heartbeat ahead of it)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.revision = None
        self.kinds = {}  # revision -> kind of the change applied
        self.snapshots = []  # revisions of snapshots taken
        self.reached = {}  # revision -> monotonic time it was first held
        self.syncs = self.disconnects = self.connects = 0
        self.sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_attempts=0,
            reconnection_delay=0.2,
            reconnection_delay_max=1,
            randomization_factor=0.5,
        )
        self.sio.on("*", self._message, namespace="/live")
        self.sio.on("connect", self._connected, namespace="/live")
        self.sio.on("disconnect", self._disconnected, namespace="/live")

    def _connected(self):
        self.connects += 1

    def _disconnected(self, *args):
        self.disconnects += 1

    def _hold(self, revision):
        self.revision = revision
        self.reached.setdefault(revision, time.monotonic())

    async def _message(self, name, data=None):
        if name == "snapshot":
            self.snapshots.append(data["revision"])
            self._hold(data["revision"])
        elif name == "change":
            revision = data["revision"]
            if self.revision is None or revision == self.revision + 1:
                self.kinds[revision] = data["kind"]
                self._hold(revision)
            elif revision > self.revision + 1:
                await self._sync()
        elif name == "heartbeat" and self.revision is not None and data["revision"] > self.revision:
            await self._sync()

    async def _sync(self):
        self.syncs += 1
        await self.sio.emit("sync", {"since": self.revision}, namespace="/live")

    async def connect(self):
        await self.sio.connect(
            self.base_url,
            namespaces=["/live"],
            transports=["websocket"],
            auth=lambda: {"event": SLUG, "since": self.revision},
            wait_timeout=20,
        )


async def wait_until(predicate, timeout, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


def changes_in_database(database, texts):
    """Changes made while the server is down, through the same domain functions as the API."""
    from webapp import create_app
    from webapp.agenda import domain
    from webapp.core.config import TestConfig
    from webapp.core.events import get_event
    from webapp.core.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    with app.app_context():
        event = get_event(SLUG)
        session = event.sessions[1]
        domain.update_session(event, session, {"delay_minutes": session.delay_minutes + 5}, actor="während Neustart")
        for text in texts:
            domain.add_announcement(event, text, actor="während Neustart")
        revision = get_event(SLUG).revision
        db.session.remove()
        db.engine.dispose()
    return revision


def current_revision(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]


async def scenario(server):
    clients = [AsyncLive(server.base_url) for _ in range(CLIENTS)]
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def connect(client):
        async with gate:
            await client.connect()

    t0 = time.monotonic()
    await asyncio.gather(*(connect(c) for c in clients))
    start_rev = await asyncio.to_thread(current_revision, server)
    assert await wait_until(lambda: all(c.revision == start_rev for c in clients), 30), "not all synced at start"
    connect_seconds = time.monotonic() - t0
    try:
        t_stop = time.monotonic()
        await asyncio.to_thread(server.stop)
        assert await wait_until(lambda: all(c.disconnects >= 1 for c in clients), 10), "clients did not notice"
        while_down = await asyncio.to_thread(changes_in_database, db_path(server), ["Neustart: bitte Geduld"])
        assert while_down == start_rev + 2
        await asyncio.to_thread(server.start)
        t_up = time.monotonic()
        r = await asyncio.to_thread(
            server.api, "PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 25}
        )
        assert r.status_code == 200, r.text
        target = start_rev + 3
        assert r.json()["revision"] == target
        back = await wait_until(lambda: all(c.revision == target for c in clients), ALL_BACK_WITHIN)
        late = [c for c in clients if c.revision != target]
        assert back, (
            f"{len(late)} of {CLIENTS} clients not current after {ALL_BACK_WITHIN} s "
            f"(revisions {sorted({c.revision for c in late}, key=str)})"
        )
        times = sorted(c.reached[target] - t_up for c in clients)
        for c in clients:  # every change made while away was applied, in order, or a snapshot covers it
            missed = [rev for rev in range(start_rev + 1, target + 1) if rev not in c.kinds]
            assert not missed or any(s >= target for s in c.snapshots), (missed, c.snapshots)
            assert c.connects >= 2 and c.revision == target
        kinds = {c.kinds.get(start_rev + 2) for c in clients}
        assert kinds <= {"announcement.added", None}
        figure(
            "reconnect",
            f"{CLIENTS} clients (connected in {connect_seconds:.1f} s); server down "
            f"{t_up - t_stop:.1f} s with 2 changes made meanwhile, 1 more right after the restart; "
            f"all current after restart: p50 {statistics.median(times):.2f} s, "
            f"max {times[-1]:.2f} s; {sum(c.syncs for c in clients)} gap resyncs, "
            f"{sum(1 for c in clients if c.snapshots[1:])} clients took a snapshot on return",
        )
    finally:
        for c in clients:
            c.sio.reconnection = False
        await asyncio.wait_for(asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True), 20)


@pytest.mark.timeout(150)
def test_three_hundred_clients_come_back_after_a_restart_and_miss_nothing(servers):
    server = servers("reconnect", env={"LIVE_MAX_PER_ADDRESS": "0"})  # 300 clients from one address
    run_in_own_thread(scenario(server))


def run_in_own_thread(coroutine):
    """asyncio.run in a thread of its own: in a full run, Playwright's sync API (the browser tests) keeps an
    event loop running in the main thread, where asyncio.run refuses to start."""
    outcome = {}

    def target():
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the test's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="reconnect-scenario")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
