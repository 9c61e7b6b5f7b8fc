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
and takes it, so an empty queue and an idle writer mean nothing is waiting for this connection."""

import struct

from engineio import exceptions as eio_exceptions
from engineio import server as eio_server
from engineio import socket as eio_socket


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


class LiveSocket(eio_socket.Socket):
    """An Engine.IO connection with the direct write for broadcasts described above."""

    raw = None  # the OS socket, while the websocket is up and plain
    busy = False  # the writer task is inside a send

    def send(self, pkt):
        raw = self.raw
        if raw is None or self.busy or self.upgrading or not self.upgraded or self.closed or not self.queue.empty():
            return super().send(pkt)
        if not self.check_ping_timeout():
            return
        frame = websocket_frame(pkt)
        if frame is None:
            return super().send(pkt)
        try:
            sent = raw.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:  # the connection is gone; its reader notices and closes it
            self.raw = None
            return
        if sent < len(frame):
            self.queue.put(_RestPacket(frame[sent:]))

    def poll(self):
        """The writer task's wait for queued packets. python-engineio ends the connection when nothing was
        queued for ping interval + timeout; with direct writes the queue may rightly stay empty that long,
        so here only a close (or the reader ending) ends the wait. Long-polling keeps the library's wait."""
        while True:
            try:
                return super().poll()
            except eio_exceptions.QueueEmpty:
                if self.raw is None or self.closed:
                    raise

    def _websocket_handler(self, ws):
        raw = _plain_os_socket(ws)
        tracked = _TrackedWebSocket(ws, self, raw)
        self.raw = raw
        try:
            return super()._websocket_handler(tracked)
        finally:
            self.raw = None


def install():
    """Make the Engine.IO server create LiveSocket connections (eventlet and gevent servers)."""
    eio_server.socket.Socket = LiveSocket
