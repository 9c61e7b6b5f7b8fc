"""Which rooms each connection is in, kept beside python-socketio's rooms.

python-socketio keeps only room -> members. To let a connection go it looks through every room of the
namespace, and every connection has a room of its own: one disconnect costs as much as there are
connections, so 5,000 phones dropping at once (the venue's Wi-Fi) cost 5,000 × 5,000 look-ups while the
same phones were knocking to come back (docs/performance.md, the reconnect storm). Node's socket.io keeps
both directions; so does this mixin: a disconnect leaves the rooms the connection is in, nothing else.

python-socketio is pinned; tests/live/test_rooms.py holds the behaviour to the base class's."""

import socketio


class RoomIndex:
    """Mixin for a python-socketio client manager (before the manager class in the bases)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rooms_of = {}  # (namespace, sid) -> set of rooms, None (the namespace's members) included

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        joined = self._rooms_of.get((namespace, sid))
        if joined is not None:
            joined.discard(room)
            if not joined:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        # As BaseManager.basic_disconnect, with the connection's own rooms instead of a search through all.
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


class IndexedManager(RoomIndex, socketio.Manager):
    """The in-process manager (no message queue)."""


def indexed(manager_class):
    """`manager_class` with the room index: for the message-queue managers."""
    return type(f"Indexed{manager_class.__name__}", (RoomIndex, manager_class), {})
