"""The change log in the reader's language (issue 13, words not codes): each kind of change the app records
is made through its real domain function or API, then the staff change-log page is read in German and in
English (?lang=en). The row shows the kind as a word (not `session.moved`) and the change as a sentence
from its stored facts (`Change.details`): German in the German page, English with no German words in the
English one. A row from before the facts shows its stored summary; deleting a guest cleans the facts too.

The demo event (kl-2018, Fri 26.10.2018, Europe/Berlin), Forum: "Teilautonomes Fahren …" 15:35–15:55,
"Park App" 15:55–16:15, "Mobiles WLAN" 16:15–16:35, "Ausblick: …" 17:30–17:45."""

import copy
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, app_on_copy, in_own_context, make_staff, prepared_database, signed_in
from webapp.agenda import domain
from webapp.agenda import follow as follow_module
from webapp.agenda.imports import import_schedule, parse_schedule
from webapp.agenda.models import Room, Session, Speaker, Topic
from webapp.core.events import get_event
from webapp.core.extensions import db
from webapp.live import record_change
from webapp.live.models import Change
from webapp.series import domain as series

BUS = "Teilautonomes Fahren mit einem Bus in der Fußgängerzone"
AUSBLICK = "Ausblick: die nächsten Netzwerktreffen"
PRETALX = Path("/work/shared/formats/example-pretalx-democon.json")

# Words of the German sentences and labels that must not be in an English cell (titles and names are the
# event's own content and stay as they are).
GERMAN = re.compile(
    r"„|\bUhr\b|verschoben|verlegt|abgesagt|findet|geändert|Programmp|\bProgramm\b|danach|Minuten?\b|später|"
    r"früher|läuft|endet|beendet|heißt|Durchsage|Neu im|Neuer|Raum|Räume|Thema|wirkt|eingelesen|Tischplan|"
    r"Gespräch|Angaben|Veranstaltung|Kontaktperson|Datenschutz|Stelle|wieder"
)
CODE = re.compile(r"^[a-z]+\.[a-z]+$")


def at(hhmm):
    return datetime.fromisoformat(f"2018-10-26T{hhmm}:00+02:00").astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    """clock("09:00"): the agenda's domain functions take that moment of the event's day as now."""

    def set_to(hhmm):
        monkeypatch.setattr(domain, "utcnow", lambda: at(hhmm))

    set_to("09:00")  # before the day's programme: a delay moves a session's start
    return set_to


@pytest.fixture
def staff(app):
    make_staff("ops", password="pw-ops", quick=True)
    return signed_in(app, "ops", "pw-ops")


def event():
    return get_event(SLUG)


def session(title):
    return db.session.execute(select(Session).filter_by(title=title)).scalar_one()


def room(name):
    return db.session.execute(select(Room).filter_by(name=name)).scalar_one()


def log(browser, lang, slug=SLUG):
    """The change-log page's rows: {revision: (time, kind label, change, by)}."""
    page = browser.get(f"/staff/e/{slug}/changes?lang={lang}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body)
    return {int(r[0]): tuple(html.unescape(cell) for cell in r[1:]) for r in rows}


def entry(browser, kind, slug=SLUG):
    """The newest change of this kind as the German and the English page show it: ((label, text), (label,
    text)); the English cells hold no German and no codes."""
    change = last_of(kind, slug)
    de, en = log(browser, "de", slug)[change.revision], log(browser, "en", slug)[change.revision]
    for _when, label, text, _by in (de, en):
        assert not CODE.match(label) and kind not in label and kind not in text
    assert re.match(r"^\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d$", de[0]), de[0]
    assert re.match(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d$", en[0]), en[0]
    assert not GERMAN.search(en[1]), f"German in the English label: {en[1]!r}"
    assert not GERMAN.search(en[2]), f"German in the English log: {en[2]!r}"
    assert not GERMAN.search(en[3]), f"German in the English 'by': {en[3]!r}"
    assert change.details is not None
    return (de[1], de[2]), (en[1], en[2])


def last_of(kind, slug=SLUG):
    db.session.expire_all()
    event_id = get_event(slug).id
    return db.session.execute(
        select(Change).where(Change.event_id == event_id, Change.kind == kind).order_by(Change.revision.desc()).limit(1)
    ).scalar_one()


# ---- the sessions --------------------------------------------------------------------------------------------


def test_a_delay_with_the_following_sessions(app, client, auth, staff, clock):
    park = session("Park App")
    r = client.patch(
        f"/api/v1/events/{SLUG}/sessions/{park.id}", json={"delay_minutes": 10, "shift_following": True}, headers=auth
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert entry(staff, "session.delayed") == (
        (
            "Verschoben",
            "Forum: „Park App“ verschoben: 15:55 → 16:05 Uhr, 10 Minuten später als geplant; "
            f"danach 2 Programmpunkte 10 Minuten später: Mobiles WLAN, {AUSBLICK}",
        ),
        (
            "Rescheduled",
            "Forum: “Park App” rescheduled: 15:55 → 16:05, 10 minutes later than planned; "
            f"then 2 sessions 10 minutes later: Mobiles WLAN, {AUSBLICK}",
        ),
    )
    # the live message and old clients keep the German summary
    assert last_of("session.delayed").summary == "Park App: +10 min (+2 folgende)"

    domain.update_session(event(), session("Park App"), {"delay_minutes": 0})
    assert entry(staff, "session.delayed") == (
        ("Verschoben", "Forum: „Park App“ wieder pünktlich: 15:55 Uhr"),
        ("Rescheduled", "Forum: “Park App” back on time: 15:55"),
    )
    domain.update_session(event(), session("Park App"), {"delay_minutes": -1})
    assert entry(staff, "session.delayed")[1][1] == (
        "Forum: “Park App” rescheduled: 15:55 → 15:54, 1 minute earlier than planned"
    )


def test_an_overrun_and_ends_now(app, staff, clock):
    clock("15:45")
    domain.extend_session(event(), session(BUS), 10, shift_following=True)
    assert entry(staff, "session.overrun") == (
        (
            "Ende geändert",
            f"Forum: „{BUS}“ läuft 10 Minuten länger, bis 16:05 Uhr; "
            "danach 2 Programmpunkte 10 Minuten später: Park App, Mobiles WLAN",
        ),
        (
            "End changed",
            f"Forum: “{BUS}” runs 10 minutes over, until 16:05; then 2 sessions 10 minutes later: Park App, Mobiles WLAN",
        ),
    )
    domain.end_session_now(event(), session(BUS), now=at("15:49"))
    assert entry(staff, "session.overrun") == (
        ("Ende geändert", f"Forum: „{BUS}“ beendet um 15:49 Uhr"),
        ("End changed", f"Forum: “{BUS}” ended at 15:49"),
    )
    domain.extend_session(event(), session(BUS), 1)
    assert entry(staff, "session.overrun")[1][1] == f"Forum: “{BUS}” ends 5 minutes early, at 15:50"


def test_moved_cancelled_restored_in_the_editor(app, staff, clock):
    park = session("Park App")
    staff.post(f"/staff/e/{SLUG}/sessions/{park.id}/room", data={"room": "Seminarraum 2"})
    assert entry(staff, "session.moved") == (
        ("Anderer Raum", "„Park App“ verlegt: Forum → Seminarraum 2"),
        ("Room changed", "“Park App” moved: Forum → Seminarraum 2"),
    )
    staff.post(f"/staff/e/{SLUG}/sessions/{park.id}/status", data={"status": "cancelled"})
    assert entry(staff, "session.cancelled") == (
        ("Abgesagt", "„Park App“ abgesagt"),
        ("Cancelled", "“Park App” cancelled"),
    )
    staff.post(f"/staff/e/{SLUG}/sessions/{park.id}/status", data={"status": "scheduled"})
    assert entry(staff, "session.restored") == (
        ("Findet wieder statt", "„Park App“ findet wieder statt"),
        ("Back on", "“Park App” is back on"),
    )
    # the editor's message after a change is in the page's language too
    staff.get(f"/staff/e/{SLUG}/?lang=en")
    staff.post(f"/staff/e/{SLUG}/sessions/{park.id}/status", data={"status": "cancelled"})
    page = staff.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert "“Park App” cancelled" in html.unescape(page) and "abgesagt" not in page.split("</h1>")[0]


def test_edited_added_removed(app, client, auth, staff, clock):
    domain.update_session(event(), session("Park App"), {"title": "Park-App Kaiserslautern"})
    assert entry(staff, "session.edited") == (
        ("Geändert", "„Park App“ heißt jetzt „Park-App Kaiserslautern“"),
        ("Changed", "“Park App” is now called “Park-App Kaiserslautern”"),
    )
    domain.update_session(event(), session("Mobiles WLAN"), {"abstract": "Neu beschrieben", "language": "en"})
    assert entry(staff, "session.edited") == (
        ("Geändert", "„Mobiles WLAN“ geändert: Beschreibung, Sprache"),
        ("Changed", "“Mobiles WLAN” changed: Description, Language"),
    )
    r = client.post(
        f"/api/v1/events/{SLUG}/sessions",
        json={
            "title": "Smart Parking",
            "planned_start": "2018-10-26T18:00:00+02:00",
            "planned_end": "2018-10-26T18:30:00+02:00",
            "room": "forum",
        },
        headers=auth,
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    assert entry(staff, "session.added") == (
        ("Neu im Programm", "Neu im Programm: „Smart Parking“, 26. Okt., 18:00 Uhr, Forum"),
        ("Added", "New in the programme: “Smart Parking”, 26 Oct, 18:00, Forum"),
    )
    domain.create_session(event(), {"title": "Drohnen", "planned_start": at("19:00"), "planned_end": at("19:30")})
    assert entry(staff, "session.added")[1] == ("Added", "New in the programme: “Drohnen”, 26 Oct, 19:00")
    domain.remove_session(event(), session("Park-App Kaiserslautern"))
    assert entry(staff, "session.removed") == (
        ("Aus dem Programm", "„Park-App Kaiserslautern“ aus dem Programm genommen"),
        ("Removed", "“Park-App Kaiserslautern” taken out of the programme"),
    )


# ---- announcements, rooms, topics, speakers ---------------------------------------------------------------------


def test_announcements(app, staff):
    announcement, _ = domain.add_announcement(event(), "Coffee in the foyer")
    assert entry(staff, "announcement.added") == (
        ("Durchsage", "Durchsage: Coffee in the foyer"),
        ("Announcement", "Announcement: Coffee in the foyer"),
    )
    domain.withdraw_announcement(event(), announcement.id)
    assert entry(staff, "announcement.withdrawn") == (
        ("Durchsage zurückgenommen", "Durchsage zurückgenommen: Coffee in the foyer"),
        ("Announcement withdrawn", "Announcement withdrawn: Coffee in the foyer"),
    )


def test_rooms(app, client, auth, staff):
    assert client.post(f"/api/v1/events/{SLUG}/rooms", json={"name": "Aula"}, headers=auth).status_code == 201
    assert entry(staff, "room.added") == (("Neuer Raum", "Neuer Raum: Aula"), ("New room", "New room: Aula"))
    domain.rename_room(event(), room("Seminarraum 1"), "Werkstatt")
    assert entry(staff, "room.renamed") == (
        ("Raum umbenannt", "Raum „Seminarraum 1“ heißt jetzt „Werkstatt“"),
        ("Room renamed", "Room “Seminarraum 1” is now called “Werkstatt”"),
    )
    domain.move_room(event(), room("Foyer"), -1)
    assert entry(staff, "room.moved") == (
        ("Reihenfolge der Räume", "Reihenfolge der Räume: Foyer jetzt an 3. Stelle"),
        ("Order of rooms", "Order of rooms: Foyer now in position 3"),
    )
    domain.remove_room(event(), room("Aula"))
    assert entry(staff, "room.removed") == (
        ("Raum entfernt", "Raum entfernt: Aula"),
        ("Room removed", "Room removed: Aula"),
    )


def test_topics_and_speakers(app, staff):
    topic = db.session.execute(select(Topic).filter_by(name="Bildung")).scalar_one()
    domain.rename_topic(event(), topic, "Schule")
    assert entry(staff, "topic.renamed") == (
        ("Thema umbenannt", "Thema „Bildung“ heißt jetzt „Schule“"),
        ("Topic renamed", "Topic “Bildung” is now called “Schule”"),
    )
    verlage = db.session.execute(select(Speaker).filter_by(name="Dr. Martin Verlage")).scalar_one()
    domain.update_speaker(event(), verlage, "Dr. Martin Verlage-Schmidt")
    assert entry(staff, "speaker.renamed") == (
        ("Name geändert", "Dr. Martin Verlage heißt jetzt Dr. Martin Verlage-Schmidt"),
        ("Name changed", "Dr. Martin Verlage is now listed as Dr. Martin Verlage-Schmidt"),
    )
    domain.remove_speaker(event(), db.session.get(Speaker, verlage.id))
    assert entry(staff, "speaker.removed") == (
        ("Mitwirkung beendet", "Dr. Martin Verlage-Schmidt wirkt nicht mehr mit (2 Programmpunkte)"),
        ("No longer taking part", "Dr. Martin Verlage-Schmidt no longer takes part (2 sessions)"),
    )


# ---- the event itself --------------------------------------------------------------------------------------------


def test_the_event_edited(app, client, auth, staff):
    r = client.patch(f"/api/v1/events/{SLUG}", json={"venue": "Rathaus Kaiserslautern"}, headers=auth)
    assert r.status_code == 200, r.get_data(as_text=True)
    title = event().title
    assert entry(staff, "event.edited") == (
        ("Veranstaltung", f"Veranstaltung „{title}“ geändert: Veranstaltungsort"),
        ("Event", f"Event “{title}” changed: Venue"),
    )
    series.update_event(event(), {"title": "Netzwerktreffen 2018", "subtitle": "Herbst"})
    assert entry(staff, "event.edited")[1] == ("Event", "Event “Netzwerktreffen 2018” changed: Title, Subtitle")


# ---- schedule import and a followed schedule ------------------------------------------------------------------


def events_of(document):
    return [
        (day, name, e)
        for day in document["schedule"]["conference"]["days"]
        for name, es in day["rooms"].items()
        for e in es
    ]


def test_a_schedule_imported_again_and_followed(app, tmp_path):
    document = json.loads(PRETALX.read_text())
    democon, _ = import_schedule("democon", json.dumps(document).encode())
    make_staff("orga", password="pw-orga", quick=True)
    browser = signed_in(app, "orga", "pw-orga")
    _, counts = import_schedule("democon", json.dumps(document).encode())
    assert entry(browser, "agenda.imported", "democon") == (
        ("Programm eingelesen", f"Programm neu eingelesen: {counts['sessions']} Programmpunkte in 2 Räumen"),
        ("Programme imported", f"Programme imported again: {counts['sessions']} sessions in 2 rooms"),
    )

    edited = copy.deepcopy(document)
    (day, first_room, first), (_, _, second), *_ = events_of(edited)
    start = datetime.fromisoformat(first["date"])
    moved_to = start.replace(minute=(start.minute + 10) % 60, hour=start.hour + (start.minute + 10) // 60)
    first["date"], first["start"] = moved_to.isoformat(), moved_to.strftime("%H:%M")
    second["state"] = "CANCELED"
    changes, _ = follow_module.sync_schedule(get_event("democon"), parse_schedule(json.dumps(edited).encode()))
    assert {c.kind for c in changes} == {"session.delayed", "session.cancelled"}
    de, en = entry(browser, "session.delayed", "democon")
    assert de[0] == "Verschoben" and en[0] == "Rescheduled"
    zone = ZoneInfo(get_event("democon").timezone)
    old, new = start.astimezone(zone).strftime("%H:%M"), moved_to.astimezone(zone).strftime("%H:%M")
    assert de[1].startswith(f"„{first['title']}“ verschoben: 14. Dez., {old}–") and f"→ 14. Dez., {new}–" in de[1]
    assert en[1].startswith(f"“{first['title']}” rescheduled: 14 Dec, {old}–") and f"→ 14 Dec, {new}–" in en[1]
    assert entry(browser, "session.cancelled", "democon")[1] == ("Cancelled", f"“{second['title']}” cancelled")


# ---- the board ------------------------------------------------------------------------------------------------


def delegate(client, auth, name, city):
    return client.post(f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city}, headers=auth).json["token"]


def answers(client, token, stages, consent=True):
    body = {"consent": consent, "interests": [{"topic": t, "stage": s} for t, s in stages.items()]}
    assert client.put(f"/api/v1/t/{token}/interests", json=body).status_code == 200


def test_board_answers_requests_meetings_and_a_programme_change(app, client, auth, staff):
    kl, trier = delegate(client, auth, "A", "Kaiserslautern"), delegate(client, auth, "B", "Trier")
    answers(client, kl, {"park-app": "runs", "bildung": "runs"})
    assert entry(staff, "board.updated") == (
        ("Board", "Kaiserslautern: Angaben zu 2 Themen, auf dem Board"),
        ("Board", "Kaiserslautern: answers on 2 topics, on the board"),
    )
    answers(client, trier, {"park-app": "plans"})
    answers(client, trier, {"park-app": "interested"}, consent=False)
    assert entry(staff, "board.updated")[1] == ("Board", "Trier: answers on 1 topic, not on the board")
    answers(client, trier, {"park-app": "plans"})

    r = client.post(f"/api/v1/t/{trier}/meetings", json={"with": "kaiserslautern", "topic": "park-app"})
    assert r.status_code == 201
    assert entry(staff, "meeting.requested") == (
        ("Gesprächsanfrage", "Gesprächsanfrage von Trier an Kaiserslautern zu „Park App“"),
        ("Meeting request", "Meeting request from Trier to Kaiserslautern on “Park App”"),
    )
    assert client.post(f"/api/v1/t/{kl}/meetings/{r.json['id']}", json={"accept": True}).status_code == 200
    assert entry(staff, "board.planned") == (
        ("Tischplan", "Gespräch vereinbart: Trier und Kaiserslautern zu „Park App“"),
        ("Table plan", "Meeting agreed: Trier and Kaiserslautern on “Park App”"),
    )

    topic = db.session.execute(select(Topic).filter_by(slug="park-app")).scalar_one()
    domain.rename_topic(event(), topic, "Parken per App")
    assert entry(staff, "board.updated") == (
        ("Board", "Board an die Programmänderung angepasst"),
        ("Board", "Board updated after a programme change"),
    )


@pytest.fixture
def board_app(tmp_path_factory, tmp_path):
    """The demo event with the demo board (one delegation per town, tables planned)."""
    template = prepared_database(tmp_path_factory.mktemp("change-texts-board"), board=True)
    app = app_on_copy(template, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_replanned_table_plan_and_a_contact_removed_by_privacy(board_app):
    from webapp.checkin import guests as guest_domain
    from webapp.checkin.models import Guest
    from webapp.privacy import domain as privacy

    client = in_own_context(board_app, board_app.test_client())
    make_staff("ops", password="pw-ops", quick=True)
    staff = signed_in(board_app, "ops", "pw-ops")

    [trier] = db.session.execute(select(Guest).filter_by(city="Trier")).scalars().all()
    privacy.delete_guest(trier)  # the last delegate of a town with tables: the plan changes
    assert entry(staff, "board.planned") == (("Tischplan", "Tischplan angepasst"), ("Table plan", "Table plan updated"))

    # A contact person (her town keeps its delegation and tables) deletes her data: the board loses her
    # name, in a change made by the privacy part of the app.
    erika = guest_domain.create_guest(
        event(), {"name": "Erika Mustermann", "city": "Mayen", "consent_contact": True, "delegate": True}, source="self"
    )
    body = {"consent": True, "contact": True, "interests": [{"topic": "bildung", "stage": "runs"}]}
    assert client.put(f"/api/v1/t/{erika.token}/interests", json=body).status_code == 200
    revision = event().revision
    privacy.delete_guest(db.session.get(Guest, erika.id))
    change = last_of("board.updated")
    assert change.revision == revision + 1 and change.actor == "Datenschutz"
    de_row, en_row = log(staff, "de")[change.revision], log(staff, "en")[change.revision]
    assert de_row[1:] == ("Board", "Kontaktperson vom Board entfernt", "Datenschutz")
    assert en_row[1:] == ("Board", "Contact person removed from the board", "Privacy")


# ---- old rows, unknown kinds, privacy -------------------------------------------------------------------------


def test_a_row_without_facts_shows_its_stored_summary_and_an_unknown_kind_its_code(app, staff):
    old = record_change(event(), "room.added", "Neuer Raum: Aula", {})
    odd = record_change(event(), "survey.opened", "Umfrage geöffnet", {}, details={"x": 1})
    broken = record_change(event(), "room.renamed", "Raum A heißt jetzt B", {}, details={"name": "B"})
    db.session.commit()
    de, en = log(staff, "de"), log(staff, "en")
    assert de[old.revision][1:3] == ("Neuer Raum", "Neuer Raum: Aula")
    assert en[old.revision][1:3] == ("New room", "Neuer Raum: Aula")  # the only words it has
    assert en[odd.revision][1:3] == ("survey.opened", "Umfrage geöffnet")
    assert en[broken.revision][1:3] == ("Room renamed", "Raum A heißt jetzt B")  # facts of another shape


def test_the_page_formats_the_time_in_the_event_zone_and_the_page_language(app, staff):
    change = domain.add_announcement(event(), "Hello")[1]
    change.created_at = datetime(2018, 10, 26, 13, 35, 2, tzinfo=UTC)
    db.session.commit()
    assert log(staff, "de")[change.revision][0] == "26.10.2018, 15:35:02"
    assert log(staff, "en")[change.revision][0] == "26 Oct 2018, 15:35:02"


def test_deleting_a_guest_cleans_the_facts_of_the_change_log(board_app):
    from webapp.checkin import guests as guest_domain
    from webapp.privacy import domain as privacy

    erika = guest_domain.create_guest(
        event(), {"name": "Erika Mustermann", "city": "Mayen", "consent_contact": True}, source="self"
    )
    # a board change whose facts name her as a contact (as an older or a future shape of a change might)
    named = record_change(
        event(),
        "board.updated",
        "Mayen: 1 Themen, auf dem Board",
        {"replace": {"board": {"topics": [{"cities": [{"city": "Mayen", "contact": "Erika Mustermann"}]}]}}},
        details={"municipality": "Mayen", "topics": 1, "on_board": True, "contact": "Erika Mustermann"},
    )
    other = record_change(
        event(),
        "board.updated",
        "Trier: 1 Themen, auf dem Board",
        {},
        details={"municipality": "Trier", "topics": 1, "on_board": True, "contact": "Max Muster"},
    )
    db.session.commit()
    done = privacy.delete_guest(erika)
    assert done["change_log_cleaned"] == 1
    db.session.expire_all()
    assert db.session.get(Change, named.id).details == {"municipality": "Mayen", "topics": 1, "on_board": True}
    assert "Erika" not in json.dumps(db.session.get(Change, named.id).payload)
    assert db.session.get(Change, other.id).details["contact"] == "Max Muster"  # only her name goes
    # the purge after the event removes every contact name, from the facts too
    # a real contact person on the board, for the purge to take away
    max_ = guest_domain.create_guest(
        event(), {"name": "Max Muster", "city": "Trier", "consent_contact": True, "delegate": True}, source="self"
    )
    body = {"consent": True, "contact": True, "interests": [{"topic": "bildung", "stage": "runs"}]}
    client = in_own_context(board_app, board_app.test_client())
    assert client.put(f"/api/v1/t/{max_.token}/interests", json=body).status_code == 200
    revision = event().revision
    privacy.purge_event(event())
    db.session.expire_all()
    assert "contact" not in db.session.get(Change, other.id).details
    # the board lost its remaining contact persons in one change, worded in either language
    purged = last_of("board.updated")
    assert (purged.revision, purged.actor, purged.details) == (revision + 1, "Datenschutz", {"reason": "purge"})
    make_staff("ops", password="pw-ops", quick=True)
    staff = signed_in(board_app, "ops", "pw-ops")
    assert log(staff, "de")[purged.revision][2] == "Personenbezogene Daten nach der Veranstaltung vom Board entfernt"
    assert log(staff, "en")[purged.revision][2:] == ("Personal data removed from the board after the event", "Privacy")
