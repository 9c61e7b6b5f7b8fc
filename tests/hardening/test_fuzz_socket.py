"""Bad input everywhere, Socket.IO side (namespace /live), with flask_socketio test clients and hypothesis:
connect auth of any shape, `sync` with any payload, unknown events, and the staff events (anonymous and as
an admin) with any payload. Never an exception out of a handler, always an {error: {code, message}} answer
for a refused staff event with the database unchanged, and the server keeps serving: a normal client connects
and syncs afterwards. On a real server: a message larger than max_http_buffer_size (64 KiB) ends that client's
connection (websocket) or session (long-polling: 400), and the others go on getting changes."""

import json
import threading
import time

import pytest
import requests
import socketio as socketio_client
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import count_case, figure, fuzz_strategies, hypothesis_profile, is_error_json, iso_times
from tests.helpers import SLUG

PROFILE = hypothesis_profile()
TEXT, ANY_JSON = fuzz_strategies()
NS = "/live"
PUBLIC_EVENTS = {"connect", "disconnect", "sync"}


@pytest.fixture(scope="module")
def f(fuzz_app):
    return fuzz_app


def live_handlers():
    from webapp.core.extensions import socketio

    names = set(socketio.server.handlers.get(NS, {}))
    names |= {name for name, _, namespace in socketio.handlers if namespace == NS}
    return names


def staff_events():
    return sorted(live_handlers() - PUBLIC_EVENTS)


NORMAL = object()


def connect(f, auth=NORMAL, flask_client=None):
    from webapp.core.extensions import socketio

    return socketio.test_client(
        f.app,
        namespace=NS,
        auth={"event": SLUG, "since": None} if auth is NORMAL else auth,
        flask_test_client=flask_client,
    )


def admin_flask_client(f):
    client = f.app.test_client()
    with f.app.app_context():
        r = client.post("/staff/login", data={"name": "fuzz-admin", "password": "fuzz-admin-pw"})
    assert r.status_code == 302
    return client


def still_serving(f):
    c = connect(f)
    try:
        names = [m["name"] for m in c.get_received(NS)]
        assert "synced" in names, names
        assert c.emit("sync", {"since": 0}, namespace=NS, callback=True) == {"ok": True}
    finally:
        c.disconnect(NS)


def auths():
    return st.one_of(
        ANY_JSON,
        st.fixed_dictionaries(
            {"event": st.one_of(st.just(SLUG), TEXT, ANY_JSON)},
            optional={"since": st.one_of(st.integers(), st.integers(-(2**70), 2**70), ANY_JSON)},
        ),
    )


def test_connect_with_auth_of_any_shape(f):
    outcomes = {"connected": 0, "refused": 0}

    @settings(PROFILE, max_examples=150)
    @given(auth=auths())
    def run(auth):
        c = connect(f, auth=auth)
        try:
            expected = isinstance(auth, dict) and auth.get("event") == SLUG
            assert c.is_connected(NS) == expected, auth
            if expected:
                names = [m["name"] for m in c.get_received(NS)]
                assert "synced" in names and ("snapshot" in names or "change" in names or names[0] == "synced")
            outcomes["connected" if expected else "refused"] += 1
        finally:
            if c.is_connected(NS):
                c.disconnect(NS)
        count_case("socket connect")

    run()
    assert outcomes["connected"] and outcomes["refused"]
    still_serving(f)


def test_sync_and_unknown_events_with_any_payload(f):
    c = connect(f)
    c.get_received(NS)
    payloads = st.one_of(
        ANY_JSON, st.fixed_dictionaries({"since": st.one_of(st.integers(), st.integers(-(2**70), 2**70), ANY_JSON)})
    )
    names = st.one_of(
        st.just("sync"),
        st.sampled_from(
            ["connect", "disconnect", "message", "change", "snapshot", "heartbeat", "stats", "*", "", "__proto__"]
        ),
        TEXT,
    )
    try:

        @settings(PROFILE, max_examples=200)
        @given(name=names, payload=payloads)
        def run(name, payload):
            before = f.watch.state()
            if name in ("connect", "disconnect"):
                return  # not events a client can send
            answer = c.emit(name, payload, namespace=NS, callback=True)
            if name == "sync":  # served, or refused at once: a connection gets 3 in a row, then 1 per 2 s
                assert answer == {"ok": True} or answer["error"]["code"] == "rate_limited", answer
            elif name in staff_events():
                assert is_error_json(answer) or isinstance(answer, dict), answer
            else:
                assert answer is None, (name, answer)
            if name not in staff_events():
                assert f.watch.state() == before, f"{name} changed the database"
            c.get_received(NS)
            count_case("socket events")

        run()
        assert c.is_connected(NS)
    finally:
        c.disconnect(NS)
    still_serving(f)


def staff_payloads(f, name=None):
    field = {
        "id": st.one_of(st.just(f.session_id), st.integers(), st.integers(-(2**70), 2**70), ANY_JSON),
        "delay_minutes": st.one_of(st.integers(-1500, 1500), ANY_JSON),
        "room": st.one_of(st.sampled_from(["Forum", "Foyer", "Mond"]), ANY_JSON),
        "status": st.one_of(st.sampled_from(["scheduled", "cancelled"]), ANY_JSON),
        "title": TEXT,
        "abstract": TEXT,
        "text": TEXT,
        "kind": st.sampled_from(["talk", "x"]),
        "severity": st.one_of(st.sampled_from(["info", "urgent", "x"]), ANY_JSON),
        "planned_start": iso_times(),
        "planned_end": iso_times(),
        "expires_at": iso_times(),
        "expires_in_minutes": st.one_of(st.integers(-5, 20_000), ANY_JSON),
        "shift_following": ANY_JSON,
    }
    keys = {
        "update_session": [
            "delay_minutes",
            "room",
            "status",
            "title",
            "abstract",
            "kind",
            "planned_start",
            "planned_end",
            "shift_following",
        ],
        "announce": ["text", "severity", "expires_at", "expires_in_minutes"],
    }.get(name, sorted(field))
    required = {"update_session": {"id": field["id"]}, "announce": {"text": TEXT}}.get(name, {})
    fitting = st.fixed_dictionaries(required, optional={k: field[k] for k in keys if k not in required})
    return st.one_of(
        fitting, fitting.map(lambda d: {**d, "unknown": 1}), st.fixed_dictionaries({}, optional=field), ANY_JSON
    )


def event_and_payload(f):
    return st.sampled_from(staff_events()).flatmap(lambda name: st.tuples(st.just(name), staff_payloads(f, name)))


def test_staff_events_refuse_anonymous_whatever_the_payload(f):
    events = staff_events()
    assert events, "no staff events found on /live"
    c = connect(f)
    try:

        @settings(PROFILE, max_examples=100)
        @given(case=event_and_payload(f))
        def run(case):
            name, payload = case
            before = f.watch.state()
            answer = c.emit(name, payload, namespace=NS, callback=True)
            assert is_error_json(answer) and answer["error"]["code"] == "unauthorized", (name, answer)
            assert f.watch.state() == before
            count_case("socket staff events (anonymous)")

        run()
    finally:
        c.disconnect(NS)


def test_staff_events_as_admin_with_any_payload(f):
    c = connect(f, flask_client=admin_flask_client(f))
    results = {"done": 0, "refused": 0}
    try:

        @settings(PROFILE, max_examples=200)
        @given(case=event_and_payload(f))
        def run(case):
            name, payload = case
            before = f.watch.state()
            answer = c.emit(name, payload, namespace=NS, callback=True)
            assert isinstance(answer, dict), (name, payload, answer)
            if "error" in answer:
                assert is_error_json(answer), answer
                assert answer["error"]["code"] != "unauthorized"
                assert f.watch.state() == before, f"{name} refused but the database changed"
                results["refused"] += 1
            else:
                assert isinstance(answer.get("revision"), int)
                results["done"] += 1
            c.get_received(NS)
            count_case("socket staff events (admin)")

        run()
    finally:
        c.disconnect(NS)
    assert results["done"] and results["refused"], results
    still_serving(f)


# ---- oversized messages on a real server -----------------------------------------------------------------


@pytest.mark.timeout(60)
def test_messages_over_max_http_buffer_size_are_refused_and_others_go_on(servers):
    server = servers("socket-oversized")
    pad = "x" * (70 * 1024)  # over SOCKETIO_MAX_BUFFER (64 KiB)
    got, dropped = [], []
    good = socketio_client.Client(reconnection=False)
    good.on("change", lambda data: got.append(data["revision"]), namespace=NS)
    bad = socketio_client.Client(reconnection=False)
    bad.on("disconnect", lambda *a: dropped.append(time.monotonic()), namespace=NS)
    for c in (good, bad):
        c.connect(
            server.base_url,
            namespaces=[NS],
            transports=["websocket"],
            auth={"event": SLUG, "since": None},
            wait_timeout=10,
        )
    try:
        sent = time.monotonic()
        bad.emit("sync", {"since": 0, "pad": pad}, namespace=NS)
        end = time.monotonic() + 5
        while not dropped and time.monotonic() < end:
            time.sleep(0.01)
        assert dropped, "an oversized websocket message did not end the connection"
        assert good.connected
        r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 17})
        assert r.status_code == 200
        end = time.monotonic() + 5
        while r.json()["revision"] not in got and time.monotonic() < end:
            time.sleep(0.01)
        assert r.json()["revision"] in got, "the other client stopped getting changes"
        websocket_ms = (dropped[0] - sent) * 1000

        # Long-polling, as a browser without websockets: the oversized POST is refused (400), the session ends.
        base = f"{server.base_url}/socket.io/?EIO=4&transport=polling"
        sid = json.loads(requests.get(base, timeout=5).text[1:])["sid"]
        url = f"{base}&sid={sid}"
        assert requests.post(url, data=f'40{NS},{{"event":"{SLUG}","since":null}}', timeout=5).ok
        assert requests.get(url, timeout=5).ok  # the catch-up
        poll = {}
        waiting = threading.Thread(target=lambda: poll.update(r=requests.get(url, timeout=25)), daemon=True)
        waiting.start()  # a polling client always has a GET outstanding
        time.sleep(0.3)
        big = requests.post(url, data=f"42{NS}," + json.dumps(["sync", {"since": 0, "pad": pad}]), timeout=10)
        waiting.join(10)
        assert big.status_code == 413  # refused before the body is read (webapp/live/transport.py)
        assert poll["r"].text.startswith("1")  # engine.io CLOSE: the session is over
        assert requests.get(url, timeout=5).status_code == 400  # and stays over
        assert requests.get(f"{server.base_url}/healthz", timeout=5).ok and good.connected
    finally:
        for c in (good, bad):
            if c.connected:
                c.disconnect()
    figure(
        "oversized socket message",
        f"70 KiB > 64 KiB: websocket closed after {websocket_ms:.0f} ms, "
        "long-polling POST 400 and session closed; other clients unaffected",
    )
