"""What the agenda says when it refuses something (issue 13): sentences from the catalogue in German and
English, at the field they are about, never a field key or a code; and the refused request changes nothing.
The schedule import's button says what pressing it does, with correct plurals, and does exactly that."""

import io
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, make_staff, signed_in
from webapp.agenda.models import Announcement, Room, Session, Speaker, Topic
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change

PRETALX = Path("/work/shared/formats/example-pretalx-democon.json")
NEW = "democon"
ZONE = ZoneInfo("Europe/Berlin")  # the demo event's, for the session form's local times
KEYS = re.compile(r"\b[a-z]+_[a-z_]+\b")  # planned_end, overrun_minutes …: never in a message


def state(slug=SLUG):
    """Everything a refused request must leave as it was."""
    db.session.expire_all()
    event = db.session.execute(select(Event).filter_by(slug=slug)).scalar_one()
    sessions = db.session.execute(select(Session).filter_by(event_id=event.id).order_by(Session.id)).scalars()
    return (
        event.revision,
        db.session.scalar(select(func.count(Change.id))),
        [(s.title, s.planned_start, s.planned_end, s.room_id, s.status, s.kind, s.delay_minutes) for s in sessions],
        [r.name for r in db.session.execute(select(Room).filter_by(event_id=event.id)).scalars()],
        db.session.scalar(select(func.count(Announcement.id))),
        db.session.scalar(select(func.count(Speaker.id))),
        db.session.scalar(select(func.count(Topic.id))),
    )


@pytest.fixture
def organiser(app):
    make_staff("orga-msg", password="orga-msg-pw", quick=True)
    return signed_in(app, "orga-msg", "orga-msg-pw")


def in_language(browser, lang):
    browser.set_cookie("lang", lang)
    return browser


def first_session():
    return db.session.execute(select(Session).order_by(Session.planned_start, Session.id)).scalars().first()


def field_errors(page):
    """{field id: [error texts]} of the form's fields."""
    found = {}
    for field, text in re.findall(r'<span class="error" id="([\w-]+)-err"[^>]*>(.*?)</span>', page, re.S):
        found.setdefault(field, []).append(" ".join(text.split()))
    return found


def flashes(page):
    return [" ".join(t.split()) for t in re.findall(r'<p class="flash[^"]*">(.*?)</p>', page, re.S)]


# ---- the session form ----------------------------------------------------------------------------------------

FORM_CASES = {
    "end before start": (
        lambda s: {"start": "2018-10-26T15:00", "end": "2018-10-26T14:30"},
        "end",
        "Das Ende muss nach dem Beginn liegen.",
        "The end must be after the start.",
    ),
    "unknown speaker": (
        lambda s: {"speakers": ["Niemand Bekanntes"]},
        "speakers",
        "„Niemand Bekanntes“ steht nicht zur Auswahl.",
        "“Niemand Bekanntes” is not one of the choices.",
    ),
    "unknown room": (
        lambda s: {"room": "Keller"},
        "room",
        "Keine gültige Auswahl.",  # WTForms' own message, from its catalogue
        "Not a valid choice.",
    ),
    "empty title": (lambda s: {"title": ""}, "title", "Dieses Feld wird benötigt.", "This field is required."),
}


def session_form(session, **changes):
    local = lambda moment: moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    data = {
        "title": session.title,
        "kind": session.kind,
        "room": session.room.name if session.room else "",
        "start": local(session.planned_start),
        "end": local(session.planned_end),
        "status": session.status,
        "language": session.language,
        "abstract": session.abstract,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("name", FORM_CASES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_session_form_shows_a_refusal_at_its_field_in_the_readers_language(organiser, name, lang):
    change, field, german, english = FORM_CASES[name]
    session = first_session()
    before = state()
    r = in_language(organiser, lang).post(
        f"/staff/e/{SLUG}/sessions/{session.id}/edit", data=session_form(session, **change(session))
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    errors = field_errors(page)
    expected = german if lang == "de" else english
    assert errors == {field: [expected]}, errors
    assert (english if lang == "de" else german) not in page
    assert not KEYS.search(" ".join(errors[field]))
    assert state() == before


def test_a_new_session_ending_before_it_starts_is_refused_at_the_end_field(organiser):
    before = state()
    data = session_form(first_session(), title="Neu", start="2018-10-26T16:00", end="2018-10-26T16:00")
    page = organiser.post(f"/staff/e/{SLUG}/sessions/new", data=data).get_data(as_text=True)
    assert field_errors(page) == {"end": ["Das Ende muss nach dem Beginn liegen."]}
    assert re.search(r'<input[^>]*aria-describedby="end-err"[^>]*id="end"', page) and "title-err" not in page
    assert state() == before


# ---- editor buttons, set-up rows, announcements -----------------------------------------------------------------


@pytest.mark.parametrize(
    "lang, expected",
    [
        (
            "de",
            "Den Raum „Keller“ gibt es in dieser Veranstaltung nicht. Räume: Forum, Seminarraum 1, Seminarraum 2, Foyer",
        ),
        ("en", "This event has no room “Keller”. Rooms: Forum, Seminarraum 1, Seminarraum 2, Foyer"),
    ],
)
def test_an_editor_button_with_an_unknown_room_says_so_and_changes_nothing(organiser, lang, expected):
    session = first_session()
    before = state()
    r = in_language(organiser, lang).post(
        f"/staff/e/{SLUG}/sessions/{session.id}/room", data={"room": "Keller"}, follow_redirects=True
    )
    assert expected in flashes(r.get_data(as_text=True))
    assert state() == before


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("de", "„Status“ muss einer dieser Werte sein: geplant, abgesagt"),
        ("en", "‘Status’ must be one of: scheduled, cancelled"),
    ],
)
def test_an_unknown_status_names_the_labels_not_the_codes(organiser, lang, expected):
    session = first_session()
    before = state()
    r = in_language(organiser, lang).post(
        f"/staff/e/{SLUG}/sessions/{session.id}/status", data={"status": "vielleicht"}, follow_redirects=True
    )
    assert expected in flashes(r.get_data(as_text=True))
    assert state() == before


@pytest.mark.parametrize(
    "lang, expected",
    [("de", "Bitte „Name“ ausfüllen."), ("en", "Please fill in ‘Name’.")],
)
def test_a_room_without_a_name_is_refused_in_the_readers_language(organiser, lang, expected):
    before = state()
    r = in_language(organiser, lang).post(f"/staff/e/{SLUG}/setup/room", data={"name": "   "})
    assert r.status_code == 400 and expected in r.get_data(as_text=True)
    assert state() == before


def test_the_setup_names_the_field_of_a_too_long_board_phrase(organiser):
    topic = db.session.execute(select(Topic).order_by(Topic.id)).scalars().first()
    before = state()
    r = organiser.post(f"/staff/e/{SLUG}/setup/topic/{topic.id}/phrases", data={"phrase": "x" * 201})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "„Formulierung mit bestimmtem Artikel“ darf höchstens 200 Zeichen lang sein." in page
    assert state() == before


# ---- the API: the same sentences, with the field and the codes for scripts ----------------------------------------


@pytest.mark.parametrize(
    "body, field, german, english",
    [
        (
            {"kind": "lecture"},
            "kind",
            "„Art“ muss einer dieser Werte sein: Vortrag, Eröffnung",
            "‘Type’ must be one of: Talk, Opening",
        ),
        ({"delay_minutes": "zehn"}, "delay_minutes", "„Verspätung in Minuten“ muss eine ganze Zahl sein.", None),
        ({"planned_end": "morgen"}, "planned_end", "„Ende“ muss eine Zeit nach ISO 8601 mit Zeitzone sein.", None),
        ({"speakers": ["Niemand"]}, "speakers", "Diese Mitwirkenden gibt es nicht: Niemand", None),
        ({"room": 5}, "room", "„Raum“ muss ein Text sein.", "‘Room’ must be text."),
    ],
    ids=["kind", "delay", "end", "speakers", "room"],
)
def test_the_api_refuses_in_the_readers_language_with_the_field(web, auth, body, field, german, english):
    session_id = first_session().id
    before = state()
    url = f"/api/v1/events/{SLUG}/sessions/{session_id}"
    error = web.patch(url, json=body, headers=auth).json["error"]
    assert error["field"] == field and german in error["message"] and not KEYS.search(error["message"])
    if field == "kind":
        assert "lecture" not in error["message"] and error["choices"][:2] == ["talk", "opening"]
    error = web.patch(url + "?lang=en", json=body, headers=auth).json["error"]
    assert error["field"] == field and german not in error["message"]
    if english:
        assert english in error["message"]
    assert state() == before


def test_a_new_session_without_its_fields_names_them_as_the_form_does(web, auth):
    before = state()
    r = web.post(f"/api/v1/events/{SLUG}/sessions", json={"title": "Neu"}, headers=auth)
    assert r.status_code == 400
    assert (
        r.json["error"]["message"] == "Es fehlen Angaben: Beginn, Ende" and r.json["error"]["field"] == "planned_start"
    )
    assert state() == before


def test_who_is_asking_is_refused_with_sentences(app, web):
    before = state()
    url = f"/api/v1/events/{SLUG}/sessions/{first_session().id}"
    r = web.patch(url, json={"delay_minutes": 5})
    assert r.status_code == 401
    assert r.json["error"]["message"] == "Bitte als Teammitglied anmelden oder einen API-Schlüssel mitsenden."
    r = web.patch(url + "?lang=en", json={"delay_minutes": 5}, headers={"Authorization": "Bearer falsch"})
    assert r.status_code == 401 and r.json["error"]["message"] == "This API key is invalid or revoked."
    make_staff("orga-csrf", password="orga-csrf-pw", quick=True)
    browser = signed_in(app, "orga-csrf", "orga-csrf-pw")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = browser.patch(url, json={"delay_minutes": 5})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf"
    assert (
        r.json["error"]["message"]
        == "Die Sitzung ist abgelaufen. Bitte die Seite neu laden und es noch einmal versuchen."
    )
    assert state() == before


# ---- the schedule import: faulty sessions skipped, the button says how many ---------------------------------------


@pytest.fixture
def new_event(app, tmp_path):
    app.config["SCHEDULE_IMPORT_DIR"] = str(tmp_path / "schedule-imports")
    start = db.session.get(Event, 1).starts_at
    db.session.add(Event(slug=NEW, title="DemoCon (leer)", starts_at=start, ends_at=start.replace(hour=18)))
    db.session.commit()
    return NEW


def pretalx(broken=0, keep=None):
    """The pretalx export with `broken` sessions of day 2 missing their duration (or only `keep` sessions)."""
    document = json.loads(PRETALX.read_text())
    days = document["schedule"]["conference"]["days"]
    if keep is not None:
        events = [e for day in days for es in day["rooms"].values() for e in es][:keep]
        for day in days:
            for room in day["rooms"]:
                day["rooms"][room] = [e for e in day["rooms"][room] if e in events]
    for event in days[1]["rooms"]["Tan Room"][:broken]:
        del event["duration"]
    return json.dumps(document).encode()


def upload(browser, data, slug=NEW):
    return browser.post(
        f"/staff/e/{slug}/import",
        data={"file": (io.BytesIO(data), "schedule.json")},
        content_type="multipart/form-data",
    )


def button(page):
    return " ".join(re.search(r"<button[^>]*data-apply>(.*?)</button>", page, re.S).group(1).split())


@pytest.mark.parametrize(
    "broken, keep, german, english",
    [
        (0, None, "36 Programmpunkte übernehmen", "Import 36 sessions"),
        (0, 1, "1 Programmpunkt übernehmen", "Import 1 session"),
        (1, None, "35 Programmpunkte übernehmen, 1 fehlerhaften überspringen", "Import 35 sessions, skip 1 faulty one"),
        (2, None, "34 Programmpunkte übernehmen, 2 fehlerhafte überspringen", "Import 34 sessions, skip 2 faulty ones"),
    ],
    ids=["all good", "one session", "one faulty", "two faulty"],
)
def test_the_import_button_says_what_it_will_do(organiser, new_event, broken, keep, german, english):
    before = state(NEW)
    page = upload(organiser, pretalx(broken, keep)).get_data(as_text=True)
    assert button(page) == german
    page = upload(in_language(organiser, "en"), pretalx(broken, keep)).get_data(as_text=True)
    assert button(page) == english
    assert state(NEW) == before  # a preview writes nothing


def test_pressing_the_button_imports_the_good_sessions_and_skips_the_faulty_one(organiser, new_event):
    page = upload(organiser, pretalx(broken=1)).get_data(as_text=True)
    skipped = re.search(r"<div class=\"import-errors\" data-skipped>(.*?)</div>", page, re.S).group(1)
    assert "1 fehlerhafter Programmpunkt wird übersprungen" in skipped
    assert "Tag 2, Raum „Tan Room“, Programmpunkt 1 („Advanced 24hour hub“): „Dauer“ fehlt." in skipped, skipped
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = organiser.post(f"/staff/e/{NEW}/import/apply", data={"token": token}, follow_redirects=True)
    done = r.get_data(as_text=True)
    assert "Programm übernommen: 35 Programmpunkte in 2 Räumen." in flashes(done)
    assert "1 fehlerhafter Programmpunkt der Datei wurde übersprungen." in flashes(done)
    titles = {s.title for s in db.session.execute(select(Session).join(Event).filter(Event.slug == NEW)).scalars()}
    assert len(titles) == 35 and "Advanced 24hour hub" not in titles


def test_the_skipped_sessions_are_listed_in_english_too(organiser, new_event):
    page = upload(in_language(organiser, "en"), pretalx(broken=2)).get_data(as_text=True)
    skipped = re.search(r"<div class=\"import-errors\" data-skipped>(.*?)</div>", page, re.S).group(1)
    assert "2 faulty sessions will be skipped" in skipped
    assert "Day 2, room “Tan Room”, session 1 (“Advanced 24hour hub”): ‘Duration’ is missing." in skipped
    assert "fehlt" not in skipped and "Programmpunkt" not in skipped


def test_a_followed_address_must_be_right_as_a_whole(organiser, new_event, monkeypatch):
    """A faulty session in a file to follow refuses it: every later pull reads it whole, and would refuse it."""
    from webapp.agenda import follow

    monkeypatch.setattr(follow, "fetch", lambda url, *a, **k: follow.Fetched(pretalx(broken=1)))
    before = state(NEW)
    r = organiser.post(f"/staff/e/{NEW}/import", data={"url": "https://example.org/schedule.json", "follow": "y"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert field_errors(page) == {
        "url": ["Nichts übernommen. Tag 2, Raum „Tan Room“, Programmpunkt 1 („Advanced 24hour hub“): „Dauer“ fehlt."]
    }
    assert state(NEW) == before


def test_mail_not_set_up_is_a_sentence_for_organisers(app):
    from webapp.core.errors import DomainError
    from webapp.mail import outbox

    for lang, expected in (
        ("de", "Auf diesem Server ist der E-Mail-Versand nicht eingerichtet."),
        ("en", "Sending e-mail is not set up on this server."),
    ):
        with app.app_context(), app.test_request_context(f"/?lang={lang}"):
            with pytest.raises(DomainError) as refused:
                outbox.queue(1, "ticket", "erika@example.org")
        assert refused.value.code == "mail_disabled" and refused.value.message.startswith(expected)
