"""A client that shows no counters (the agenda, the board) connects with "stats": false and gets no `stats`
messages, on connect or later; it still gets every change. The counters' window is sized by the clients
that do show them."""

from tests.helpers import SLUG, add_guest
from webapp.core.extensions import socketio
from webapp.live import broadcast


def names(client):
    return [m["name"] for m in client.get_received("/live")]


def connect(app, **auth):
    return socketio.test_client(app, namespace="/live", auth={"event": SLUG, "since": 0, **auth})


def test_a_client_without_counters_gets_changes_but_no_stats(app, client, auth):
    phone, screen = connect(app, stats=False), connect(app)
    try:
        assert names(phone) == ["synced"]
        assert names(screen) == ["synced", "stats"]
        guest = add_guest(client, auth)  # a new registration changes the counters too
        assert [m["args"][0]["registered"] for m in screen.get_received("/live") if m["name"] == "stats"] == [1]
        r = client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": guest["code"], "nonce": "n1"}, headers=auth)
        assert r.json["result"] == "ok"
        assert [m["args"][0]["checked_in"] for m in screen.get_received("/live") if m["name"] == "stats"] == [1]
        assert names(phone) == []  # neither the registration nor the check-in
        sessions = client.get(f"/api/v1/events/{SLUG}/agenda").json["sessions"]
        r = client.patch(f"/api/v1/events/{SLUG}/sessions/{sessions[0]['id']}", json={"delay_minutes": 5}, headers=auth)
        assert r.status_code == 200, r.json
        assert names(phone) == ["change"] and names(screen) == ["change"]
    finally:
        phone.disconnect("/live")
        screen.disconnect("/live")


def test_only_stats_false_opts_out(app):
    for value in (None, 0, "false", True):
        c = connect(app, stats=value)
        try:
            assert "stats" in names(c), value
        finally:
            c.disconnect("/live")


def test_window_counts_only_the_clients_that_show_counters(app, monkeypatch):
    monkeypatch.setattr(broadcast, "STATS_SENDS_PER_SECOND", 2)
    clients = [connect(app, stats=False) for _ in range(5)]
    try:
        assert broadcast.stats_window(SLUG) == broadcast.STATS_SECONDS
        clients += [connect(app) for _ in range(3)]
        assert broadcast.stats_window(SLUG) == 1.5  # 3 of 8 show counters, at 2 sends per second
    finally:
        for c in clients:
            c.disconnect("/live")
