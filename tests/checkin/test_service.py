"""The check-in function and its API: result codes, exactly once, nonces, audit log, undo, offline batches,
counters pushed to /live."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, add_guest, make_staff
from webapp.checkin import guests
from webapp.checkin.models import CODE_ALPHABET, CheckIn, Guest, Scan
from webapp.core.extensions import db
from webapp.core.models import Event


def event(slug=SLUG):
    return db.session.execute(select(Event).filter_by(slug=slug)).scalar_one()


def scan(client, auth, code, nonce, **extra):
    return client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": code, "nonce": nonce, **extra}, headers=auth)


def test_guest_tickets_are_unguessable_and_typeable(client, auth):
    g = add_guest(client, auth)
    assert len(g["token"]) >= 43  # 256 bits, URL-safe base64
    assert len(g["code"]) == 8 and set(g["code"]) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(g["code"])
    assert g["ticket_url"].endswith(f"/t/{g['token']}")
    other = add_guest(client, auth, name="Max")
    assert other["token"] != g["token"] and other["code"] != g["code"]


def test_ticket_url_then_already_with_time_and_device(client, auth):
    g = add_guest(client, auth)
    first = scan(client, auth, g["ticket_url"], "n-1").json
    assert first["result"] == "ok" and first["guest"]["name"] == "Erika Mustermann"
    assert first["guest"]["city"] == "Trier" and first["by"] == "admin-test"
    again = scan(client, auth, g["ticket_url"], "n-2").json
    assert again["result"] == "already"
    assert again["checked_in_at"] == first["checked_in_at"] and again["by"] == "admin-test"


def test_typed_code_in_any_case_with_spaces_and_dashes(client, auth):
    g = add_guest(client, auth)
    typed = f"{g['code'][:4].lower()}-{g['code'][4:].lower()} "
    assert scan(client, auth, typed, "n-1").json["result"] == "ok"


def test_same_nonce_twice_gives_the_first_answer(client, auth):
    g = add_guest(client, auth)
    first = scan(client, auth, g["code"], "same").json
    assert scan(client, auth, g["code"], "same").json == first
    assert scan(client, auth, "whatever else", "same").json == first  # a retry is the same scan
    assert db.session.scalar(select(func.count(Scan.id))) == 1


def test_a_nonce_reused_for_another_guest_is_refused_not_taken_for_the_first(client, auth):
    """The same nonce with another guest's code used to answer with the first guest, and the second guest
    was never admitted: now it is a 409 and the client makes a new nonce."""
    a, b = add_guest(client, auth, "Erste"), add_guest(client, auth, "Zweite")
    assert scan(client, auth, a["code"], "reused").json["result"] == "ok"
    r = scan(client, auth, b["code"], "reused")
    assert r.status_code == 409 and r.json["error"]["code"] == "nonce_reused"
    assert scan(client, auth, "ZZZZZZZZ", "first-unknown").json["result"] == "unknown"
    assert scan(client, auth, b["code"], "first-unknown").status_code == 409
    assert scan(client, auth, b["code"], "fresh").json["result"] == "ok"


def test_unknown_wrong_event_and_cancelled(client, auth, app):
    assert scan(client, auth, "ZZZZZZZZ", "a").json["result"] == "unknown"
    assert scan(client, auth, "http://elsewhere/t/" + "x" * 43, "b").json["result"] == "unknown"
    other = Event(
        slug="other-2019",
        title="Anderes Treffen",
        starts_at=datetime(2019, 5, 1, tzinfo=timezone.utc),
        ends_at=datetime(2019, 5, 1, 6, tzinfo=timezone.utc),
    )
    db.session.add(other)
    db.session.commit()
    stranger = guests.create_guest(other, {"name": "Fremd"})
    answer = scan(client, auth, stranger.code, "c").json
    assert answer["result"] == "wrong_event" and answer["guest"] is None
    g = add_guest(client, auth)
    client.patch(f"/api/v1/events/{SLUG}/guests/{g['id']}", json={"status": "cancelled"}, headers=auth)
    assert scan(client, auth, g["code"], "d").json["result"] == "cancelled"
    results = db.session.execute(select(Scan.result).order_by(Scan.id)).scalars().all()
    assert results == ["unknown", "unknown", "wrong_event", "cancelled"]  # failed scans are logged too
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "ABC"},
        {"nonce": "x"},
        {"code": 5, "nonce": "x"},
        {"code": "A", "nonce": "x" * 65},
        {"code": "x" * 2001, "nonce": "n"},
        {"code": "A", "nonce": "n", "scanned_at": "gestern"},
        [1],
    ],
)
def test_malformed_scans_are_400_and_logged_nowhere(client, auth, body):
    r = client.post(f"/api/v1/events/{SLUG}/checkins", json=body, headers=auth)
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid"
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_a_guest_token_cannot_check_anyone_in(client, auth):
    g = add_guest(client, auth)
    r = scan(client, {"Authorization": f"Bearer {g['token']}"}, g["code"], "n")
    assert r.status_code == 401
    assert scan(client, {}, g["code"], "n").status_code == 401
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_scanner_role_may_scan_but_not_add_guests(client):
    _, token = make_staff("Einlass 1", role="scanner")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/events/{SLUG}/guests", json={"name": "X"}, headers=headers).status_code == 403
    admin_headers = {"Authorization": f"Bearer {make_staff('boss')[1]}"}
    g = add_guest(client, admin_headers)
    assert scan(client, headers, g["code"], "n").json["by"] == "Einlass 1"


def test_undo_within_30_seconds_only(client, auth, app):
    g = add_guest(client, auth)
    ok = scan(client, auth, g["code"], "n1").json
    r = client.post(f"/api/v1/events/{SLUG}/checkins/{ok['checkin_id']}/undo", json={"nonce": "u1"}, headers=auth)
    assert r.status_code == 200 and r.json["result"] == "undone"
    assert scan(client, auth, g["code"], "n2").json["result"] == "ok"  # can be admitted again
    late = db.session.execute(select(CheckIn)).scalar_one()
    late.recorded_at = datetime.now(timezone.utc) - timedelta(seconds=31)
    db.session.commit()
    r = client.post(f"/api/v1/events/{SLUG}/checkins/{late.id}/undo", json={"nonce": "u2"}, headers=auth)
    assert r.status_code == 409 and r.json["error"]["code"] == "too_late"
    actions = db.session.execute(select(Scan.action, Scan.result).order_by(Scan.id)).all()
    assert actions == [("scan", "ok"), ("undo", "undone"), ("scan", "ok")]


def test_offline_batch_is_applied_in_scan_order_and_flags_double_admissions(client, auth):
    g1, g2 = add_guest(client, auth, "A"), add_guest(client, auth, "B")
    _, other_token = make_staff("Einlass 2", role="scanner")
    t0 = datetime(2018, 10, 26, 12, 0, tzinfo=timezone.utc)
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins/batch",
        headers=auth,
        json={
            "scans": [
                {"code": g2["code"], "nonce": "late", "scanned_at": (t0 + timedelta(minutes=2)).isoformat()},
                {"code": g1["code"], "nonce": "early", "scanned_at": t0.isoformat()},
            ]
        },
    )
    assert [a["result"] for a in r.json["answers"]] == ["ok", "ok"]
    ids = db.session.execute(select(Scan.nonce).order_by(Scan.id)).scalars().all()
    assert ids == ["early", "late"]  # applied in scan order, answered in request order
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins/batch",
        headers={"Authorization": f"Bearer {other_token}"},
        json={"scans": [{"code": g1["code"], "nonce": "dup", "scanned_at": t0.isoformat()}]},
    )
    assert r.json["answers"][0]["result"] == "already"
    conflict = db.session.execute(select(Scan).filter_by(nonce="dup")).scalar_one()
    assert conflict.conflict and conflict.offline and conflict.device == "Einlass 2"


def test_batch_with_one_malformed_scan_applies_none(client, auth):
    g = add_guest(client, auth)
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins/batch",
        headers=auth,
        json={"scans": [{"code": g["code"], "nonce": "a"}, {"code": g["code"]}]},
    )
    assert r.status_code == 400
    assert db.session.scalar(select(func.count(Scan.id))) == 0


def test_stats_count_without_names_and_reach_live_clients(client, auth, socket_client):
    live = socket_client(since=0)
    live.get_received("/live")
    g1 = add_guest(client, auth, "A", "Trier")
    add_guest(client, auth, "B", "Mayen")
    scan(client, auth, g1["code"], "n")
    stats = client.get(f"/api/v1/events/{SLUG}/stats").json
    assert stats["registered"] == 2 and stats["checked_in"] == 1 and stats["by_city"] == {"Trier": 1}
    assert stats["registered_by_city"] == {"Mayen": 1, "Trier": 1}
    assert "A" not in str(stats)
    pushed = [m["args"][0] for m in live.get_received("/live") if m["name"] == "stats"]
    assert pushed and pushed[-1]["checked_in"] == 1
    assert all(m["name"] != "change" for m in live.get_received("/live"))  # counters are not revisions
    assert event().revision == 0


def test_offline_list_has_hashes_and_the_minimum(client, auth):
    import hashlib

    g = add_guest(client, auth)
    body = client.get(f"/api/v1/events/{SLUG}/checkin-list", headers=auth).json
    entry = body["guests"][0]
    assert set(entry) == {"t", "c", "b", "name", "city", "status", "checked_in"}
    assert entry["c"] == hashlib.sha256(f"{body['salt']}:{g['code']}".encode()).hexdigest()[:32]
    badge = db.session.get(Guest, g["id"]).badge_code
    assert entry["b"] == hashlib.sha256(f"{body['salt']}:{badge}".encode()).hexdigest()[:32]
    assert g["token"] not in str(body) and g["code"] not in str(body) and badge not in str(body)
    assert client.get(f"/api/v1/events/{SLUG}/checkin-list").status_code == 401


def test_municipality_is_matched_case_insensitively(client, auth):
    g = add_guest(client, auth, city="zweibrücken")
    guest = db.session.get(Guest, g["id"])
    assert guest.city == "Zweibrücken" and guest.municipality is not None
    other = add_guest(client, auth, city="Kusel")
    assert db.session.get(Guest, other["id"]).municipality is None


def test_a_device_clock_cannot_write_impossible_check_in_times(client, auth, socket_client):
    """A scan with scanned_at 9999-12-31 used to be stored and broke /stats, every new /live connection,
    the dashboard, the guest list, attendance.csv and the ticket page; 50 years ahead was stored and its undo
    never closed; a time out of range after UTC conversion answered 500. Now a device time is kept only
    when it lies on the event's days and not after the server's clock; the undo window runs on server
    time."""
    bad_times = [
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+14:00",
        (datetime.now(timezone.utc) + timedelta(days=365 * 50)).isoformat(),
        "2000-01-01T10:00:00+01:00",
    ]
    for n, at in enumerate(bad_times):
        g = add_guest(client, auth, f"Uhr {n}")
        r = client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers=auth,
            json={"code": g["code"], "nonce": f"clock-{n}", "scanned_at": at},
        )
        assert r.status_code in (200, 400), (at, r.status_code)
        if r.status_code == 200:
            assert r.json["result"] == "ok"
            stored = datetime.fromisoformat(r.json["checked_in_at"])
            assert abs(stored - datetime.now(timezone.utc)) < timedelta(minutes=1), at  # the server's time
    batch = client.post(
        f"/api/v1/events/{SLUG}/checkins/batch",
        headers=auth,
        json={
            "scans": [
                {"code": add_guest(client, auth, "Batch")["code"], "nonce": "clock-b", "scanned_at": bad_times[0]}
            ]
        },
    )
    assert batch.status_code == 200
    make_staff("clock-admin", password="pw-clock-admin")
    client.post("/staff/login", data={"name": "clock-admin", "password": "pw-clock-admin"})
    for url in (
        f"/api/v1/events/{SLUG}/stats",
        f"/staff/e/{SLUG}/attendance.csv",
        f"/staff/e/{SLUG}/checkin",
        f"/staff/e/{SLUG}/guests",
        f"/t/{g['token']}",
    ):
        assert client.get(url).status_code == 200, url
    assert socket_client(since=None).is_connected("/live")
    assert max(db.session.execute(select(CheckIn.at)).scalars()) < datetime.now(timezone.utc) + timedelta(minutes=5)
    # a time on the event's day is kept (an offline scan), and its undo window runs from when it was stored
    g = add_guest(client, auth, "Offline")
    day = "2018-10-26T14:05:00+02:00"
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins",
        headers=auth,
        json={"code": g["code"], "nonce": "clock-day", "scanned_at": day},
    )
    assert datetime.fromisoformat(r.json["checked_in_at"]) == datetime.fromisoformat(day)
    undo = client.post(
        f"/api/v1/events/{SLUG}/checkins/{r.json['checkin_id']}/undo", json={"nonce": "u-day"}, headers=auth
    )
    assert undo.status_code == 200


def test_a_town_typed_as_other_is_never_named_in_public_counts(client, auth, socket_client):
    """Free text typed as "Andere Kommune" at registration used to appear in the public stats and on the
    projector: it is one person's entry, so public counters name only the event's municipalities and
    count the rest under "–" (shown as "Andere Kommunen")."""
    r = client.post(
        f"/e/{SLUG}/register",
        data={"name": "Gast", "municipality": "__other__", "other_city": "Geheimweiler am See", "consent": "y"},
    )
    assert r.status_code == 302
    guest = db.session.execute(select(Guest).filter_by(name="Gast")).scalar_one()
    live = socket_client()
    scan(client, auth, guest.code, "other-town")
    stats = client.get(f"/api/v1/events/{SLUG}/stats").json
    assert "Geheimweiler" not in str(stats)
    assert stats["registered_by_city"]["–"] >= 1 and stats["by_city"]["–"] == 1
    messages = [m["args"][0] for m in live.get_received("/live") if m["name"] == "stats"]
    assert messages and "Geheimweiler" not in str(messages)
    screen = client.get(f"/e/{SLUG}/screen").get_data(as_text=True)
    assert "Geheimweiler" not in screen


def test_a_second_scan_of_a_ticket_tries_no_insert(client, auth):
    """The guest's check-in is read with the guest, so a rescan at the door is answered `already` without a
    failed INSERT and its rollback (6 statements instead of 11); its audit row is written all the same."""
    from sqlalchemy import event as sa_event

    g = add_guest(client, auth)
    assert scan(client, auth, g["code"], "first").json["result"] == "ok"
    statements = []
    listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        again = scan(client, auth, g["ticket_url"], "second").json
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)
    assert (
        again["result"] == "already"
        and again["checkin_id"] == scan(client, auth, g["code"], "first").json["checkin_id"]
    )
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT INTO CHECK_IN")]
    assert [s.split()[2] for s in statements if s.lstrip().upper().startswith("INSERT")] == ["scan"]
    assert db.session.scalar(select(func.count(Scan.id)).where(Scan.nonce == "second", Scan.result == "already")) == 1
