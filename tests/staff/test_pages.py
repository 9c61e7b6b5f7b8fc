"""Staff pages: login, access control over the whole URL map, the agenda editor's buttons."""

import re

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.agenda.models import Session
from webapp.core.extensions import db
from webapp.core.models import Event

# Staff URLs open to anyone: the login page, and the pairing link a new scanner phone opens (it carries a
# one-time code; tests/checkin/test_devices.py covers it).
PUBLIC = {"staff.login", "checkin_scan.pair"}
# What a scanner-role account (a door phone) may open besides the admin's pages.
SCANNER_OK = {
    "staff.index",
    "staff.logout",
    "checkin_scan.scan",
    # the door reprints badges, and may open the self check-in kiosk to try it
    "checkin_badges.sheets",
    "checkin_badges.badge",
    "checkin_kiosk.kiosk",
    "checkin_kiosk.places_json",
    "checkin_kiosk.check_in",
    "checkin_kiosk.leave",
    # everyone's own account: password, tokens, logins
    "staff.account",
    "staff.account_password",
    "staff.account_revoke_token",
    "staff.account_revoke_logins",
}


def staff_rules(app, skip=PUBLIC):
    """Every staff URL in the app, with sample arguments filled in."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in skip:
            continue
        url = rule.rule.replace("<slug>", SLUG)
        url = re.sub(r"<int:[a-z_]+>", "1", url)
        url = re.sub(r"<any\(([a-z_]+)[^>]*>", r"\1", url)  # the first of the choices
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def test_every_staff_route_sends_anonymous_visitors_to_login(app, client):
    checked = 0
    for method, url in staff_rules(app):
        r = client.open(url, method=method)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), (method, url, r.status_code)
        checked += 1
    assert checked >= 10


def test_scanner_accounts_cannot_use_the_agenda_editor(app, client):
    make_staff("door", role="scanner", password="pw-2")
    client.post("/staff/login", data={"name": "door", "password": "pw-2"})
    checked = 0
    for method, url in staff_rules(app, skip=PUBLIC | SCANNER_OK):
        assert client.open(url, method=method).status_code == 403, (method, url)
        checked += 1
    assert checked >= 20


def test_wrong_password_is_a_form_error(client):
    make_staff("ops", password="right")
    r = client.post("/staff/login", data={"name": "ops", "password": "wrong"})
    assert r.status_code == 401 and "Benutzername oder Passwort falsch" in r.get_data(as_text=True)
    r = client.post("/staff/login?next=//evil.example/", data={"name": "ops", "password": "right"})
    assert r.status_code == 302 and r.location == "/staff/"


@pytest.fixture
def admin_browser(client):
    make_staff("ops", password="pw-1")
    client.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    return client


def session_by_title(title):
    return db.session.execute(select(Session).filter_by(title=title)).scalar_one()


def test_editor_delay_with_shift_move_cancel_restore(admin_browser):
    c = admin_browser
    page = c.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert "Park App" in page and 'data-step="10"' in page
    opening = session_by_title("Begrüßung und Eröffnung")
    r = c.post(f"/staff/e/{SLUG}/sessions/{opening.id}/delay", data={"step": "10", "shift_following": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert session_by_title("Begrüßung und Eröffnung").delay_minutes == 10
    assert session_by_title("Park App").delay_minutes == 10
    assert session_by_title("Drohnenschule").delay_minutes == 0
    park = session_by_title("Park App")
    c.post(f"/staff/e/{SLUG}/sessions/{park.id}/delay", data={"step": "-5"})
    c.post(f"/staff/e/{SLUG}/sessions/{park.id}/room", data={"room": "Seminarraum 2"})
    c.post(f"/staff/e/{SLUG}/sessions/{park.id}/status", data={"status": "cancelled"})
    db.session.expire_all()
    park = session_by_title("Park App")
    assert (park.delay_minutes, park.room.name, park.status) == (5, "Seminarraum 2", "cancelled")
    c.post(f"/staff/e/{SLUG}/sessions/{park.id}/status", data={"status": "scheduled"})
    db.session.expire_all()
    assert session_by_title("Park App").status == "scheduled"
    event = db.session.execute(select(Event)).scalar_one()
    assert event.revision == 5
    log = c.get(f"/staff/e/{SLUG}/changes").get_data(as_text=True)
    assert "<td>Abgesagt</td><td>„Park App“ abgesagt</td><td>ops</td>" in log and "session.cancelled" not in log


def test_editor_refuses_bad_values_with_a_message(admin_browser):
    c = admin_browser
    park = session_by_title("Park App")
    r = c.post(f"/staff/e/{SLUG}/sessions/{park.id}/room", data={"room": "Keller"}, follow_redirects=True)
    assert "Den Raum „Keller“ gibt es in dieser Veranstaltung nicht." in r.get_data(as_text=True)
    assert c.post(f"/staff/e/{SLUG}/sessions/{park.id}/delay", data={"step": "viel"}).status_code == 400
    assert db.session.execute(select(Event.revision)).scalar_one() == 0


def test_edit_and_add_session_forms(admin_browser):
    c = admin_browser
    park = session_by_title("Park App")
    assert "Park App" in c.get(f"/staff/e/{SLUG}/sessions/{park.id}/edit").get_data(as_text=True)
    r = c.post(
        f"/staff/e/{SLUG}/sessions/{park.id}/edit",
        data={
            "title": "Park App 2.0",
            "kind": "pitch",
            "room": "Forum",
            "start": "2018-10-26T15:55",
            "end": "2018-10-26T16:15",
            "status": "scheduled",
            "abstract": "Neu",
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Session, park.id).title == "Park App 2.0"
    r = c.post(
        f"/staff/e/{SLUG}/sessions/new",
        data={
            "title": "Zusatzrunde",
            "kind": "workshop",
            "room": "Foyer",
            "start": "2018-10-26T18:00",
            "end": "2018-10-26T17:00",
            "status": "scheduled",
        },
    )
    assert r.status_code == 200
    assert '<span class="error" id="end-err">Das Ende muss nach dem Beginn liegen.</span>' in r.get_data(as_text=True)
    r = c.post(
        f"/staff/e/{SLUG}/sessions/new",
        data={
            "title": "Zusatzrunde",
            "kind": "workshop",
            "room": "Foyer",
            "start": "2018-10-26T18:00",
            "end": "2018-10-26T18:30",
            "status": "scheduled",
        },
    )
    assert r.status_code == 302 and session_by_title("Zusatzrunde").planned_start.hour == 16  # 18:00 CEST


def test_announcements_page(admin_browser):
    c = admin_browser
    r = c.post(
        f"/staff/e/{SLUG}/announcements",
        data={"text": "Bus fährt um 17 Uhr", "severity": "warning", "expires_in_minutes": "60"},
    )
    assert r.status_code == 302
    page = c.get(f"/staff/e/{SLUG}/announcements").get_data(as_text=True)
    assert "Bus fährt um 17 Uhr" in page
    aid = re.search(r"/announcements/(\d+)/withdraw", page).group(1)
    c.post(f"/staff/e/{SLUG}/announcements/{aid}/withdraw")
    assert c.get(f"/api/v1/events/{SLUG}/agenda").json["announcements"] == []


def test_forms_need_csrf(app, client):
    make_staff("ops", password="pw-1")
    client.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    app.config["WTF_CSRF_ENABLED"] = True
    park = session_by_title("Park App")
    r = client.post(f"/staff/e/{SLUG}/sessions/{park.id}/delay", data={"step": "10"}, follow_redirects=True)
    assert db.session.execute(select(Event.revision)).scalar_one() == 0
    assert r.status_code in (200, 400)


def test_cli_staff_add_and_token(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["staff", "add", "anna", "--role", "scanner"])
    assert out.exit_code == 0 and "Password:" in out.output
    out = runner.invoke(args=["staff", "token", "anna"])
    token = out.output.strip().splitlines()[-1]
    assert len(token) >= 40
    c = app.test_client()
    r = c.patch(
        f"/api/v1/events/{SLUG}/sessions/1", json={"delay_minutes": 5}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 403  # a scanner may not edit the agenda
    assert runner.invoke(args=["staff", "token", "nobody"]).exit_code != 0
    out = runner.invoke(args=["staff", "bootstrap"])
    password = out.output.split("password:")[1].split()[0]
    again = runner.invoke(args=["staff", "bootstrap"]).output
    assert password not in again and "password:" not in again  # printed once only
    # … but every later start says how to set a new one
    assert "flask --app wsgi staff add admin --role admin" in again


def test_cli_staff_add_for_chosen_events(app):
    from datetime import UTC, datetime

    from webapp.core.extensions import db
    from webapp.core.models import Event
    from webapp.staff.models import StaffUser

    start = datetime(2019, 6, 5, 8, tzinfo=UTC)
    db.session.add(Event(slug="trier-2019", title="Netzwerktreffen Trier 2019", starts_at=start, ends_at=start))
    db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=["staff", "add", "tina", "--role", "scanner", "--password", "tina-door-pw", "--event", SLUG]
    )
    assert out.exit_code == 0 and out.output.strip() == f"Created scanner tina (for {SLUG})"
    tina = db.session.query(StaffUser).filter_by(name="tina").one()
    events = {e.slug: e for e in db.session.query(Event)}
    assert tina.role_in(events[SLUG]) == "scanner" and tina.role_in(events["trier-2019"]) is None

    out = runner.invoke(args=["staff", "add", "tina", "--password", "tina-org-pw", "--event", "trier-2019"])
    assert out.exit_code == 0 and "Updated admin tina (for trier-2019)" in out.output
    db.session.expire_all()
    assert tina.role_in(events["trier-2019"]) == "admin" and tina.role_in(events[SLUG]) is None
    assert not tina.is_admin  # an organiser of one event is no instance admin

    out = runner.invoke(args=["staff", "add", "tina", "--event", "no-such-event"])
    assert out.exit_code != 0 and "no-such-event" in out.output and "trier-2019" in out.output
    db.session.expire_all()
    assert tina.role_in(events["trier-2019"]) == "admin"  # refused: nothing changed

    # The start page lists only the events the account acts in.
    browser = app.test_client()
    assert browser.post("/staff/login", data={"name": "tina", "password": "tina-org-pw"}).status_code == 302
    page = browser.get("/staff/").get_data(as_text=True)
    assert "Netzwerktreffen Trier 2019" in page and f"/staff/e/{SLUG}/" not in page
    assert browser.get(f"/staff/e/{SLUG}/").status_code == 403


def test_moving_into_an_occupied_room_warns(admin_browser):
    moved = session_by_title("Einfluss der Digitalisierung auf die Raumentwicklung")
    r = admin_browser.post(
        f"/staff/e/{SLUG}/sessions/{moved.id}/room", data={"room": "Seminarraum 2"}, follow_redirects=True
    )
    page = r.get_data(as_text=True)
    assert "Seminarraum 2 ist zur selben Zeit auch belegt durch: KLAR" in page
    r = admin_browser.post(f"/staff/e/{SLUG}/sessions/{moved.id}/room", data={"room": "Foyer"}, follow_redirects=True)
    assert "auch belegt" not in r.get_data(as_text=True)
