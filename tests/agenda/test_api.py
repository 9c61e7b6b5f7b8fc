"""The agenda JSON API: shape of the public agenda, staff writes, and bad input refused without change."""

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.agenda.models import Session
from webapp.core.extensions import db
from webapp.core.models import Event


def state():
    """Everything a refused request must leave as it was."""
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    db.session.refresh(event)
    rows = db.session.execute(select(Session).order_by(Session.id)).scalars().all()
    for s in rows:
        db.session.refresh(s)
    return event.revision, [(s.title, s.delay_minutes, s.room_id, s.status) for s in rows], len(event.announcements)


def sid():
    return db.session.execute(select(Session.id).order_by(Session.id)).scalars().first()


def test_agenda_has_the_contract_shape(client):
    body = client.get(f"/api/v1/events/{SLUG}/agenda").json
    assert body["revision"] == 0 and body["event"]["slug"] == SLUG and body["event"]["is_demo"] is True
    assert [r["name"] for r in body["rooms"]] == ["Forum", "Seminarraum 1", "Seminarraum 2", "Foyer"]
    opening = next(s for s in body["sessions"] if s["kind"] == "opening")
    assert opening["speakers"] == ["Dr. Klaus Weichel"]
    assert opening["planned_start"] == opening["start"] == "2018-10-26T14:00:00+02:00"
    for key in (
        "id",
        "title",
        "kind",
        "room",
        "planned_start",
        "planned_end",
        "start",
        "end",
        "delay_minutes",
        "status",
        "speakers",
        "topics",
    ):
        assert key in opening


def test_unknown_event_is_a_json_404(client):
    r = client.get("/api/v1/events/nope/agenda")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_patch_delay_room_status_and_edit(client, auth):
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{sid()}", json={"delay_minutes": 10}, headers=auth)
    assert r.status_code == 200 and r.json["session"]["start"] == "2018-10-26T13:40:00+02:00"
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{sid()}", json={"room": "Seminarraum 2"}, headers=auth)
    assert r.json["session"]["room"] == "Seminarraum 2" and r.json["session"]["planned_room"] == "Foyer"
    r = client.patch(
        f"/api/v1/events/{SLUG}/sessions/{sid()}", json={"status": "cancelled", "title": "Neu"}, headers=auth
    )
    assert r.json["session"]["status"] == "cancelled" and r.json["revision"] == 3


def test_add_session_and_withdraw_announcement(client, auth):
    r = client.post(
        f"/api/v1/events/{SLUG}/sessions",
        headers=auth,
        json={
            "title": "Spontane Runde",
            "kind": "workshop",
            "room": "Foyer",
            "planned_start": "2018-10-26T18:00:00+02:00",
            "planned_end": "2018-10-26T18:30:00+02:00",
        },
    )
    assert r.status_code == 201 and r.json["session"]["title"] == "Spontane Runde"
    r = client.post(
        f"/api/v1/events/{SLUG}/announcements",
        headers=auth,
        json={"text": "Raumwechsel!", "severity": "urgent", "expires_in_minutes": 30},
    )
    assert r.status_code == 201 and r.json["announcement"]["severity"] == "urgent"
    aid = r.json["announcement"]["id"]
    assert len(client.get(f"/api/v1/events/{SLUG}/agenda").json["announcements"]) == 1
    r = client.delete(f"/api/v1/events/{SLUG}/announcements/{aid}", headers=auth)
    assert r.status_code == 200 and r.json["revision"] == 3
    assert client.get(f"/api/v1/events/{SLUG}/agenda").json["announcements"] == []


BAD_PATCHES = [
    ({"delay_minutes": "abc"}, 400),
    ({"delay_minutes": 10**9}, 400),
    ({"delay_minutes": True}, 400),
    ({"delay_minutes": 1.5}, 400),
    ({"room": "x" * 100000}, 400),
    ({"room": 5}, 400),
    ({"status": "gone"}, 400),
    ({"title": ""}, 400),
    ({"title": "t" * 301}, 400),
    ({"kind": "party"}, 400),
    ({"planned_start": "morgen"}, 400),
    ({"planned_start": "2018-10-26T14:00:00"}, 400),
    ({"planned_end": "2018-10-26T10:00:00+02:00"}, 400),
    ({"shift_following": "yes"}, 400),
    ({"colour": "red"}, 400),
    ([1, 2], 400),
    ("{broken", 400),
    ("", 400),
    ("null", 400),
    ('"text"', 400),
]


@pytest.mark.parametrize("body,status", BAD_PATCHES)
def test_bad_patch_gets_4xx_json_and_changes_nothing(client, auth, body, status):
    before = state()
    if isinstance(body, str):
        r = client.patch(
            f"/api/v1/events/{SLUG}/sessions/{sid()}", data=body, headers=auth, content_type="application/json"
        )
    else:
        r = client.patch(f"/api/v1/events/{SLUG}/sessions/{sid()}", json=body, headers=auth)
    assert r.status_code == status and r.is_json and r.json["error"]["message"]
    assert state() == before


def test_wrong_content_type_unknown_session_and_huge_body(client, auth, app):
    before = state()
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{sid()}", data="delay_minutes=5", headers=auth)
    assert r.status_code == 415 and r.json["error"]["code"] == "unsupported_media_type"
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/99999", json={"delay_minutes": 5}, headers=auth)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/abc", json={"delay_minutes": 5}, headers=auth)
    assert r.status_code == 404 and r.is_json
    huge = b'{"title": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    r = client.patch(
        f"/api/v1/events/{SLUG}/sessions/{sid()}", data=huge, headers=auth, content_type="application/json"
    )
    assert r.status_code == 413 and r.is_json
    r = client.post(f"/api/v1/events/{SLUG}/announcements", json={"text": "x" * 501}, headers=auth)
    assert r.status_code == 400
    r = client.post(f"/api/v1/events/{SLUG}/announcements", json={"text": "ok", "severity": "panic"}, headers=auth)
    assert r.status_code == 400
    assert state() == before


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("patch", f"/api/v1/events/{SLUG}/sessions/1", {"delay_minutes": 5}),
        ("post", f"/api/v1/events/{SLUG}/sessions", {"title": "x"}),
        ("post", f"/api/v1/events/{SLUG}/announcements", {"text": "x"}),
        ("delete", f"/api/v1/events/{SLUG}/announcements/1", None),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "bad token", "scanner"])
def test_staff_api_refuses_anonymous_bad_tokens_and_scanners(client, method, path, body, who):
    headers = {}
    if who == "bad token":
        headers = {"Authorization": "Bearer not-a-token"}
    elif who == "scanner":
        headers = {"Authorization": f"Bearer {make_staff('door', role='scanner')[1]}"}
    before = state()
    r = getattr(client, method)(path, json=body, headers=headers)
    assert r.status_code == (403 if who == "scanner" else 401) and r.is_json
    assert state() == before


def test_session_auth_needs_csrf_for_writes(app):
    make_staff("ops", password="pw-1")
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    login_page = browser.get("/staff/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = browser.post("/staff/login", data={"name": "ops", "password": "pw-1", "csrf_token": token})
    assert r.status_code == 302
    r = browser.patch(f"/api/v1/events/{SLUG}/sessions/1", json={"delay_minutes": 5})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf"
    r = browser.patch(f"/api/v1/events/{SLUG}/sessions/1", json={"delay_minutes": 5}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.json["revision"] == 1
