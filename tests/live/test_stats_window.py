"""The coalesced `stats` message: at most one per window and event, the window longer for a big room, so that
a door rush with thousands of phones watching costs a bounded number of sends per second."""

from tests.helpers import SLUG
from webapp.live import broadcast


def test_window_grows_with_the_room(app, socket_client, monkeypatch):
    monkeypatch.setattr(broadcast, "STATS_SENDS_PER_SECOND", 2)
    assert broadcast.stats_window(SLUG) == broadcast.STATS_SECONDS  # nobody connected
    for _ in range(3):
        socket_client()
    assert broadcast.stats_window(SLUG) == 1.5  # 3 clients at 2 sends per second
    assert broadcast.stats_window("no-such-event") == broadcast.STATS_SECONDS


def test_one_message_per_window(app, socket_client, monkeypatch):
    monkeypatch.setattr(broadcast, "STATS_SENDS_PER_SECOND", 2)
    monkeypatch.setattr(broadcast, "_stats_dirty", set())
    monkeypatch.setattr(broadcast, "_stats_sent", {})
    for _ in range(3):
        socket_client()
    broadcast._stats_dirty.update({SLUG, "small"})
    assert sorted(broadcast.due_stats(100.0)) == sorted([SLUG, "small"])
    assert broadcast.due_stats(100.2) == []  # nothing changed since
    broadcast._stats_dirty.update({SLUG, "small"})
    assert broadcast.due_stats(100.6) == ["small"]  # an empty room's window is STATS_SECONDS; SLUG's is 1.5 s
    assert broadcast.due_stats(101.0) == []
    assert broadcast.due_stats(101.5) == [SLUG]  # still owed, sent once its window has passed
    assert broadcast._stats_dirty == set()
