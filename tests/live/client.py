"""A python-socketio client on /live that records what it gets, as a phone or a screen would."""

import threading
import time

import socketio


class LiveClient:
    def __init__(self, base_url, slug="kl-2018", since=None, reconnection=False, stats=True):
        self.messages = []
        self.revision = since
        self.since = since
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("*", self._record, namespace="/live")
        self.base_url, self.slug = base_url, slug
        # auth as a callable: every reconnect asks for what came after the revision we hold now. A page
        # without counters (the agenda on a phone) says "stats": false.
        extra = {} if stats else {"stats": False}
        self.sio.connect(
            base_url,
            namespaces=["/live"],
            transports=["websocket"],
            auth=lambda: {"event": slug, "since": self.revision, **extra},
            wait_timeout=10,
        )

    def _record(self, name, data=None):
        with self.lock:
            self.messages.append((time.monotonic(), name, data))
            if name == "snapshot":
                self.revision = data["revision"]
            elif name == "change" and (self.revision is None or data["revision"] == self.revision + 1):
                self.revision = data["revision"]

    def received(self, name):
        with self.lock:
            return [(t, d) for t, n, d in self.messages if n == name]

    def wait_for(self, predicate, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self):
                return True
            time.sleep(0.01)
        return False

    def wait_revision(self, revision, timeout=5.0):
        return self.wait_for(lambda c: (c.revision or 0) >= revision, timeout)

    def close(self):
        self.sio.disconnect()
