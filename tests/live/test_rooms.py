"""The room index (webapp/live/rooms.py): the same rooms as python-socketio's manager after any sequence of
connects, joins, leaves, room closes and disconnects, and a disconnect that looks only at the leaving
connection's own rooms."""

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.core.extensions import socketio as socketio_ext
from webapp.live.rooms import IndexedManager, RoomIndex, indexed
from webapp.live.transport import client_manager

NS = "/live"


class _Server:
    """What a manager asks of its server here: new ids."""

    def __init__(self):
        self.count = 0
        self.eio = self
        self.packet_class = socketio.packet.Packet

    def generate_id(self):
        self.count += 1
        return f"s{self.count}"


def _manager(cls):
    manager = cls()
    manager.set_server(_Server())
    return manager


def _connect(manager, eio_sid):
    return manager.connect(eio_sid, NS)


def _rooms_by_member(manager):
    return {room: dict(members) for room, members in manager.rooms.get(NS, {}).items()}


steps = st.lists(
    st.tuples(
        st.sampled_from(["connect", "join", "leave", "close", "disconnect"]),
        st.integers(0, 5),  # which connection
        st.sampled_from(["event:a", "event:b", "stats:a"]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_the_index_keeps_the_rooms_python_socketio_keeps(sequence):
    plain, ours = _manager(socketio.Manager), _manager(IndexedManager)
    sids = {}
    for action, n, room in sequence:
        if action == "connect":
            if n not in sids:
                sids[n] = (_connect(plain, f"e{n}"), _connect(ours, f"e{n}"))
            continue
        if n not in sids:
            continue
        (sid_plain, sid_ours) = sids[n]
        if action == "join":
            plain.enter_room(sid_plain, NS, room)
            ours.enter_room(sid_ours, NS, room)
        elif action == "leave":
            plain.leave_room(sid_plain, NS, room)
            ours.leave_room(sid_ours, NS, room)
        elif action == "close":
            plain.close_room(room, NS)
            ours.close_room(room, NS)
        else:
            plain.disconnect(sid_plain, NS)
            ours.disconnect(sid_ours, NS)
            del sids[n]
        assert _rooms_by_member(plain) == _rooms_by_member(ours)  # same ids: both servers count alike
        for sid_plain, sid_ours in sids.values():
            assert sorted(plain.get_rooms(sid_plain, NS)) == sorted(ours.get_rooms(sid_ours, NS))
            assert ours.is_connected(sid_ours, NS)
    for _sid_plain, sid_ours in list(sids.values()):
        ours.disconnect(sid_ours, NS)
    assert ours._rooms_of == {}  # nothing left behind for connections that are gone
    assert ours.rooms == {} or all(not members for members in ours.rooms[NS].values())


class _NoSearch(dict):
    """A namespace's rooms that fail the test when something looks through all of them."""

    def _refuse(self, *_args):
        raise AssertionError("searched every room of the namespace")

    copy = items = keys = values = __iter__ = _refuse


def test_a_disconnect_looks_only_at_the_rooms_of_the_connection_that_leaves():
    manager = _manager(IndexedManager)
    sids = [_connect(manager, f"e{i}") for i in range(2000)]
    for sid in sids:
        manager.enter_room(sid, NS, "event:kl-2018")
    manager.enter_room(sids[0], NS, "stats:kl-2018")
    manager.rooms[NS] = _NoSearch(manager.rooms[NS])
    assert sorted(manager.get_rooms(sids[0], NS)) == sorted([sids[0], "event:kl-2018", "stats:kl-2018"])
    manager.pre_disconnect(sids[0], NS)
    manager.disconnect(sids[0], NS)
    assert sids[0] not in dict.__getitem__(manager.rooms[NS], "event:kl-2018")
    assert "stats:kl-2018" not in dict.keys(manager.rooms[NS])  # its last member left: the room is gone
    assert not dict.__contains__(manager.rooms[NS], sids[0])
    assert len(dict.__getitem__(manager.rooms[NS], "event:kl-2018")) == 1999
    assert not manager.is_connected(sids[0], NS) and manager.pending_disconnect == {}


def test_every_manager_the_app_makes_keeps_the_index(app):
    assert isinstance(socketio_ext.server.manager, RoomIndex)
    assert isinstance(client_manager({"SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}), RoomIndex)
    kombu = indexed(socketio.KombuManager)
    assert issubclass(kombu, RoomIndex) and issubclass(kombu, socketio.KombuManager)
