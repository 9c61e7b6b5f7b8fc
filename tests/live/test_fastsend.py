"""The direct broadcast write (webapp/live/fastsend.py) on a real OS socket pair with a tiny send buffer:
whatever the kernel takes at once, every message arrives whole and in order, and nothing is written
directly while earlier messages still wait for the connection's writer."""

import socket
import struct
import threading

import engineio
from engineio import packet

from webapp.live.fastsend import LiveSocket, _TrackedWebSocket, websocket_frame


def read_all(sock):
    """Read in a thread (the writer blocks until the client reads); returns a function giving the frames."""
    chunks = []

    def read():
        sock.setblocking(True)
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def frames():
        reader.join(10)
        return parse_frames(b"".join(chunks))

    return frames


def parse_frames(data):
    """The texts of unmasked server websocket frames."""
    messages, i = [], 0
    while i < len(data):
        assert data[i] == 0x81, f"frame {len(messages)} starts with {data[i]:#x}"
        n, i = data[i + 1], i + 2
        if n == 126:
            n, i = struct.unpack("!H", data[i : i + 2])[0], i + 2
        elif n == 127:
            n, i = struct.unpack("!Q", data[i : i + 8])[0], i + 8
        messages.append(data[i : i + n].decode())
        i += n
    return messages


class FakeWebSocket:
    """Stands in for eventlet's/gevent's websocket: frames a text message and sends it, waiting as needed."""

    def __init__(self, sock):
        self.socket = sock

    def send(self, text):
        self.socket.sendall(websocket_frame(packet.Packet(encoded_packet=text)))


def connection():
    server_end, client_end = socket.socketpair()
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server_end.setblocking(False)
    conn = LiveSocket(engineio.Server(async_mode="threading"), "sid")
    conn.connected = conn.upgraded = True
    conn.raw = server_end
    return conn, server_end, client_end


def drain_like_the_writer(conn, server_end):
    """What the connection's writer task does with queued packets, once the client reads again."""
    server_end.setblocking(True)
    tracked = _TrackedWebSocket(FakeWebSocket(server_end), conn, server_end)
    tracked._raw_send = server_end.sendall
    while not conn.queue.empty():
        tracked.send(conn.queue.get().encode())


def test_messages_beyond_the_send_buffer_arrive_whole_and_in_order():
    conn, server_end, client_end = connection()
    texts = [f'2/live,["change",{{"revision":{n},"pad":"{"x" * 900}"}}]' for n in range(1, 201)]
    for text in texts:  # 200 × ~1 KB against a ~4 KiB buffer nobody reads from
        conn.send(packet.Packet(packet.MESSAGE, text))
    queued = conn.queue.qsize()
    assert 0 < queued < 200  # some went straight out, the rest waits for the writer
    frames = read_all(client_end)
    drain_like_the_writer(conn, server_end)
    server_end.close()
    assert frames() == ["4" + t for t in texts]


def test_no_direct_write_while_the_writer_is_sending():
    conn, server_end, client_end = connection()
    conn.busy = True
    conn.send(packet.Packet(packet.MESSAGE, "first"))
    assert conn.queue.qsize() == 1  # queued behind the send in progress
    conn.busy = False
    conn.send(packet.Packet(packet.MESSAGE, "second"))
    assert conn.queue.qsize() == 2  # still behind "first"
    frames = read_all(client_end)
    drain_like_the_writer(conn, server_end)
    conn.send(packet.Packet(packet.MESSAGE, "third"))  # queue empty, writer idle: written directly
    assert conn.queue.qsize() == 0
    server_end.close()
    assert frames() == ["4first", "4second", "4third"]


def test_a_broadcast_frames_its_packet_once():
    pkt = packet.Packet(packet.MESSAGE, '2/live,["heartbeat",{"revision":3}]')
    assert websocket_frame(pkt) is websocket_frame(pkt)
    long = packet.Packet(packet.MESSAGE, "x" * 70000)
    assert websocket_frame(long)[:2] == bytes((0x81, 127))
    assert websocket_frame(packet.Packet(packet.MESSAGE, b"\x00binary")) is None  # binary: the usual path


def test_tls_and_blocking_sockets_keep_the_usual_path():
    from webapp.live.fastsend import _plain_os_socket

    class Green:
        def __init__(self, fd):
            self.fd = fd

    plain, other = socket.socketpair()
    plain.setblocking(False)
    assert _plain_os_socket(type("WS", (), {"socket": Green(plain)})()) is plain
    blocking, other2 = socket.socketpair()
    assert _plain_os_socket(type("WS", (), {"socket": Green(blocking)})()) is None

    class TLS(Green):
        def getpeercert(self):
            return None

    assert _plain_os_socket(type("WS", (), {"socket": TLS(plain)})()) is None
    for s in (plain, other, blocking, other2):
        s.close()


def test_the_writer_keeps_waiting_while_broadcasts_bypass_its_queue():
    # python-engineio's writer gives up after ping interval + timeout without a queued packet; with direct
    # writes that would close every quiet connection after 40 s (the bench's 60-s storm found it).
    conn, server_end, client_end = connection()
    conn.server.ping_interval, conn.server.ping_timeout = 0.05, 0.05
    got = []
    waiter = threading.Thread(target=lambda: got.append(conn.poll()), daemon=True)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # five timeouts later, still waiting
    conn.queue.put(packet.Packet(packet.MESSAGE, "late"))
    waiter.join(2)
    assert [p.data for p in got[0]] == ["late"]
    conn.raw = None  # no longer a direct-write websocket: the library's timeout applies again
    try:
        conn.poll()
        raise AssertionError("poll should time out")
    except engineio.exceptions.QueueEmpty:
        pass
    server_end.close(), client_end.close()


class WaitingSocket:
    """The green socket's sendall as the writer sees it: waits until the kernel takes everything."""

    def __init__(self, sock):
        self.sock = sock

    def sendall(self, data):
        import select

        view = memoryview(data)
        while view:
            select.select([], [self.sock], [], 5)
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                pass


class LeanFakeWebSocket(FakeWebSocket):
    def __init__(self, sock):
        super().__init__(WaitingSocket(sock))
        self.closed = False

    def close(self):
        self.closed = True


def lean_connection():
    """A websocket connection opened as one: no standing writer task (threads stand in for tasks here)."""
    conn, server_end, client_end = connection()
    ws = LeanFakeWebSocket(server_end)
    conn._ws = _TrackedWebSocket(ws, conn, server_end)
    conn._ws._raw_send = ws.socket.sendall
    conn.lean = True
    return conn, server_end, client_end, ws


def wait_for(predicate, timeout=5):
    import time

    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "not within time"
        time.sleep(0.01)


def test_a_lean_connection_has_a_writer_only_while_something_waits_and_keeps_the_order():
    conn, server_end, client_end, ws = lean_connection()
    assert not conn.writer
    conn.send(packet.Packet(packet.MESSAGE, "direct"))
    assert not conn.writer and conn.queue.empty()  # written straight away, no task
    texts = [f'2/live,["change",{{"revision":{n},"pad":"{"x" * 900}"}}]' for n in range(1, 201)]
    for text in texts:  # beyond the 4-KiB buffer: a writer starts for the rest
        conn.send(packet.Packet(packet.MESSAGE, text))
    assert conn.writer
    frames = read_all(client_end)
    wait_for(lambda: not conn.writer)  # it sent everything and ended
    conn.send(packet.Packet(packet.MESSAGE, "after"))
    assert not conn.writer and conn.queue.empty()
    server_end.close()
    assert frames() == ["4direct"] + ["4" + t for t in texts] + ["4after"]


def test_closing_a_lean_connection_sends_close_then_closes_the_websocket_and_drops_the_rest():
    conn, server_end, client_end, ws = lean_connection()
    frames = read_all(client_end)
    conn.close()  # wait=True: returns once the close has gone out
    assert ws.closed and conn.queue.empty() and not conn.writer
    conn.queue.put(packet.Packet(packet.MESSAGE, "too late"))
    conn._wake_writer()  # after the end nothing more is sent, and no task is started for it
    assert conn.queue.empty() and not conn.writer
    server_end.close()
    assert frames() == ["1"]  # Engine.IO CLOSE


def test_pings_come_from_one_task_and_skip_closed_connections():
    server = engineio.Server(async_mode="threading", ping_interval=0.1)
    pinged = []

    class Recording(LiveSocket):
        def send(self, pkt):
            pinged.append((self.sid, pkt.packet_type))

    conns = [Recording(server, f"s{n}") for n in range(50)]
    conns[7].closed = True
    threads_before = threading.active_count()
    for conn in conns:
        conn.schedule_ping()
    assert threading.active_count() <= threads_before + 1  # one task for all 50, not one each
    wait_for(lambda: server._live_pings.task is None)  # it ends once none is due
    assert sorted(pinged) == sorted((c.sid, packet.PING) for c in conns if not c.closed)
    assert all(c.last_ping for c in conns if not c.closed)
    conns[0].schedule_ping()  # the answer (PONG) schedules the next ping
    conns[0].schedule_ping()  # a second answer before that ping went out schedules nothing more
    assert [c for _, c in server._live_pings.due] == [conns[0]]
