"""The organiser's pages (Flask test client): a new event, the next meeting prepared from an earlier one,
rooms/topics/speakers in place, the session form with speakers, topics and language, removing a session,
municipalities from the gazetteer. Refusals appear at their field and change nothing."""

import io
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, add_guest, make_staff, signed_in
from webapp.agenda.models import Room, Session, Speaker, Topic
from webapp.core.extensions import db
from webapp.core.models import Event, Municipality


def count(model, **where):
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def csrf(page):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def admin(app):
    make_staff("orga", password="orga-pw-123", quick=True)
    return signed_in(app, "orga", "orga-pw-123")


def post_form(browser, url, data, page_url=None):
    page = browser.get(page_url or url).get_data(as_text=True)
    return browser.post(url, data={"csrf_token": csrf(page), **data})


EVENT = {
    "title": "Netzwerktreffen Trier 2019",
    "slug": "trier-2019",
    "start": "2019-06-05T09:00",
    "end": "2019-06-05T17:00",
    "timezone": "Europe/Berlin",
    "venue": "Rathaus Trier",
}


def test_a_new_event_through_the_page(admin):
    r = post_form(admin, "/staff/events/new", EVENT)
    assert r.status_code == 302 and r.location.endswith("/staff/e/trier-2019/setup")
    event = db.session.execute(select(Event).filter_by(slug="trier-2019")).scalar_one()
    assert event.venue == "Rathaus Trier" and event.starts_at.hour == 7  # 09:00 in Trier is 07:00 UTC
    start = admin.get("/staff/").get_data(as_text=True)
    assert "Netzwerktreffen Trier 2019" in start and "Nächstes Treffen vorbereiten" in start


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"slug": SLUG}, "slug", "trägt schon eine Veranstaltung"),
        ({"slug": "Trier 2019"}, "slug", "Kleinbuchstaben"),
        ({"end": "2019-06-05T08:00"}, "end", "Das Ende muss nach dem Beginn liegen."),
        ({"title": ""}, "title", "Bitte einen Titel eingeben."),
    ],
)
def test_a_refused_event_form_names_the_field_and_writes_nothing(admin, change, field, message):
    before = count(Event)
    r = post_form(admin, "/staff/events/new", {**EVENT, **change})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert re.search(rf'<span class="error" id="{field}-err">[^<]*{re.escape(message)}', page), page[-3000:]
    assert f'id="{field}" ' in page and 'aria-invalid="true"' in page
    assert count(Event) == before


def test_preparing_the_next_meeting_from_the_start_page(admin):
    from webapp.matchmaking.demo import load_board_demo

    load_board_demo(db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one())
    form = admin.get(f"/staff/events/new?from={SLUG}").get_data(as_text=True)
    assert "Nächstes Treffen vorbereiten" in form and f'<option selected value="{SLUG}">' in form
    r = post_form(admin, "/staff/events/new", {**EVENT, "copy_from": SLUG}, page_url=f"/staff/events/new?from={SLUG}")
    assert r.status_code == 302
    new = db.session.execute(select(Event).filter_by(slug="trier-2019")).scalar_one()
    assert count(Room, event_id=new.id) == count(Room, event_id=1) and count(Topic, event_id=new.id) > 0
    page = admin.get("/staff/e/trier-2019/municipalities").get_data(as_text=True)
    assert "Kaiserslautern" in page and "noch zu bestätigen" in page


def test_rooms_topics_and_speakers_in_place(admin):
    url = f"/staff/e/{SLUG}/setup"
    assert post_form(admin, f"{url}/room", {"name": "Ratssaal"}, url).status_code == 302
    assert count(Room, name="Ratssaal") == 1
    r = post_form(admin, f"{url}/room", {"name": "ratssaal"}, url)
    assert r.status_code == 400 and "Einen Raum „ratssaal“ gibt es schon." in r.get_data(as_text=True)
    used = db.session.execute(select(Room).filter_by(event_id=1).order_by(Room.position)).scalars().first()
    r = post_form(admin, f"{url}/room/{used.id}/remove", {}, url)
    assert r.status_code == 400 and "wird noch von" in r.get_data(as_text=True)
    ratssaal = db.session.execute(select(Room).filter_by(name="Ratssaal")).scalar_one()
    assert post_form(admin, f"{url}/room/{ratssaal.id}/up", {}, url).status_code == 302
    assert post_form(admin, f"{url}/room/{ratssaal.id}/rename", {"name": "Großer Ratssaal"}, url).status_code == 302
    assert post_form(admin, f"{url}/topic", {"name": "Smarte Straßenbeleuchtung"}, url).status_code == 302
    assert post_form(admin, f"{url}/speaker", {"name": "Dr. Käthe Beispiel", "role": "CDO"}, url).status_code == 302
    page = admin.get(url).get_data(as_text=True)
    assert "Großer Ratssaal" in page and "Smarte Straßenbeleuchtung" in page and "Dr. Käthe Beispiel" in page
    assert count(Room, name="Großer Ratssaal") == 1


def test_the_session_form_sets_speakers_topics_and_language_and_removes(admin):
    url = f"/staff/e/{SLUG}/setup"
    post_form(admin, f"{url}/speaker", {"name": "Dr. Käthe Beispiel"}, url)
    topic = db.session.execute(select(Topic).filter_by(event_id=1)).scalars().first()
    new = f"/staff/e/{SLUG}/sessions/new"
    r = post_form(
        admin,
        new,
        {
            "title": "Datenräume",
            "kind": "talk",
            "room": "Foyer",
            "start": "2018-10-26T18:00",
            "end": "2018-10-26T18:30",
            "status": "scheduled",
            "language": "en",
            "speakers": ["Dr. Käthe Beispiel"],
            "topics": [topic.slug],
        },
    )
    assert r.status_code == 302
    session = db.session.execute(select(Session).filter_by(title="Datenräume")).scalar_one()
    assert session.language == "en" and [s.name for s in session.speakers] == ["Dr. Käthe Beispiel"]
    assert session.topics == [topic]
    session_id = session.id
    edit = f"/staff/e/{SLUG}/sessions/{session_id}/edit"
    remove = f"/staff/e/{SLUG}/sessions/{session_id}/remove"
    r = post_form(admin, remove, {}, edit)  # not confirmed
    assert r.status_code == 400 and "Bitte bestätigen Sie" in r.get_data(as_text=True)
    db.session.expire_all()  # the pages wrote through their own sessions
    assert db.session.get(Session, session_id) is not None
    r = post_form(admin, remove, {"remove-confirm": "y"}, edit)
    db.session.expire_all()
    assert r.status_code == 302 and db.session.get(Session, session_id) is None
    assert count(Speaker, name="Dr. Käthe Beispiel") == 1  # the speaker stays for other sessions


def test_municipalities_from_the_gazetteer_and_towns_not_yet_taking_part(admin, client, auth):
    add_guest(client, auth, name="Petra Pfalz", city="Landau in der Pfalz")
    page = admin.get(f"/staff/e/{SLUG}/municipalities").get_data(as_text=True)
    assert "Landau in der Pfalz nimmt noch nicht teil (1 Gast)." in page
    url = f"/staff/e/{SLUG}/municipalities"
    r = post_form(admin, url, {"name": "Landau in der Pfalz"})
    assert r.status_code == 302
    landau = db.session.execute(select(Municipality).filter_by(name="Landau in der Pfalz")).scalar_one()
    assert round(landau.latitude, 1) == 49.2
    page = admin.get(url).get_data(as_text=True)
    assert "nimmt noch nicht teil" not in page
    r = post_form(admin, url, {"name": "Atlantis an der Lauter"})
    assert r.status_code == 400
    assert re.search(
        r'<span class="error" id="name-err">[^<]*kennt das Ortsverzeichnis nicht', r.get_data(as_text=True)
    )
    r = post_form(admin, url, {"name": "Atlantis an der Lauter", "lat": "49.5", "lon": "7.6"})
    assert r.status_code == 302 and count(Municipality, name="Atlantis an der Lauter") == 1


def test_an_empty_instance_greets_the_first_admin(tmp_path):
    from webapp import create_app
    from webapp.core.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}", DEMO=False)
    with app.app_context():
        db.create_all()
        make_staff("first", password="first-admin-pw", quick=True)
        browser = signed_in(app, "first", "first-admin-pw")
        page = browser.get("/staff/").get_data(as_text=True)
        assert "Erste Veranstaltung anlegen" in page
        db.session.remove()
        db.engine.dispose()


def test_a_delegate_is_asked_to_confirm_answers_carried_over(app, client, admin):
    """The next meeting's delegate page says where the answers came from; saving them confirms them."""
    from webapp.checkin.guests import new_guest
    from webapp.matchmaking.demo import load_board_demo

    load_board_demo(db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one())
    post_form(admin, "/staff/events/new", {**EVENT, "copy_from": SLUG}, page_url=f"/staff/events/new?from={SLUG}")
    event = db.session.execute(select(Event).filter_by(slug="trier-2019")).scalar_one()
    guest = new_guest(event, {"name": "Dora Delegat", "city": "Kaiserslautern"})
    guest.is_delegate = True
    db.session.commit()
    page = client.get(f"/t/{guest.token}/board").get_data(as_text=True)
    assert "Diese Angaben hat Ihre Kommune für „Digitales Netzwerktreffen" in page
    r = client.put(f"/api/v1/t/{guest.token}/interests", json={"consent": True, "interests": []})
    assert r.status_code == 200, r.get_json()
    assert "Diese Angaben hat Ihre Kommune" not in client.get(f"/t/{guest.token}/board").get_data(as_text=True)


def test_the_csv_preview_and_the_guest_form_name_towns_not_yet_taking_part(admin):
    csv = "Name;Kommune\r\nPetra Pfalz;Landau in der Pfalz\r\nPaul Pfalz;Landau in der Pfalz\r\nKarl Lauter;Kaiserslautern\r\n"
    page = admin.get(f"/staff/e/{SLUG}/guests/import").get_data(as_text=True)
    r = admin.post(
        f"/staff/e/{SLUG}/guests/import",
        data={"csrf_token": csrf(page), "file": (io.BytesIO(csv.encode()), "gaeste.csv")},
        content_type="multipart/form-data",
    )
    preview = r.get_data(as_text=True)
    assert "Noch nicht dabei: Landau in der Pfalz (2 Zeilen)." in preview
    assert "Kaiserslautern (" not in preview  # taking part already
    r = post_form(admin, f"/staff/e/{SLUG}/guests/new", {"name": "Sven Speyer", "city": "Speyer"})
    assert r.status_code == 302
    page = admin.get(r.location).get_data(as_text=True)
    assert "Speyer nimmt noch nicht teil: unter „Kommunen“ mit einem Klick hinzufügen." in page
