"""Transport defences (webapp/live/transport.py) against real eventlet, gevent and threading servers:

- long-polling POSTs that announce too big (or no, or a chunked) body on a real Engine.IO session, sent as
  headers only with no GET, are answered 413 at once and their connections freed (python-engineio would
  leave each request unanswered and its file descriptor open for ever); the same for a small POST with a bad
  packet, which took python-engineio into the same endless wait; the session such a POST names ends (its
  pending GET gets the CLOSE packet), and a real long-polling client still works;
- open Engine.IO sessions are capped per client address at the handshake (polling and websocket);
- with two processes on a Redis message queue, clients of both are current within 3 s after an 8-s Redis
  outage during which a change was made;
- ACCESS_LOG=1 writes the request lines with ticket tokens and pairing codes redacted;
- eventlet closes a connection that stays silent (half a request) after SERVER_SOCKET_TIMEOUT, and a live
  websocket, which answers the 20-s pings, outlives that.

Every loop is bounded in count and time; everything talks to 127.0.0.1 only."""

import json
import os
import re
import socket
import statistics
import threading
import time
import uuid

import pytest
import requests
import socketio

from tests.hardening.conftest import db_path, figure, sqlite_server
from tests.helpers import SLUG
from tests.live.client import LiveClient
from tests.tcp_proxy import TcpProxy

LIMIT = 64 * 1024  # SOCKETIO_MAX_BUFFER
FD_SLACK = 6  # a log file, a database file, the odd socket being torn down


def open_fds(server):
    return len(os.listdir(f"/proc/{server.proc.pid}/fd"))


def settle_fds(server, at_most, timeout=5.0):
    """The server's open file descriptors, once they are at most `at_most` (or after `timeout`)."""
    end = time.monotonic() + timeout
    while True:
        n = open_fds(server)
        if n <= at_most or time.monotonic() > end:
            return n
        time.sleep(0.1)


def baseline_fds(server):
    requests.get(server.base_url + "/healthz", timeout=5)
    time.sleep(0.5)
    return open_fds(server)


def handshake(server, headers=None):
    """A real Engine.IO session over long-polling: its sid."""
    r = requests.get(server.base_url + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return json.loads(r.text[1:].split("\x1e")[0])["sid"]


def raw_post(server, sid, framing, body=b""):
    """A long-polling POST for `sid` on a fresh TCP connection, as bytes on the wire."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\n{framing}\r\n".encode()
        + body
    )
    return s


def read_answer(s, timeout, until_closed=True):
    """(status code or None, whether the server closed the connection) within `timeout` seconds; without
    `until_closed`, as soon as the answer's head is in."""
    s.settimeout(0.05)
    data, closed = b"", False
    end = time.monotonic() + timeout
    while time.monotonic() < end and (until_closed or b"\r\n\r\n" not in data):
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
    return status, closed


def healthz_seconds(server):
    t = time.monotonic()
    r = requests.get(server.base_url + "/healthz", timeout=5)
    assert r.status_code == 200
    return time.monotonic() - t


OVERSIZED = [
    f"Content-Length: {LIMIT + 1}\r\n",
    "Content-Length: 100000\r\n",
    "",  # none at all
    "Transfer-Encoding: chunked\r\n",
]


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def leak_server(request, server_template, tmp_path_factory):
    mode = request.param
    # the sessions these tests open linger (unpolled) until their ping timeout: no per-address cap here
    server = sqlite_server(
        server_template, tmp_path_factory.mktemp(f"leak-{mode}"), async_mode=mode, env={"LIVE_MAX_PER_ADDRESS": "0"}
    )
    server.start()
    server.mode = mode
    yield server
    server.stop()


@pytest.mark.timeout(120)
def test_oversized_polling_posts_are_refused_at_once_and_free_their_connections(leak_server):
    server = leak_server
    base = baseline_fds(server)

    # 1. header-only POSTs on real sessions, no GET, the client closes at once (the reported pattern)
    n_closing = 200
    t = time.monotonic()
    for i in range(n_closing):
        raw_post(server, handshake(server), OVERSIZED[i % len(OVERSIZED)]).close()
    after_closing = settle_fds(server, base + FD_SLACK)
    closing_seconds = time.monotonic() - t
    assert after_closing <= base + FD_SLACK, (
        f"{after_closing - base} descriptors still open after {n_closing} oversized POSTs (baseline {base})"
    )
    assert healthz_seconds(server) < 1.0

    # 2. the same, but the clients keep their sockets open: each gets 413 at once and the server closes
    n_holding = 100
    held = [raw_post(server, handshake(server), OVERSIZED[i % len(OVERSIZED)]) for i in range(n_holding)]
    try:
        deadline = time.monotonic() + 3  # for all of them together
        answers = [read_answer(s, timeout=max(0.05, deadline - time.monotonic())) for s in held]
        assert all(status == 413 for status, _ in answers), sorted({a for a in answers}, key=str)
        assert all(closed for _, closed in answers), "the server kept a refused connection open"
        while_held = settle_fds(server, base + FD_SLACK)
        assert while_held <= base + FD_SLACK, f"{while_held - base} descriptors open while clients hold theirs"
        time.sleep(2)  # the clients hold their sockets a while longer: nothing on the server waits for them
        while_held = max(while_held, open_fds(server))
        assert while_held <= base + FD_SLACK
        health = healthz_seconds(server)
        assert health < 1.0
    finally:
        for s in held:
            s.close()
    after_holding = settle_fds(server, base + FD_SLACK)
    assert after_holding <= base + FD_SLACK

    # 3. the session a refused POST names ends, as python-engineio ends it for an oversized message: the
    # client's pending GET gets the CLOSE packet, and the session is gone
    sid = handshake(server)
    url = f"{server.base_url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    poll = {}
    pending = threading.Thread(target=lambda: poll.update(r=requests.get(url, timeout=25)), daemon=True)
    pending.start()
    time.sleep(0.3)
    s = raw_post(server, sid, OVERSIZED[0])
    try:
        assert read_answer(s, timeout=3)[0] == 413
    finally:
        s.close()
    pending.join(5)
    assert "r" in poll and poll["r"].text.startswith("1"), poll  # engine.io CLOSE
    assert requests.get(url, timeout=5).status_code == 400

    # 4. a legitimate long-polling client still works (its POSTs are small and sized)
    client = socketio.Client(reconnection=False)
    synced = threading.Event()
    client.on("synced", lambda data: synced.set(), namespace="/live")
    client.connect(
        server.base_url,
        namespaces=["/live"],
        transports=["polling"],
        auth={"event": SLUG, "since": None},
        wait_timeout=10,
    )
    try:
        assert synced.wait(10) and client.transport() == "polling"
    finally:
        # python-engineio's polling client may wait for its pending GET (up to the next heartbeat) to leave
        threading.Thread(target=client.disconnect, daemon=True).start()
    figure(
        f"oversized polling POSTs ({server.mode})",
        f"{n_closing} header-only POSTs (client closes) in {closing_seconds:.1f} s and {n_holding} held open: "
        f"all 413 at once; server fds baseline {base}, after {after_closing}, while held {while_held}, "
        f"after {after_holding}; /healthz {health * 1000:.0f} ms",
    )


@pytest.mark.timeout(120)
def test_a_bad_packet_on_a_polling_session_is_answered_and_frees_its_connection(leak_server):
    """A small POST with an unknown packet type: python-engineio disconnects the session and waited, inside
    this request, for a GET to collect the CLOSE packet (forever without one)."""
    server = leak_server
    base = baseline_fds(server)
    held = [raw_post(server, handshake(server), "Content-Length: 1\r\n", b"7") for _ in range(40)]
    try:
        t = time.monotonic()
        answers = [read_answer(s, timeout=max(0.05, t + 5 - time.monotonic()), until_closed=False) for s in held]
        assert all(status == 400 for status, _ in answers), sorted({a for a in answers}, key=str)
        answered_within = time.monotonic() - t
    finally:
        for s in held:
            s.close()
    after = settle_fds(server, base + FD_SLACK)
    assert after <= base + FD_SLACK, f"{after - base} descriptors still open after 40 bad packets"
    assert healthz_seconds(server) < 1.0
    figure(
        f"bad packets on polling sessions ({server.mode})",
        f"40 answered 400 within {answered_within:.1f} s; fds baseline {base}, after {after}",
    )


# ---- sessions per address --------------------------------------------------------------------------------


def polling_handshake_status(server, headers=None):
    return requests.get(server.base_url + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5).status_code


def websocket_client(server):
    client = socketio.Client(reconnection=False)
    client.connect(
        server.base_url,
        namespaces=["/live"],
        transports=["websocket"],
        auth={"event": SLUG, "since": None},
        wait_timeout=5,
    )
    return client


def websocket_session_opens(server):
    """Does a websocket handshake get an Engine.IO session (its OPEN packet)? Refused: eventlet and Werkzeug
    answer 401; gevent-websocket has answered 101 before the app is asked, then closes without a packet."""
    import websocket

    try:
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=5
        )
    except websocket.WebSocketBadStatusException as exc:
        assert exc.status_code == 401
        return False
    try:
        first = ws.recv()
    except (websocket.WebSocketException, OSError):
        return False
    finally:
        ws.close()
    return isinstance(first, str) and first.startswith("0{")


def close_polling_session(server, sid):
    """The client side of a polling session says goodbye: an Engine.IO CLOSE packet."""
    r = requests.post(f"{server.base_url}/socket.io/?EIO=4&transport=polling&sid={sid}", data="1", timeout=5)
    assert r.status_code == 200


def wait_until(predicate, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["eventlet", "gevent", "threading"])
def test_open_sessions_per_address_are_capped_at_the_handshake(servers, mode):
    server = servers(f"cap-{mode}", async_mode=mode, env={"LIVE_MAX_PER_ADDRESS": "4"})
    sockets_ = [websocket_client(server), websocket_client(server)]
    sids = [handshake(server), handshake(server)]
    try:
        assert polling_handshake_status(server) == 401  # the fifth session: polling ...
        assert not websocket_session_opens(server)  # ... or websocket
        sockets_.pop().disconnect()  # one websocket leaves: one more may come
        assert wait_until(lambda: polling_handshake_status(server) == 200, 5)
        assert polling_handshake_status(server) == 401
        close_polling_session(server, sids.pop())  # one polling session leaves: a websocket may come
        more = None
        end = time.monotonic() + 5
        while more is None and time.monotonic() < end:
            try:
                more = websocket_client(server)
            except (socketio.exceptions.ConnectionError, ValueError):  # ValueError: gevent's 101-then-close
                time.sleep(0.1)
        assert more is not None
        sockets_.append(more)
        assert polling_handshake_status(server) == 401
    finally:
        for client in sockets_:
            client.disconnect()


@pytest.mark.timeout(60)
def test_behind_the_proxy_the_cap_counts_the_forwarded_address(servers):
    server = servers("cap-proxy", env={"LIVE_MAX_PER_ADDRESS": "2", "PROXY_FIX": "1"})
    one = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(2):
        handshake(server, headers=one)
    assert polling_handshake_status(server, headers=one) == 401
    # the last entry is the one our proxy appended; what a client put before it does not count
    assert polling_handshake_status(server, headers={"X-Forwarded-For": "203.0.113.7, 203.0.113.8"}) == 200
    assert polling_handshake_status(server, headers={"X-Forwarded-For": "198.51.100.1"}) == 200


def test_a_cap_of_zero_lets_any_number_through(app):
    """In-process: LIVE_MAX_PER_ADDRESS=0 lets any number through (load tests from one address)."""
    cap = app.extensions["live_session_cap"]
    cap.limit = 0
    client = app.test_client()
    for _ in range(300):
        assert client.get("/socket.io/?EIO=4&transport=polling").status_code == 200
    assert cap.count("127.0.0.1") == 300 and cap.refused == 0
    cap.limit = 300
    assert client.get("/socket.io/?EIO=4&transport=polling").status_code == 401
    assert cap.refused == 1


# ---- Redis outage ---------------------------------------------------------------------------------------


class SyncingClient(LiveClient):
    """A /live client that behaves like static/js/live.js: a change or heartbeat ahead of its revision
    makes it ask `sync`."""

    def _record(self, name, data=None):
        super()._record(name, data)  # applies a snapshot or the next change
        if (
            name in ("heartbeat", "change")
            and isinstance(data, dict)
            and self.revision is not None
            and isinstance(data.get("revision"), int)
            and data["revision"] > self.revision
        ):
            threading.Thread(target=self._sync, daemon=True).start()  # not in the client's reader thread

    def _sync(self):
        try:
            self.sio.emit("sync", {"since": self.revision}, namespace="/live")
        except Exception:  # noqa: BLE001  (disconnected meanwhile)
            pass


class CutProxy(TcpProxy):
    """tests/tcp_proxy.py's proxy, with a cut that reaches every connection: its pump threads sit in recv()
    on both sockets of a pair, and on Linux a close() from another thread neither wakes that recv nor lets the
    kernel send anything while it waits (a connection that only reads, like a Redis subscriber, stayed up
    through the "outage"). shutdown() first wakes it and sends the FIN; the close then resets."""

    @staticmethod
    def _reset(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        TcpProxy._reset(sock)


def agenda_revision(server):
    return server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_clients_of_both_processes_are_current_soon_after_a_redis_outage(servers, redis_url, mode):
    proxy = CutProxy(6379)
    env = {
        "ASYNC_MODE": mode,
        "SOCKETIO_MESSAGE_QUEUE": f"redis://127.0.0.1:{proxy.port}/0",
        "SOCKETIO_CHANNEL": f"treffpunkt-outage-{uuid.uuid4().hex[:8]}",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    try:
        a = servers(f"outage-{mode}-a", env=env)
        b = servers(f"outage-{mode}-b", env={**env, "DATABASE_URL": f"sqlite:///{db_path(a)}"})  # one database
        rev = agenda_revision(a)
        on_a, on_b = SyncingClient(a.base_url, since=rev), SyncingClient(b.base_url, since=rev)
        try:
            assert on_a.wait_for(lambda c: c.received("synced")) and on_b.wait_for(lambda c: c.received("synced"))
            r = a.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 5})
            assert r.status_code == 200 and r.json()["revision"] == rev + 1
            assert on_b.wait_revision(rev + 1, timeout=3), "the queue does not work before the outage"

            proxy.down()
            t_down = time.monotonic()
            time.sleep(1.0)
            t = time.monotonic()
            r = a.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 15})
            change_seconds = time.monotonic() - t
            assert r.status_code == 200 and r.json()["revision"] == rev + 2
            assert change_seconds < 2.0, f"a change during the outage took {change_seconds:.1f} s"
            assert on_a.wait_revision(rev + 2, timeout=2), "process A's own client missed A's change"
            time.sleep(max(0.0, 8.0 - (time.monotonic() - t_down)))
            assert (on_b.revision or 0) == rev + 1  # B's client could not know yet
            proxy.up()
            t_up = time.monotonic()
            assert on_b.wait_revision(rev + 2, timeout=3.0), (
                f"B's client still at {on_b.revision} 3 s after Redis came back"
            )
            b_seconds = time.monotonic() - t_up
            # the queue works again: the next change reaches B at once
            r = a.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 20})
            assert r.json()["revision"] == rev + 3
            assert on_b.wait_revision(rev + 3, timeout=2) and on_a.wait_revision(rev + 3, timeout=2)
        finally:
            on_a.close(), on_b.close()
        figure(
            f"redis outage ({mode})",
            f"{t_up - t_down:.1f} s down with one change made through A; A's client had it "
            f"at once; B's client current {b_seconds:.2f} s after Redis came back; the change "
            f"during the outage answered in {change_seconds * 1000:.0f} ms",
        )
    finally:
        proxy.close()


# ---- the access log -------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["eventlet", "gevent", "threading"])
def test_the_access_log_redacts_ticket_tokens_and_pairing_codes(servers, mode):
    server = servers(f"log-{mode}", async_mode=mode, env={"ACCESS_LOG": "1"})
    guest = server.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": "Log Probe", "city": "Trier"})
    assert guest.status_code == 201, guest.text
    token = guest.json()["ticket_url"].rstrip("/").rsplit("/t/", 1)[1]
    code = "PAIRCODE" + uuid.uuid4().hex
    base = server.base_url
    assert requests.get(f"{base}/t/{token}", timeout=5).status_code == 200
    assert requests.get(f"{base}/t/{token}/print?size=a4", timeout=5).status_code == 200
    requests.get(f"{base}/api/v1/t/{token}/interests?probe={token}", timeout=5)
    requests.get(f"{base}//t/{token}", timeout=5, allow_redirects=False)
    requests.get(f"{base}/staff/pair/{code}", timeout=5)
    requests.get(f"{base}/staff/login", params={"next": f"/staff/pair/{code}"}, timeout=5)
    sid = handshake(server)
    assert requests.post(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", data="3", timeout=5).ok  # a pong
    requests.get(f"{base}/healthz?after-the-secrets", timeout=5)

    def log():
        return server.log_path.read_text(errors="replace")

    assert wait_until(lambda: "/healthz?after-the-secrets" in log(), 5), log()[-2000:]
    text = log()
    for secret in (token, code, sid):
        assert secret not in text, f"{secret[:8]}… is in the log"
    # (eventlet says HTTP/1.0 in SERVER_PROTOCOL whatever the client spoke)
    assert re.search(r'"GET /t/\[redacted\] HTTP/1\.[01]" 200 \d+ ', text)
    assert re.search(r'"GET /t/\[redacted\]/print\?\[redacted\] HTTP/1\.[01]" 200 \d+ ', text)
    assert re.search(r'"GET /api/v1/t/\[redacted\]/interests\?\[redacted\] HTTP/1\.[01]" \d{3} ', text)
    assert re.search(r'"GET /staff/pair/\[redacted\] HTTP/1\.[01]" \d{3} ', text)
    assert '"GET /staff/login?[redacted] HTTP/1.' in text  # a query naming a pairing page
    assert "sid=[redacted]" in text
    assert text.count("/healthz?after-the-secrets") == 1  # one log, not ours and the server's


# ---- silent connections (eventlet) ----------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_eventlet_drops_a_silent_connection_but_keeps_live_websockets(servers):
    """SERVER_SOCKET_TIMEOUT (25 s here, the smallest run.py accepts; 60 s by default)."""
    server = servers("silent", env={"SERVER_SOCKET_TIMEOUT": "25"})
    base = baseline_fds(server)
    half = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and never the blank line
        half.append(s)
    live = LiveClient(server.base_url)
    try:
        assert live.wait_for(lambda c: c.received("synced"))
        t = time.monotonic()
        closed_at = {}
        for s in half:
            s.settimeout(0.05)
        while len(closed_at) < len(half) and time.monotonic() - t < 35:
            for i, s in enumerate(half):
                if i in closed_at:
                    continue
                try:
                    if s.recv(1024) == b"":
                        closed_at[i] = time.monotonic() - t
                except socket.timeout:
                    pass
                except OSError:
                    closed_at[i] = time.monotonic() - t
        assert len(closed_at) == len(half), f"{len(half) - len(closed_at)} half requests still open after 35 s"
        assert 20 <= min(closed_at.values()) and max(closed_at.values()) < 32
        assert live.sio.connected, "the idle websocket was cut"
        r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 7})
        assert live.wait_revision(r.json()["revision"], timeout=3)
        after = settle_fds(server, base + FD_SLACK + 1)  # + the websocket
        assert after <= base + FD_SLACK + 1
    finally:
        live.close()
        for s in half:
            s.close()
    figure(
        "silent connections (eventlet)",
        f"20 half-sent requests closed after {statistics.median(closed_at.values()):.1f} s (timeout 25 s); "
        f"a websocket idle as long stayed and got the next change",
    )
