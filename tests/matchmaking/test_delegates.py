"""Who speaks for a municipality on the board: a stranger who signs up for a town does not (an anonymous
sign-up once took Kaiserslautern off the board, rewrote its note and declined its meeting request); guests
the organisers added or confirmed do, and so do guests with the municipality's invitation code. A second
delegate's save never silently overwrites the first's; a meeting is requested once."""

from sqlalchemy import select

from tests.helpers import SLUG
from webapp.checkin.models import Guest
from webapp.core.extensions import db
from webapp.core.models import Event, Municipality
from webapp.live.models import Change


def register(client, name, city, invite=""):
    r = client.post(
        f"/e/{SLUG}/register", data={"name": name, "municipality": city, "consent": "y", "invite_code": invite}
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return r.headers["Location"].rsplit("/t/", 1)[1]


def staff_delegate(client, auth, name, city):
    return client.post(f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city}, headers=auth).json


def put(client, token, stages, consent=True, **extra):
    return client.put(
        f"/api/v1/t/{token}/interests",
        json={"consent": consent, "interests": [{"topic": t, "stage": s} for t, s in stages.items()], **extra},
    )


def revision():
    return db.session.execute(select(Event.revision)).scalar_one()


def invite_code(city):
    return db.session.execute(select(Municipality.invite_code).filter_by(name=city)).scalar_one()


def test_a_stranger_who_signs_up_for_a_town_cannot_speak_for_it(client, auth):
    host = staff_delegate(client, auth, "Echte Delegation", "Kaiserslautern")
    assert put(client, host["token"], {"park-app": "runs"}).status_code == 200
    trier = staff_delegate(client, auth, "Trier", "Trier")
    assert put(client, trier["token"], {"park-app": "plans"}).status_code == 200
    request_id = client.post(
        f"/api/v1/t/{trier['token']}/meetings", json={"with": "Kaiserslautern", "topic": "park-app"}
    ).json["id"]
    before = (revision(), client.get(f"/api/v1/events/{SLUG}/board").json)
    stranger = register(client, "Fremde Person", "Kaiserslautern")
    for method, path, body in (
        ("PUT", "/interests", {"consent": False, "interests": []}),
        ("GET", "/interests", None),
        ("POST", f"/meetings/{request_id}", {"accept": False}),
        ("POST", "/meetings", {"with": "Trier", "topic": "park-app"}),
    ):
        r = client.open(f"/api/v1/t/{stranger}{path}", method=method, json=body)
        assert r.status_code == 403 and r.json["error"]["code"] == "not_confirmed", (method, path)
        assert "Einladungscode" in r.json["error"]["message"]
    assert (revision(), client.get(f"/api/v1/events/{SLUG}/board").json) == before
    page = client.get(f"/t/{stranger}/board")
    assert page.status_code == 403 and "Einladungscode" in page.get_data(as_text=True)
    # the ticket itself works as for everyone
    assert client.get(f"/t/{stranger}").status_code == 200


def test_an_invitation_code_or_the_organisers_make_a_delegate(client, auth):
    with_code = register(client, "Mit Code", "Mayen", invite=invite_code("Mayen").lower())
    assert put(client, with_code, {"bildung": "plans"}).status_code == 200
    # a wrong code at registration is a form error on that field, and nobody is registered
    r = client.post(
        f"/e/{SLUG}/register",
        data={"name": "Falsch", "municipality": "Trier", "consent": "y", "invite_code": invite_code("Mayen")},
    )
    assert r.status_code == 422 and "gehört nicht zur gewählten Kommune" in r.get_data(as_text=True)
    assert db.session.execute(select(Guest).filter_by(name="Falsch")).first() is None
    # the code typed later on the delegate page
    later = register(client, "Später", "Koblenz")
    wrong = client.post(f"/t/{later}/board/confirm", data={"code": "AAAAAAAAAA"})
    assert wrong.status_code == 422 and put(client, later, {"klar": "runs"}).status_code == 403
    right = client.post(f"/t/{later}/board/confirm", data={"code": invite_code("Koblenz")})
    assert right.status_code == 302 and put(client, later, {"klar": "runs"}).status_code == 200
    # confirmed by the organisers (API)
    unconfirmed = register(client, "Bestätigt", "Trier")
    guest_id = db.session.execute(select(Guest.id).filter_by(token=unconfirmed)).scalar_one()
    r = client.patch(f"/api/v1/events/{SLUG}/guests/{guest_id}", json={"delegate": True}, headers=auth)
    assert r.status_code == 200 and r.json["guest"]["delegate"] is True
    assert put(client, unconfirmed, {"park-app": "plans"}).status_code == 200
    # a link with the code chooses the municipality on the registration page
    page = client.get(f"/e/{SLUG}/register?invite={invite_code('Trier')}").get_data(as_text=True)
    assert 'value="Trier" selected' in page or 'selected value="Trier"' in page


def test_a_renewed_code_replaces_the_old_one(client, auth):
    from webapp.checkin.guests import renew_invite_code

    old = invite_code("Pirmasens")
    renew_invite_code(db.session.execute(select(Municipality).filter_by(name="Pirmasens")).scalar_one())
    r = client.post(
        f"/e/{SLUG}/register", data={"name": "Alt", "municipality": "Pirmasens", "consent": "y", "invite_code": old}
    )
    assert r.status_code == 422


def test_a_second_delegate_does_not_silently_overwrite_the_first(client, auth):
    first, second = staff_delegate(client, auth, "Erste", "Trier"), staff_delegate(client, auth, "Zweite", "Trier")
    seen = client.get(f"/api/v1/t/{second['token']}/interests").json["version"]
    assert client.get(f"/api/v1/t/{first['token']}/interests").json["version"] == seen
    saved = put(client, first["token"], {"park-app": "runs"}, version=seen)
    assert saved.status_code == 200 and saved.json["version"] == seen + 1
    stale = put(client, second["token"], {"bildung": "interested"}, consent=False, version=seen)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["version"] == seen + 1
    board = client.get(f"/api/v1/events/{SLUG}/board").json
    assert any(c["city"] == "Trier" for t in board["topics"] if t["slug"] == "park-app" for c in t["cities"])
    # having been told, the second delegate may save over it on purpose
    assert put(client, second["token"], {"bildung": "interested"}, version=seen + 1).status_code == 200
    assert put(client, second["token"], {}, version="x").status_code == 400


def test_a_meeting_is_requested_once(client, auth):
    kl, trier = staff_delegate(client, auth, "A", "Kaiserslautern"), staff_delegate(client, auth, "B", "Trier")
    put(client, kl["token"], {"park-app": "runs"})
    put(client, trier["token"], {"park-app": "plans"})
    changes = db.session.query(Change).count()
    first = client.post(f"/api/v1/t/{trier['token']}/meetings", json={"with": "Kaiserslautern", "topic": "park-app"})
    assert first.status_code == 201
    for token, other in ((trier["token"], "Kaiserslautern"), (kl["token"], "Trier")):
        again = client.post(f"/api/v1/t/{token}/meetings", json={"with": other, "topic": "park-app"})
        assert again.status_code == 409 and again.json["error"]["code"] == "duplicate"
    assert db.session.query(Change).count() == changes + 1
