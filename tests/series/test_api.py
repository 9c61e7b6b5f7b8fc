"""The organiser's API (docs/api.md, "Organiser"): events with copy_from, rooms, topics, removing sessions,
the gazetteer and municipalities. Each write: happy path, bad input (4xx JSON, nothing written), wrong role
and wrong event (403), and the live change it sends."""

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, add_guest, make_staff
from webapp.agenda.models import Room, Session, Topic
from webapp.core.extensions import db
from webapp.core.models import Event, Municipality
from webapp.live.models import Change
from webapp.matchmaking.models import Interest

NEW = {
    "slug": "trier-2019",
    "title": "Netzwerktreffen Trier 2019",
    "start": "2019-06-05T09:00:00+02:00",
    "end": "2019-06-05T17:00:00+02:00",
    "venue": "Rathaus Trier",
}


def count(model, **where):
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def changes(live):
    return [m["args"][0] for m in live.get_received("/live") if m["name"] == "change"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def other_organiser(app):
    """An organiser of trier-2019 only (the event is created for it)."""
    start = db.session.get(Event, 1).starts_at
    db.session.add(Event(slug="trier-2019", title="Trier", starts_at=start, ends_at=start.replace(hour=18)))
    db.session.commit()
    return bearer(make_staff("org-trier", events=["trier-2019"], quick=True)[1])


def test_an_admin_creates_an_event(client, auth):
    r = client.post("/api/v1/events", json=NEW, headers=auth)
    assert r.status_code == 201, r.get_json()
    event = r.get_json()["event"]
    assert event["slug"] == "trier-2019" and event["venue"] == "Rathaus Trier"
    assert event["start"] == "2019-06-05T09:00:00+02:00" and event["timezone"] == "Europe/Berlin"
    agenda = client.get("/api/v1/events/trier-2019/agenda").get_json()
    assert agenda["revision"] == 0 and agenda["sessions"] == [] and agenda["rooms"] == []


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({**NEW, "slug": SLUG}, 409, "slug"),
        ({**NEW, "slug": "Trier 2019"}, 400, "slug"),
        ({**NEW, "end": "2019-06-05T08:00:00+02:00"}, 400, "end"),
        ({**NEW, "title": "  "}, 400, None),
        ({**NEW, "timezone": "Mars/Olympus"}, 400, "timezone"),
        ({**NEW, "copy_from": "no-such-event"}, 404, "copy_from"),
        ({**NEW, "colour": "blue"}, 400, None),
        ({k: v for k, v in NEW.items() if k != "start"}, 400, None),
    ],
)
def test_bad_event_input_is_refused_and_writes_nothing(client, auth, body, status, field):
    before = count(Event)
    r = client.post("/api/v1/events", json=body, headers=auth)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert error["message"] and (field is None or error["field"] == field), error
    assert count(Event) == before


def test_only_instance_admins_create_events(client, other_organiser):
    scanner = bearer(make_staff("door", role="scanner", quick=True)[1])
    for headers in (scanner, other_organiser):
        r = client.post("/api/v1/events", json={**NEW, "slug": "x-2020"}, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/events", json={**NEW, "slug": "x-2020"}).status_code == 401
    assert count(Event, slug="x-2020") == 0


def test_preparing_the_next_meeting_carries_rooms_topics_municipalities_and_profiles(client, auth):
    from webapp.matchmaking.demo import load_board_demo

    source = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    load_board_demo(source)
    stated = count(Interest, event_id=source.id)
    assert stated > 0
    r = client.post("/api/v1/events", json={**NEW, "copy_from": SLUG}, headers=auth)
    assert r.status_code == 201, r.get_json()
    new = db.session.execute(select(Event).filter_by(slug="trier-2019")).scalar_one()
    assert [r.name for r in new.rooms] == [r.name for r in source.rooms]
    assert sorted(t.slug for t in new.topics) == sorted(t.slug for t in source.topics)
    assert [m.name for m in new.municipalities] == [m.name for m in source.municipalities]
    assert all(m.board_consent is False and m.profile_from == source.title for m in new.municipalities)
    assert all(m.latitude is not None for m in new.municipalities)
    assert count(Interest, event_id=new.id) == stated
    assert new.sessions == []  # sessions only on request
    assert new.series == source.series and new.revision == 0
    # The public board of the new meeting shows nobody until a delegate agrees again.
    assert client.get("/api/v1/events/trier-2019/board").get_json()["municipalities"] == []


def test_copying_sessions_moves_them_to_the_new_day_at_the_same_local_time(client, auth):
    r = client.post(
        "/api/v1/events", json={**NEW, "slug": "kl-2019", "copy_from": SLUG, "copy_sessions": True}, headers=auth
    )
    assert r.status_code == 201
    old = client.get(f"/api/v1/events/{SLUG}/agenda").get_json()["sessions"]
    new = client.get("/api/v1/events/kl-2019/agenda").get_json()["sessions"]
    assert len(new) == len(old) > 10
    for a, b in zip(
        sorted(old, key=lambda s: (s["planned_start"], s["title"])),
        sorted(new, key=lambda s: (s["planned_start"], s["title"])),
    ):
        assert a["title"] == b["title"] and b["room"] == (a["planned_room"] or a["room"])  # as planned
        assert b["planned_start"].startswith("2019-06-05T") and a["planned_start"][10:] == b["planned_start"][10:]
        assert b["delay_minutes"] == 0 and b["status"] == "scheduled"
        assert a["speakers"] == b["speakers"] and a["topics"] == b["topics"]


def test_patching_an_event_is_a_live_change(client, auth, socket_client):
    live = socket_client()
    live.get_received("/live")
    r = client.patch(f"/api/v1/events/{SLUG}", json={"venue": "Fruchthalle"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["event"]["venue"] == "Fruchthalle"
    [change] = changes(live)
    assert change["kind"] == "event.edited" and change["replace"]["event"]["venue"] == "Fruchthalle"
    assert change["revision"] == r.get_json()["revision"]
    # bad input: nothing changes, no revision
    r = client.patch(f"/api/v1/events/{SLUG}", json={"end": "2000-01-01T00:00:00+00:00"}, headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "end"
    assert client.patch(f"/api/v1/events/{SLUG}", json={"slug": "renamed"}, headers=auth).status_code == 400
    assert changes(live) == []
    assert db.session.execute(select(Event.venue).filter_by(slug=SLUG)).scalar_one() == "Fruchthalle"


def test_rooms_and_topics(client, auth, socket_client, other_organiser):
    live = socket_client()
    live.get_received("/live")
    r = client.post(f"/api/v1/events/{SLUG}/rooms", json={"name": "Ratssaal Süd"}, headers=auth)
    assert r.status_code == 201 and r.get_json()["room"] == {"slug": "ratssaal-sued", "name": "Ratssaal Süd"}
    [change] = changes(live)
    assert change["kind"] == "room.added" and change["replace"]["rooms"][-1]["name"] == "Ratssaal Süd"
    rooms = count(Room)
    for body, status in (({"name": "ratssaal süd"}, 409), ({"name": ""}, 400), ({}, 400), ({"name": 5}, 400)):
        assert client.post(f"/api/v1/events/{SLUG}/rooms", json=body, headers=auth).status_code == status
    assert (
        client.post(f"/api/v1/events/{SLUG}/rooms", json={"name": "Fremd"}, headers=other_organiser).status_code == 403
    )
    assert count(Room) == rooms and changes(live) == []

    r = client.post(f"/api/v1/events/{SLUG}/topics", json={"name": "Digitale Bürgerbeteiligung"}, headers=auth)
    assert r.status_code == 201 and r.get_json()["topic"]["slug"] == "digitale-buergerbeteiligung"
    topics = count(Topic)
    assert (
        client.post(
            f"/api/v1/events/{SLUG}/topics", json={"name": "Digitale Bürgerbeteiligung"}, headers=auth
        ).status_code
        == 409
    )
    assert client.post(f"/api/v1/events/{SLUG}/topics", json={"name": "X"}, headers=other_organiser).status_code == 403
    assert count(Topic) == topics


def test_removing_a_session_is_a_live_change_with_the_actor_in_the_log(client, auth, socket_client, other_organiser):
    session = db.session.execute(select(Session).order_by(Session.id)).scalars().first()
    sid, title = session.id, session.title
    live = socket_client()
    live.get_received("/live")
    assert client.delete(f"/api/v1/events/{SLUG}/sessions/{sid}", headers=other_organiser).status_code == 403
    r = client.delete(f"/api/v1/events/{SLUG}/sessions/{sid}", headers=auth)
    assert r.status_code == 200
    sent = changes(live)
    assert sent[0]["kind"] == "session.removed" and sent[0]["revision"] == r.get_json()["revision"]
    assert sid not in {s["id"] for s in sent[0]["replace"]["sessions"]} and sent[0]["replace"]["sessions"]
    logged = db.session.execute(select(Change).filter_by(revision=sent[0]["revision"])).scalar_one()
    assert logged.actor == "admin-test" and title in logged.summary
    assert db.session.get(Session, sid) is None
    assert client.delete(f"/api/v1/events/{SLUG}/sessions/{sid}", headers=auth).status_code == 404


def test_the_gazetteer_suggests_german_places_with_state_and_position(client):
    found = client.get("/api/v1/municipalities?q=Landau").get_json()["municipalities"]
    landau = found[0]
    assert landau["name"] == "Landau in der Pfalz" and landau["state"] == "Rheinland-Pfalz"
    assert 49.1 < landau["lat"] < 49.3 and 8.0 < landau["lon"] < 8.2
    assert any(p["name"] == "Landau an der Isar" for p in found)
    assert client.get("/api/v1/municipalities?q=zweibruecken").get_json()["municipalities"][0]["name"] == "Zweibrücken"
    assert client.get("/api/v1/municipalities?q=L").get_json() == {"municipalities": []}
    assert client.get("/api/v1/municipalities?q=Xyzzyqwert").get_json() == {"municipalities": []}


def test_adding_a_municipality_places_it_and_its_guests_join(client, auth, other_organiser):
    guest = add_guest(client, auth, name="Petra Pfalz", city="Landau in der Pfalz")
    assert client.get(f"/api/v1/events/{SLUG}/guests?q=Petra", headers=auth).get_json()["guests"][0]["city"]
    r = client.post(f"/api/v1/events/{SLUG}/municipalities", json={"name": "landau in der pfalz"}, headers=auth)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["municipality"]["name"] == "Landau in der Pfalz" and 49.1 < body["municipality"]["lat"] < 49.3
    assert body["guests_joined"] == 1
    m = db.session.execute(select(Municipality).filter_by(name="Landau in der Pfalz")).scalar_one()
    from webapp.checkin.models import Guest

    assert db.session.get(Guest, guest["id"]).municipality_id == m.id

    before = count(Municipality)
    for body, status, code in (
        ({"name": "Landau in der Pfalz"}, 409, "conflict"),
        ({"name": "Atlantis an der Lauter"}, 422, "unknown_place"),
        ({"name": "Hof Neuwiese", "lat": 95, "lon": 7}, 400, "invalid"),
        ({"name": "Hof Neuwiese", "lat": 49.5}, 400, "invalid"),
    ):
        r = client.post(f"/api/v1/events/{SLUG}/municipalities", json=body, headers=auth)
        assert r.status_code == status and r.get_json()["error"]["code"] == code, (body, r.get_json())
    assert (
        client.post(
            f"/api/v1/events/{SLUG}/municipalities", json={"name": "Trier"}, headers=other_organiser
        ).status_code
        == 403
    )
    assert count(Municipality) == before
    # a place the gazetteer does not know, with its position
    r = client.post(
        f"/api/v1/events/{SLUG}/municipalities", json={"name": "Hof Neuwiese", "lat": 49.5, "lon": 7.6}, headers=auth
    )
    assert r.status_code == 201 and r.get_json()["municipality"]["lat"] == 49.5


def test_an_organiser_of_the_event_may_set_it_up(client, other_organiser):
    r = client.post("/api/v1/events/trier-2019/rooms", json={"name": "Forum"}, headers=other_organiser)
    assert r.status_code == 201
    r = client.patch("/api/v1/events/trier-2019", json={"title": "Netzwerktreffen Trier 2019"}, headers=other_organiser)
    assert r.status_code == 200


def test_demo_0_loads_no_demo_event(tmp_path):
    from webapp import create_app
    from webapp.core.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}", DEMO=False)
    with app.app_context():
        db.create_all()
        out = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
        assert out.exit_code == 0 and "create the first event" in out.output
        assert count(Event) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_session_gets_speakers_topics_and_language_through_the_api(client, auth, socket_client):
    from webapp.agenda.domain import add_speaker

    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    add_speaker(event, "Dr. Käthe Beispiel")
    topic = event.topics[0]
    session = db.session.execute(select(Session).filter_by(event_id=event.id)).scalars().first()
    live = socket_client()
    live.get_received("/live")
    body = {"speakers": ["Dr. Käthe Beispiel"], "topics": [topic.slug], "language": "en"}
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{session.id}", json=body, headers=auth)
    assert r.status_code == 200, r.get_json()
    sent = r.get_json()["session"]
    assert sent["speakers"] == ["Dr. Käthe Beispiel"] and sent["topics"] == [topic.name] and sent["language"] == "en"
    [change] = changes(live)
    assert change["sessions"][0]["speakers"] == ["Dr. Käthe Beispiel"]
    for bad in ({"speakers": ["Niemand"]}, {"topics": "x"}, {"language": "fr"}):
        r = client.patch(f"/api/v1/events/{SLUG}/sessions/{session.id}", json=bad, headers=auth)
        assert r.status_code == 400, bad
    assert changes(live) == []


def register(client, name):
    """A self-registration through the public page (the test config turns CSRF off)."""
    return client.post(f"/e/{SLUG}/register", data={"name": name, "municipality": "Trier", "consent": "y"})


def test_registration_window_capacity_and_the_waiting_list(client, auth):
    from webapp.checkin.models import Guest

    r = client.patch(
        f"/api/v1/events/{SLUG}",
        json={"registration_opens": "2999-01-01T09:00:00+01:00", "capacity": None},
        headers=auth,
    )
    assert r.status_code == 200 and r.get_json()["event"]["registration_opens"].startswith("2999-01-01T09:00")
    page = client.get(f"/e/{SLUG}/register").get_data(as_text=True)
    assert "Die Anmeldung ist noch nicht geöffnet." in page and 'name="name"' not in page
    before = count(Guest)
    assert register(client, "Zu Früh").status_code == 409 and count(Guest) == before

    r = client.patch(
        f"/api/v1/events/{SLUG}",
        json={"registration_opens": None, "registration_closes": "2000-01-01T00:00:00+01:00"},
        headers=auth,
    )
    assert r.status_code == 200
    assert "Die Anmeldung ist geschlossen." in client.get(f"/e/{SLUG}/register").get_data(as_text=True)
    bad = client.patch(
        f"/api/v1/events/{SLUG}",
        json={"registration_opens": "2000-02-01T00:00:00+01:00"},
        headers=auth,
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "registration_closes"

    # Full: the next self-registration waits, and moves up when a registered guest cancels.
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    registered = db.session.scalar(
        select(func.count(Guest.id)).where(Guest.event_id == event.id, Guest.status == "registered")
    )
    r = client.patch(
        f"/api/v1/events/{SLUG}", json={"registration_closes": None, "capacity": registered + 1}, headers=auth
    )
    assert r.get_json()["event"]["capacity"] == registered + 1
    assert client.patch(f"/api/v1/events/{SLUG}", json={"capacity": 0}, headers=auth).status_code == 400
    assert register(client, "Erste Freie").status_code == 302
    assert db.session.execute(select(Guest.status).filter_by(name="Erste Freie")).scalar_one() == "registered"
    assert "ausgebucht" in client.get(f"/e/{SLUG}/register").get_data(as_text=True)
    r = register(client, "Wartende Wanda")
    assert r.status_code == 302
    wanda = db.session.execute(select(Guest).filter_by(name="Wartende Wanda")).scalar_one()
    assert wanda.status == "waiting"
    ticket = client.get(f"/t/{wanda.token}").get_data(as_text=True)
    assert "Sie stehen auf der Warteliste (Platz 1)." in ticket and "qr-box" not in ticket
    scan = client.post(
        f"/api/v1/events/{SLUG}/checkins", json={"code": wanda.code, "nonce": "w-1"}, headers=auth
    ).get_json()
    assert scan["result"] == "waiting"  # no admission from the waiting list
    first = db.session.execute(select(Guest).filter_by(name="Erste Freie")).scalar_one()
    r = client.patch(f"/api/v1/events/{SLUG}/guests/{first.id}", json={"status": "cancelled"}, headers=auth)
    assert r.status_code == 200
    db.session.expire_all()
    assert wanda.status == "registered"
    assert "qr-box" in client.get(f"/t/{wanda.token}").get_data(as_text=True)


def test_an_event_without_board_has_no_board_pages(client, auth):
    assert client.get(f"/e/{SLUG}/board").status_code == 200
    r = client.patch(f"/api/v1/events/{SLUG}", json={"board": False}, headers=auth)
    assert r.status_code == 200 and r.get_json()["event"]["board"] is False
    assert client.get(f"/e/{SLUG}/board").status_code == 404
    assert client.get(f"/e/{SLUG}/board/screen").status_code == 404
    assert client.get(f"/api/v1/events/{SLUG}/board").status_code == 404
