"""One write per recipient for live broadcasts.

Out of the box, python-engineio hands every outgoing packet of every connection to that connection's queue;
a writer task per connection wakes up, encodes the packet and frames it for the websocket. For a broadcast
to 2,000 phones that is 2,000 queue hand-overs, task switches, encodings and framings of the same bytes —
most of the server's CPU time for a change (bench/, docs/performance.md).

python-socketio already builds one Engine.IO packet object per broadcast and passes that same object for
every recipient. Here each connection's `send` turns that object into a websocket frame once (server frames
are not masked, so the frame is the same for everyone) and writes it straight to the connection's socket
with one non-blocking send, when nothing else is waiting to go out on that connection. Everything else
takes the usual queued path, so the order of a connection's messages is kept:
  - the connection is not (yet) a websocket, or is upgrading;
  - packets are queued or the writer task is in the middle of a send (a slow phone);
  - the socket is TLS (run.py with CERT_FILE): bytes must go through the TLS layer; behind a proxy that
    terminates TLS, as docs/deployment.md recommends, the fast path applies;
  - the kernel takes only part of the frame (a full send buffer): the rest is queued for the writer task,
    which sends it before anything later.
Only eventlet and gevent servers use this (create_app installs it); the threading mode keeps the library's
path. The code is cooperative-scheduling safe: nothing here yields between the checks and the write, the
writer task does not yield between taking packets from the queue and starting their send (during which it
is marked busy), and eventlet's and gevent's queues keep a packet until the waiting writer actually runs
and takes it, so an empty queue and an idle writer mean nothing is waiting for this connection.

No standing tasks per connection: python-engineio keeps, per websocket connection, a writer task waiting on
its queue and a task sleeping until the next ping, about 9 KiB each while idle. With direct writes the queue
is nearly always empty, so a websocket connection opened as one (the pages ask for websocket first) gets a
writer only while something is queued — it sends what is there, in order, and ends — and the pings of all
connections come from one task per server that sends each when it falls due. A connection upgraded from
long-polling keeps the library's writer task."""

import collections
import logging
import struct
import time

from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio import server as eio_server
from engineio import socket as eio_socket

log = logging.getLogger(__name__)


class _Rest(bytes):
    """Bytes already framed, for the writer task to send as they are."""


class _RestPacket:
    def __init__(self, data):
        self.data = _Rest(data)

    def encode(self):
        return self.data


_last = [None, None]  # the last packet framed and its frame: a broadcast passes one packet object to all


def websocket_frame(pkt):
    """The websocket text frame carrying an Engine.IO packet, or None for binary packets."""
    if _last[0] is pkt:
        return _last[1]
    data = pkt.encode()
    if not isinstance(data, str):
        return None
    payload = data.encode("utf-8")
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    frame = header + payload
    _last[0], _last[1] = pkt, frame
    return frame


def _green_socket(ws):
    """The cooperative socket under a websocket of eventlet (a GreenSocket) or of gevent-websocket (behind
    engineio's gevent wrapper), or None for another server."""
    green = getattr(ws, "socket", None)
    if green is None:
        handler = getattr(getattr(ws, "_sock", None), "handler", None)
        green = getattr(handler, "socket", None)
    return green


def _plain_os_socket(ws):
    """The non-blocking OS socket under that, or None when there is none we may write to directly (TLS, a
    blocking socket, an unknown server)."""
    green = _green_socket(ws)
    if green is None or hasattr(green, "getpeercert"):  # unknown, or TLS
        return None
    raw = getattr(green, "fd", None) or getattr(green, "_sock", None)  # eventlet, gevent
    if raw is None or hasattr(raw, "getpeercert") or raw.gettimeout() != 0.0:
        return None
    return raw


class _TrackedWebSocket:
    """The connection's websocket as the Engine.IO handler and writer task see it: marks the connection
    busy while a send is under way (a send may wait for a slow client) and sends queued frame rests."""

    def __init__(self, ws, owner, raw):
        self._ws, self._owner = ws, owner
        # cooperative: waits for a slow client without blocking the server
        self._raw_send = _green_socket(ws).sendall if raw is not None else None

    def send(self, data):
        self._owner.busy = True
        try:
            if type(data) is _Rest:
                self._raw_send(data)
            else:
                self._ws.send(data)
        finally:
            self._owner.busy = False

    def wait(self):
        return self._ws.wait()

    def close(self):
        self._owner.raw = None
        return self._ws.close()

    def __getattr__(self, name):
        return getattr(self._ws, name)


class _Pings:
    """The next ping of every connection of one Engine.IO server, in the order they fall due (the interval is
    the same for all, so appending keeps the order), sent by one task that ends when none is due."""

    def __init__(self, server):
        self.server, self.due, self.task = server, collections.deque(), None

    def add(self, conn):
        self.due.append((time.monotonic() + self.server.ping_interval, conn))
        if self.task is None:
            self.task = self.server.start_background_task(self._run)

    def _run(self):
        try:
            while self.due:
                wait = self.due[0][0] - time.monotonic()
                if wait > 0:
                    self.server.sleep(wait)
                    continue
                conn = self.due.popleft()[1]
                if conn.closing or conn.closed:
                    continue
                conn.last_ping = time.time()
                try:
                    conn.send(eio_packet.Packet(eio_packet.PING))
                except Exception:  # one broken connection must not stop the others' pings
                    log.exception("ping to %s failed", conn.sid)
        finally:
            self.task = None


class LiveSocket(eio_socket.Socket):
    """An Engine.IO connection with the direct write for broadcasts and without standing tasks, as described
    above."""

    raw = None  # the OS socket, while the websocket is up and plain
    busy = False  # a writer is inside a send
    lean = False  # a websocket connection without a standing writer task
    writer = False  # lean: a task (or the connection's own) is sending the queue
    finished = False  # lean: the websocket is closed (or broken); whatever is still queued is dropped

    def send(self, pkt):
        raw = self.raw
        if (
            raw is None
            or self.busy
            or self.writer
            or self.upgrading
            or not self.upgraded
            or self.closed
            or not self.queue.empty()
        ):
            return self._enqueue(pkt)
        if not self.check_ping_timeout():
            return
        frame = websocket_frame(pkt)
        if frame is None:
            return self._enqueue(pkt)
        try:
            sent = raw.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:  # the connection is gone; its reader notices and closes it
            self.raw = None
            return
        if sent < len(frame):
            self.queue.put(_RestPacket(frame[sent:]))
            self._wake_writer()

    def _enqueue(self, pkt):
        """The usual path: behind what the connection's queue already holds."""
        super().send(pkt)
        self._wake_writer()

    def schedule_ping(self):
        if self.last_ping:  # as the library: only once the previous ping was answered
            self.last_ping = None
            pings = getattr(self.server, "_live_pings", None)
            if pings is None:
                pings = self.server._live_pings = _Pings(self.server)
            pings.add(self)

    def close(self, wait=True, abort=False, reason=None):
        if not self.lean:
            return super().close(wait=wait, abort=abort, reason=reason)
        already = self.closed or self.closing
        super().close(wait=False, abort=abort, reason=reason)
        self._wake_writer()  # the library's close queues the end for a writer that is always there
        if wait and not already:  # as the library: a second close does not wait
            self.queue.join()

    def poll(self):
        """The library writer task's wait for queued packets. python-engineio ends the connection when nothing
        was queued for ping interval + timeout; with direct writes the queue may rightly stay empty that long,
        so here only a close (or the reader ending) ends the wait. Long-polling keeps the library's wait."""
        while True:
            try:
                return super().poll()
            except eio_exceptions.QueueEmpty:
                if self.raw is None or self.closed:
                    raise

    def _wake_writer(self):
        if self.lean and not self.writer and not self.queue.empty():
            if self.finished:  # nothing to send any more: drop it here, without a task
                self._send_inline()
            else:
                self.writer = True
                self.server.start_background_task(self._send_queued)

    def _send_queued(self):
        """Send what is queued, in order, then end (lean connections). A packet counts as done (the queue's
        join) once it is sent. Nothing yields between finding the queue empty and clearing `writer`, so a
        packet is either taken here or starts the next writer."""
        empty = self.server.get_queue_empty_exception()
        try:
            while True:
                try:
                    pkt = self.queue.get(block=False)
                except empty:
                    return
                try:
                    if self.finished:
                        continue
                    if pkt is not None:
                        self._ws.send(pkt.encode())
                        continue
                except Exception:
                    pass
                finally:
                    self.queue.task_done()
                # the end (or a failed send): as the library's writer, close the websocket
                self.finished = True
                try:
                    self._ws.close()
                except Exception:
                    pass
        finally:
            self.writer = False

    def _send_inline(self):
        self.writer = True
        self._send_queued()

    def _websocket_handler(self, ws):
        raw = _plain_os_socket(ws)
        tracked = _TrackedWebSocket(ws, self, raw)
        if self.connected:  # an upgrade from long-polling: the library's handshake and writer task
            self.raw = raw
            try:
                return super()._websocket_handler(tracked)
            finally:
                self.raw = None
        return self._lean_websocket_handler(tracked, raw)

    def _lean_websocket_handler(self, ws, raw):
        """python-engineio's handler for a new websocket connection, without the writer task."""
        for attr in ("_sock", "socket"):  # as the library: a silent peer ends the read after interval + timeout
            sock = getattr(ws, attr, None)
            if hasattr(sock, "settimeout"):
                sock.settimeout(self.server.ping_interval + self.server.ping_timeout)
        self.connected = self.upgraded = True
        self.lean, self._ws = True, ws
        self._send_inline()  # the OPEN packet and what the connect handler sent
        if not self.finished:  # that may have failed, or a close come first
            self.raw = raw
        try:
            while True:
                try:
                    data = ws.wait()
                except Exception as e:
                    if not self.closed:
                        self.server.logger.info('%s: Unexpected error "%s", closing connection', self.sid, e)
                    break
                if data is None:  # closed by the client
                    break
                if len(data) > self.server.max_http_buffer_size:
                    self.server.logger.info("%s: packet is too large, closing connection", self.sid)
                    break
                try:
                    self.receive(eio_packet.Packet(encoded_packet=data))
                except eio_exceptions.UnknownPacketError:
                    pass
                except eio_exceptions.SocketIsClosedError:
                    break
                except Exception:
                    self.server.logger.exception("Unknown receive error")
                    break
        finally:
            self.raw = None
        self.queue.put(None)
        if self.writer:
            self.queue.join()  # the running writer sends the rest and closes the websocket
        else:
            self._send_inline()
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []


def install():
    """Make the Engine.IO server create LiveSocket connections (eventlet and gevent servers)."""
    eio_server.socket.Socket = LiveSocket
