"""The live-state mechanism without a network: revisions, change log, catch-up and snapshots on /live."""

from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.agenda.models import Session
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change


def revision():
    return db.session.execute(select(Event.revision).filter_by(slug=SLUG)).scalar_one()


def first_session_id():
    return db.session.execute(select(Session.id).order_by(Session.id)).scalars().first()


def patch(client, auth, sid, body):
    return client.patch(f"/api/v1/events/{SLUG}/sessions/{sid}", json=body, headers=auth)


def by_name(received, name):
    return [m["args"][0] for m in received if m["name"] == name]


def test_each_change_raises_revision_by_one_and_is_logged(client, auth):
    sid = first_session_id()
    assert revision() == 0
    r = patch(client, auth, sid, {"delay_minutes": 10})
    assert r.status_code == 200 and r.json["revision"] == 1
    r = patch(client, auth, sid, {"room": "Forum"})
    assert r.json["revision"] == 2
    r = client.post(f"/api/v1/events/{SLUG}/announcements", json={"text": "Bitte Platz nehmen"}, headers=auth)
    assert r.status_code == 201 and r.json["revision"] == 3
    kinds = db.session.execute(select(Change.revision, Change.kind).order_by(Change.revision)).all()
    assert kinds == [(1, "session.delayed"), (2, "session.moved"), (3, "announcement.added")]


def test_a_patch_that_changes_nothing_keeps_the_revision(client, auth):
    sid = first_session_id()
    patch(client, auth, sid, {"delay_minutes": 5})
    r = patch(client, auth, sid, {"delay_minutes": 5})
    assert r.status_code == 200 and r.json["revision"] == 1
    assert db.session.scalar(select(db.func.count(Change.id))) == 1


def test_shifting_the_following_sessions_is_one_change(client, auth):
    forum = db.session.execute(select(Session).filter_by(title="Begrüßung und Eröffnung")).scalar_one()
    r = patch(client, auth, forum.id, {"delay_minutes": 10, "shift_following": True})
    assert r.json["revision"] == 1
    change = db.session.execute(select(Change)).scalar_one()
    moved = {s["title"]: s["delay_minutes"] for s in change.payload["sessions"]}
    assert moved["Begrüßung und Eröffnung"] == 10
    assert moved["Park App"] == 10 and moved["Projekte, Strategien und Kooperation"] == 10
    assert "Drohnenschule" not in moved  # another room
    agenda = client.get(f"/api/v1/events/{SLUG}/agenda").json
    park = next(s for s in agenda["sessions"] if s["title"] == "Park App")
    assert park["start"] == "2018-10-26T16:05:00+02:00" and park["planned_start"] == "2018-10-26T15:55:00+02:00"


def test_new_client_gets_a_snapshot_then_synced(socket_client):
    c = socket_client(since=None)
    received = c.get_received("/live")
    assert [m["name"] for m in received] == ["snapshot", "synced", "stats"]
    snap = received[0]["args"][0]
    assert snap["revision"] == 0 and len(snap["sessions"]) == 16 and snap["event"]["slug"] == SLUG


def test_client_that_was_away_gets_every_missed_change_in_order(client, auth, socket_client):
    sid = first_session_id()
    for minutes in (5, 10, 15):
        patch(client, auth, sid, {"delay_minutes": minutes})
    c = socket_client(since=1)
    received = c.get_received("/live")
    changes = by_name(received, "change")
    assert [m["revision"] for m in changes] == [2, 3]
    assert changes[-1]["sessions"][0]["delay_minutes"] == 15
    assert by_name(received, "synced")[-1]["revision"] == 3


def test_a_returning_client_costs_one_small_query_and_one_for_what_it_missed(app, client, auth, socket_client):
    """The reconnect after a Wi-Fi drop: thousands of phones connect within seconds. One at the current
    revision is answered from the event's (id, revision); one that missed a change reads the change log too;
    neither loads the event itself."""
    from sqlalchemy import event as sa_event

    patch(client, auth, first_session_id(), {"delay_minutes": 5})
    app.config["LIVE_STATS_CACHE_SECONDS"] = 60  # as served (the tests' config turns the sharing off)
    socket_client(since=1)  # the first computes the counters, which connecting clients then share

    def reads_of(since):
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            received = socket_client(since=since).get_received("/live")
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return received, [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    received, reads = reads_of(1)
    assert [m["name"] for m in received] == ["synced", "stats"]
    assert received[0]["args"][0]["revision"] == 1
    assert len(reads) == 1 and "event.id, event.revision" in reads[0], reads
    received, reads = reads_of(0)
    assert [m["name"] for m in received] == ["change", "synced", "stats"]
    assert len(reads) == 2 and "FROM change" in reads[1], reads


def test_phones_back_at_the_same_revision_share_one_reading_of_the_change_log(app, client, auth, socket_client):
    """After a Wi-Fi drop every phone is one change behind: the change log is read for the first of them
    only, until the event's revision moves on; each still gets its own `synced`."""
    from sqlalchemy import event as sa_event

    app.config["LIVE_SNAPSHOT_SECONDS"] = 5  # as served (the tests' config turns the sharing off)
    sid = first_session_id()
    patch(client, auth, sid, {"delay_minutes": 5})
    log_reads = []

    def count(conn, cursor, statement, *args):
        if "FROM change" in statement and "change.revision >" in statement:  # the log, not a row by its id
            log_reads.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = by_name(socket_client(since=0).get_received("/live"), "change")
        again = [by_name(socket_client(since=0).get_received("/live"), "change") for _ in range(3)]
        assert len(log_reads) == 1
        assert [m["revision"] for m in first] == [1] and all(a == first for a in again)
        assert first[0]["sessions"][0]["delay_minutes"] == 5
        patch(client, auth, sid, {"delay_minutes": 10})  # the head moves: a new answer, read once
        later = [by_name(socket_client(since=0).get_received("/live"), "change") for _ in range(2)]
        assert len(log_reads) == 2
        assert [[m["revision"] for m in answer] for answer in later] == [[1, 2], [1, 2]]
        assert later[0][-1]["sessions"][0]["delay_minutes"] == 10
        assert by_name(socket_client(since=1).get_received("/live"), "change")[0]["revision"] == 2
        assert len(log_reads) == 3  # another `since`, its own answer
        by_name(socket_client(since=99).get_received("/live"), "snapshot")  # out of range: no read, none kept
        assert len(log_reads) == 3
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)


def test_client_with_an_impossible_or_too_old_revision_gets_a_snapshot(app, client, auth, socket_client):
    sid = first_session_id()
    patch(client, auth, sid, {"delay_minutes": 5})
    ahead = socket_client(since=99)  # e.g. the server's database was reset
    assert [m["name"] for m in ahead.get_received("/live")] == ["snapshot", "synced", "stats"]
    app.config["LIVE_MAX_REPLAY"] = 0
    old = socket_client(since=0)
    received = old.get_received("/live")
    assert received[0]["name"] == "snapshot" and received[0]["args"][0]["revision"] == 1
    not_a_number = socket_client(since="7")
    assert not_a_number.get_received("/live")[0]["name"] == "snapshot"


def test_connected_clients_get_each_change_once(client, auth, socket_client):
    a, b = socket_client(since=0), socket_client(since=0)
    a.get_received("/live"), b.get_received("/live")
    patch(client, auth, first_session_id(), {"status": "cancelled"})
    for c in (a, b):
        changes = by_name(c.get_received("/live"), "change")
        assert len(changes) == 1 and changes[0]["revision"] == 1 and changes[0]["kind"] == "session.cancelled"


def test_sync_after_a_gap_resends_from_the_clients_revision(client, auth, socket_client):
    c = socket_client(since=0)
    c.get_received("/live")
    patch(client, auth, first_session_id(), {"delay_minutes": 5})
    patch(client, auth, first_session_id(), {"delay_minutes": 10})
    c.get_received("/live")
    ack = c.emit("sync", {"since": 1}, namespace="/live", callback=True)
    assert ack == {"ok": True}
    assert [m["revision"] for m in by_name(c.get_received("/live"), "change")] == [2]


def test_unknown_event_is_refused(socket_client, app):
    from webapp.core.extensions import socketio

    c = socketio.test_client(app, namespace="/live", auth={"event": "nope", "since": None})
    assert not c.is_connected("/live")
    c2 = socketio.test_client(app, namespace="/live", auth="garbage")
    assert not c2.is_connected("/live")


def test_staff_socket_events_refuse_anonymous_and_change_nothing(socket_client):
    c = socket_client(since=0)
    ack = c.emit("update_session", {"id": first_session_id(), "delay_minutes": 30}, namespace="/live", callback=True)
    assert ack["error"]["code"] == "unauthorized"
    ack = c.emit("announce", {"text": "Hallo"}, namespace="/live", callback=True)
    assert ack["error"]["code"] == "unauthorized"
    assert revision() == 0


def test_staff_socket_events_work_for_a_logged_in_admin_only(app, socket_client):
    make_staff("ops", role="admin", password="secret-1")
    make_staff("door", role="scanner", password="secret-2")
    admin = app.test_client()
    admin.post("/staff/login", data={"name": "ops", "password": "secret-1"})
    c = socket_client(since=0, flask_client=admin)
    ack = c.emit("update_session", {"id": first_session_id(), "delay_minutes": 5}, namespace="/live", callback=True)
    assert ack["revision"] == 1 and ack["session"]["delay_minutes"] == 5
    bad = c.emit("update_session", {"id": first_session_id(), "delay_minutes": "x"}, namespace="/live", callback=True)
    assert bad["error"]["code"] == "invalid" and revision() == 1
    scanner = app.test_client()
    scanner.post("/staff/login", data={"name": "door", "password": "secret-2"})
    s = socket_client(since=0, flask_client=scanner)
    ack = s.emit("announce", {"text": "Hallo"}, namespace="/live", callback=True)
    assert ack["error"]["code"] == "forbidden" and revision() == 1


def test_a_move_reaches_clients_with_the_room_it_was_planned_in(client, auth, socket_client):
    sid = first_session_id()
    c = socket_client(since=0)
    c.get_received("/live")
    r = patch(client, auth, sid, {"room": "Forum"})
    [change] = by_name(c.get_received("/live"), "change")
    assert change["kind"] == "session.moved"
    assert change["sessions"][0]["room"] == "Forum" and change["sessions"][0]["planned_room"] is not None
    assert r.json["session"] == change["sessions"][0]  # the API answers with what the clients got
