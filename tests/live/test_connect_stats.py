"""Connecting clients share one computation of the counters until they change (one process, no queue)."""

import pytest

from tests.helpers import SLUG
from webapp.live import broadcast


@pytest.fixture
def shared_counters(app, monkeypatch):
    app.config["LIVE_STATS_CACHE_SECONDS"] = 60
    broadcast._connect_stats.clear()
    calls = []
    build = broadcast._stats_builder
    monkeypatch.setattr(broadcast, "_stats_builder", lambda slug: calls.append(slug) or build(slug))
    return calls


def counters(client):
    [stats] = [m["args"][0] for m in client.get_received("/live") if m["name"] == "stats"]
    return stats["checked_in"]


def test_clients_share_the_counters_until_a_check_in_changes_them(client, auth, socket_client, shared_counters):
    assert [counters(socket_client(since=0)) for _ in range(3)] == [0, 0, 0]
    assert len(shared_counters) == 1  # three connections, one computation
    guest = client.post(f"/api/v1/events/{SLUG}/guests", json={"name": "Erika Muster"}, headers=auth).json
    r = client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": guest["code"], "nonce": "n1"}, headers=auth)
    assert r.json["result"] == "ok"
    assert counters(socket_client(since=0)) == 1  # the commit ended the shared copy at once


def test_with_a_message_queue_each_connection_computes_its_own(app, socket_client, shared_counters):
    app.config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:6379/0"  # read by the cache only, no Redis here
    for _ in range(2):
        counters(socket_client(since=0))
    assert len(shared_counters) == 2
