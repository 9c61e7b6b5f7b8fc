"""A TCP proxy on 127.0.0.1 for outage tests: the app talks to PostgreSQL or Redis through it, and the test
cuts the line (`down()`: every open connection is reset and new ones are refused) and mends it (`up()`).
A real outage as the app meets it, without stopping the machine's shared services."""

import socket
import struct
import threading
import time


class TcpProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        self._open = True
        self._closed = False
        self._lock = threading.Lock()
        self._pairs = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open:
                self._reset(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                self._reset(client)
                continue
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b, pair), daemon=True).start()

    def _pump(self, source, sink, pair):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(pair)

    @staticmethod
    def _reset(sock):
        """RST instead of FIN: what a dead server or a cut network looks like to either side. The read side
        is shut down first: closing a socket on which a pump thread is blocked in recv() sends nothing on
        Linux until that recv returns, so the line would go silent instead of being cut (PostgreSQL would
        keep the backend, with its locks, and the app's next query would hang)."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _drop(self, pair):
        with self._lock:
            if pair not in self._pairs:
                return
            self._pairs.discard(pair)
        for sock in pair:
            self._reset(sock)

    def down(self):
        """Cut: reset every open connection, refuse new ones (until `up()`). Twice, 50 ms apart, for a
        connection that was being accepted during the first pass."""
        self._open = False
        for _ in range(2):
            with self._lock:
                pairs = list(self._pairs)
            for pair in pairs:
                self._drop(pair)
            time.sleep(0.05)

    def up(self):
        self._open = True

    def close(self):
        self._closed = True
        self.down()
        try:
            self._listener.close()
        except OSError:
            pass
