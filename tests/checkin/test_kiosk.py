"""The self check-in kiosk: staff create one with a PIN (stored hashed) on the devices page, pairing lands on the
locked kiosk page, a ticket code or an exact name-and-municipality pair checks the guest in through the door's
check-in function (audit row, exactly once), wrong combinations reveal no names, typed attempts and PINs are
rate-limited, the right PIN ends the kiosk's login, and the kiosk's account reaches nothing else."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from tests.helpers import SLUG, add_guest, in_own_context, make_staff, signed_in
from webapp.checkin import kiosk as kiosk_module
from webapp.checkin.models import CheckIn, Device, Guest, Scan
from webapp.core.extensions import db
from webapp.core.models import Event

KIOSK = f"/staff/e/{SLUG}/kiosk"
PIN = "2468"
OTHER = "trier-2019"


@pytest.fixture
def admin(app):
    make_staff("ops", password="pw-1", quick=True)
    return signed_in(app, "ops", "pw-1")


@pytest.fixture
def clock(monkeypatch):
    """The kiosk's rate limits' clock, moved on by the test: clock.now += 31."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(kiosk_module, "monotonic", lambda: Clock.now)
    return Clock


@pytest.fixture
def other_event(app):
    start = datetime(2019, 6, 5, 7, tzinfo=UTC)
    db.session.add(Event(slug=OTHER, title="Netzwerktreffen Trier 2019", starts_at=start, ends_at=start))
    db.session.commit()
    return OTHER


def create_kiosk(admin, name="Terminal Foyer", pin=PIN, badges=False, status=200):
    data = {"kind": "kiosk", "name": name, "pin": pin}
    if badges:
        data["prints_badges"] = "1"
    r = admin.post(f"/staff/e/{SLUG}/devices", data=data)
    assert r.status_code == status, r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    found = re.search(r'id="pair-url" href="https?://[^/]+([^"]+)"', page)
    return found.group(1) if found else page


def pair(app, pairing_path):
    tablet = in_own_context(app, app.test_client())
    r = tablet.post(pairing_path)
    assert r.status_code == 302 and r.location == KIOSK, r.location
    return tablet


def csrf_of(tablet, path=KIOSK):
    page = tablet.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def post(tablet, path, body, csrf):
    return tablet.post(path, json=body, headers={"X-CSRFToken": csrf})


def check_in(tablet, csrf, nonce=None, **body):
    r = post(tablet, f"{KIOSK}/checkin", {"nonce": nonce or str(uuid.uuid4()), **body}, csrf)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.fixture
def tablet(app, admin):
    """A paired kiosk and its CSRF token."""
    t = pair(app, create_kiosk(admin))
    return t, csrf_of(t)


def guest_row(guest_id):
    db.session.expire_all()
    return db.session.get(Guest, guest_id)


def kiosk_scans():
    db.session.expire_all()
    device = db.session.execute(select(Device).filter_by(kind="kiosk")).scalars().first()
    return db.session.execute(select(Scan).filter_by(staff_id=device.staff_id).order_by(Scan.id)).scalars().all()


# ---- creating and pairing ---------------------------------------------------------------------------------


def test_staff_create_a_kiosk_with_a_hashed_pin_and_pairing_opens_the_locked_kiosk_page(app, admin):
    path = create_kiosk(admin, badges=True)
    device = db.session.execute(select(Device).filter_by(name="Terminal Foyer")).scalar_one()
    assert device.kind == "kiosk" and device.prints_badges is True and device.staff.role == "scanner"
    assert device.pin_hash != PIN and PIN not in device.pin_hash and check_password_hash(device.pin_hash, PIN)
    listing = admin.get(f"/staff/e/{SLUG}/devices").get_data(as_text=True)
    row = re.search(r'<tr data-device="Terminal Foyer".*?</tr>', listing, re.S).group(0)
    assert 'data-kind="kiosk"' in row and "Check-in-Terminal" in row and "druckt Badges" in row

    tablet = in_own_context(app, app.test_client())
    confirm = tablet.get(path).get_data(as_text=True)
    assert "Koppeln und Check-in-Terminal öffnen" in confirm
    r = tablet.post(path)
    assert r.status_code == 302 and r.location == KIOSK
    page = tablet.get(KIOSK)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    # Locked: no staff menu, no logout form, no link but the skip link to its own content.
    assert "staffnav" not in body and "/staff/logout" not in body
    assert re.findall(r"<a\s[^>]*href=\"([^\"]*)\"", body) == ["#main"]
    assert 'id="leave"' in body and 'id="pin"' in body and "Testansicht" not in body


def test_a_scanner_device_keeps_its_scanner_and_shows_its_kind(app, admin):
    r = admin.post(f"/staff/e/{SLUG}/devices", data={"name": "Einlass 1"})
    path = re.search(r'id="pair-url" href="https?://[^/]+([^"]+)"', r.get_data(as_text=True)).group(1)
    device = db.session.execute(select(Device).filter_by(name="Einlass 1")).scalar_one()
    assert device.kind == "scanner" and device.pin_hash is None and device.prints_badges is False
    phone = in_own_context(app, app.test_client())
    assert phone.post(path).location == f"/staff/e/{SLUG}/scan"
    assert phone.get(KIOSK).status_code == 403  # a door phone is no kiosk
    listing = admin.get(f"/staff/e/{SLUG}/devices").get_data(as_text=True)
    assert 'data-kind="scanner"' in listing


@pytest.mark.parametrize("pin", [None, "", "123", "123456789", "12a4", "١٢٣٤", "12 34 56 78 9"])
def test_a_kiosk_needs_a_pin_of_4_to_8_digits(admin, pin):
    page = create_kiosk(admin, pin=pin, status=400)
    assert "4 bis 8 Ziffern" in page
    assert db.session.execute(select(Device)).scalars().all() == []


def test_the_kiosk_account_reaches_nothing_but_its_kiosk(app, tablet, auth):
    t, csrf = tablet
    guest = add_guest(app.test_client(), auth, "Gesine Geheim", "Mayen")
    # Pages lead back to the kiosk: the scanner with its name search, the start page, the guest list.
    for path in (f"/staff/e/{SLUG}/scan", "/staff/", f"/staff/e/{SLUG}/guests", f"/staff/e/{SLUG}/checkin"):
        r = t.get(path)
        assert r.status_code == 302 and r.location == KIOSK, path
    # The guest search and the offline list of the scanner's API are refused.
    r = t.get(f"/api/v1/events/{SLUG}/guests?q=Ges")
    assert r.status_code == 403 and "Gesine" not in r.get_data(as_text=True)
    assert t.get(f"/api/v1/events/{SLUG}/checkin-list").status_code == 403
    r = t.post(
        f"/api/v1/events/{SLUG}/checkins", json={"code": guest["code"], "nonce": "x"}, headers={"X-CSRFToken": csrf}
    )
    assert r.status_code == 403
    assert guest_row(guest["id"]).checkin is None


# ---- checking in ------------------------------------------------------------------------------------------


def test_code_check_in_ok_then_already_and_unknown(app, tablet, auth):
    t, csrf = tablet
    guest = add_guest(app.test_client(), auth, "Erika Mustermann", "Trier", organisation="Stadt Trier")
    nonce = str(uuid.uuid4())
    spaced = f" {guest['code'][:4].lower()} {guest['code'][4:]} "
    first = check_in(t, csrf, nonce=nonce, code=spaced)
    assert first["result"] == "ok" and first["wait"] == 0 and first["badge"] is None
    assert first["guest"] == {"name": "Erika Mustermann", "city": "Trier", "organisation": "Stadt Trier"}
    checkin = guest_row(guest["id"]).checkin
    assert checkin is not None and checkin.device == "Terminal Foyer"
    # A retry of the same attempt (same nonce) gets the same answer and no second row.
    assert check_in(t, csrf, nonce=nonce, code=guest["code"])["result"] == "ok"
    again = check_in(t, csrf, code=guest["code"])
    assert again["result"] == "already" and again["guest"]["name"] == "Erika Mustermann"
    assert again["checked_in_at"] == checkin.at.isoformat()
    unknown = check_in(t, csrf, code="ZZZZ2222")
    assert unknown == {"result": "unknown", "guest": None, "checked_in_at": None, "badge": None, "wait": 0}
    rows = kiosk_scans()
    assert [(r.result, r.device) for r in rows] == [
        ("ok", "Terminal Foyer"),
        ("already", "Terminal Foyer"),
        ("unknown", "Terminal Foyer"),
    ]
    assert rows[0].guest_id == guest["id"] and rows[0].nonce == nonce
    assert len(db.session.execute(select(CheckIn).filter_by(guest_id=guest["id"])).scalars().all()) == 1


def test_cancelled_waiting_and_other_events_tickets_are_refused_without_names(app, tablet, auth, other_event):
    t, csrf = tablet
    client = app.test_client()
    cancelled = add_guest(client, auth, "Carl Storniert", "Koblenz")
    waiting = add_guest(client, auth, "Wanda Warteliste", "Koblenz")
    for guest, status in ((cancelled, "cancelled"), (waiting, "waiting")):
        row = guest_row(guest["id"])
        row.status = status
        db.session.commit()
    answers = {
        status: check_in(t, csrf, code=g["code"]) for g, status in ((cancelled, "cancelled"), (waiting, "waiting"))
    }
    assert {k: (a["result"], a["guest"]) for k, a in answers.items()} == {
        "cancelled": ("cancelled", None),
        "waiting": ("waiting", None),
    }
    r = client.post(f"/api/v1/events/{OTHER}/guests", json={"name": "Otto Anderswo", "city": "Trier"}, headers=auth)
    foreign = check_in(t, csrf, code=r.get_json()["code"])
    assert foreign["result"] == "wrong_event" and foreign["guest"] is None
    assert guest_row(cancelled["id"]).checkin is None and guest_row(waiting["id"]).checkin is None


def test_name_and_municipality_check_in_only_as_an_exact_pair_and_never_list_names(app, tablet, auth):
    t, csrf = tablet
    client = app.test_client()
    guest = add_guest(client, auth, "Dr. Käthe Müller", "Neustadt an der Weinstraße")
    add_guest(client, auth, "Hans Huber", "", organisation="KL.digital GmbH")
    page = t.get(KIOSK).get_data(as_text=True)
    places = t.get(f"{KIOSK}/places.json").get_json()["places"]
    assert "Neustadt an der Weinstraße" in places and "KL.digital GmbH" in places
    for name in ("Käthe", "Müller", "Hans Huber"):
        assert name not in page and name not in str(places)

    # The right name with another town, a wrong name with the right town: nobody, and no name in the answer.
    for body in (
        {"name": "Käthe Müller", "place": "Trier"},
        {"name": "Käthe Meier", "place": "Neustadt an der Weinstraße"},
        {"name": "Käthe", "place": "Neustadt an der Weinstraße"},
    ):
        r = post(t, f"{KIOSK}/checkin", {"nonce": str(uuid.uuid4()), **body}, csrf)
        assert r.get_json()["result"] == "unknown" and r.get_json()["guest"] is None
        assert "Müller" not in r.get_data(as_text=True)
    assert guest_row(guest["id"]).checkin is None

    # The exact pair, however it is spelled (case, umlauts as ae/ue, title left out), checks in.
    ok = check_in(t, csrf, name="  dr. kaethe   MUELLER ", place="Neustadt an der Weinstraße")
    assert ok["result"] == "ok" and ok["guest"]["name"] == "Dr. Käthe Müller"
    assert ok["guest"]["city"] == "Neustadt an der Weinstraße"
    assert guest_row(guest["id"]).checkin.device == "Terminal Foyer"
    assert check_in(t, csrf, name="Käthe Müller", place="Neustadt an der Weinstraße")["result"] == "already"
    assert check_in(t, csrf, name="Hans Huber", place="KL.digital GmbH")["result"] == "ok"
    rows = kiosk_scans()
    assert [r.result for r in rows] == ["unknown"] * 3 + ["ok", "already", "ok"]
    assert {r.input for r in rows[:3]} == {kiosk_module.NAME_MISS}
    assert rows[3].input.startswith("guest:") and guest["code"] not in rows[3].input


def test_two_guests_of_the_same_name_and_town_are_sent_to_the_team(app, tablet, auth):
    t, csrf = tablet
    client = app.test_client()
    twins = [add_guest(client, auth, "Anna Schmidt", "Mayen") for _ in range(2)]
    answer = check_in(t, csrf, name="Anna Schmidt", place="Mayen")
    assert answer["result"] == "ambiguous" and answer["guest"] is None
    assert all(guest_row(g["id"]).checkin is None for g in twins)


def test_typed_attempts_pause_after_five_misses_but_the_camera_goes_on(app, tablet, auth, clock):
    t, csrf = tablet
    client = app.test_client()
    typed = add_guest(client, auth, "Tina Tipp", "Trier")
    shown = add_guest(client, auth, "Quentin QR", "Trier")
    waits = [check_in(t, csrf, code=f"ZZZZ222{c}")["wait"] for c in "23456"]
    assert waits == [0, 0, 0, 0, kiosk_module.CHECKIN_PAUSE]
    # Paused: even the right code (or name) is not tried, nothing is written.
    before = len(kiosk_scans())
    paused = check_in(t, csrf, code=typed["code"])
    assert paused["result"] == "wait" and 0 < paused["wait"] <= 30 and paused["guest"] is None
    assert check_in(t, csrf, name="Tina Tipp", place="Trier")["result"] == "wait"
    assert len(kiosk_scans()) == before and guest_row(typed["id"]).checkin is None
    # The ticket link from the camera (256 random bits, nothing to guess) still checks in.
    assert check_in(t, csrf, code=shown["ticket_url"])["result"] == "ok"

    clock.now += 31
    assert check_in(t, csrf, code=typed["code"])["result"] == "ok"  # a success starts the count afresh
    assert [check_in(t, csrf, code=f"ZZZZ333{c}")["wait"] for c in "2345"] == [0, 0, 0, 0]


def test_name_misses_count_too(app, tablet, auth, clock):
    t, csrf = tablet
    guest = add_guest(app.test_client(), auth, "Nora Name", "Mayen")
    waits = [check_in(t, csrf, name=f"Niemand {i}", place="Mayen")["wait"] for i in range(5)]
    assert waits[-1] == 30 and check_in(t, csrf, name="Nora Name", place="Mayen")["result"] == "wait"
    clock.now += 31
    assert check_in(t, csrf, name="Nora Name", place="Mayen")["result"] == "ok"
    assert guest_row(guest["id"]).checkin is not None


def test_bad_requests_are_refused(tablet):
    t, csrf = tablet
    for body in (
        {"code": "ABCD2345"},
        {"nonce": "n1"},
        {"nonce": "n2", "name": "Nur Name"},
        {"nonce": "n3", "code": 7},
    ):
        assert post(t, f"{KIOSK}/checkin", body, csrf).status_code == 400, body
    # Without the CSRF token nothing is tried.
    assert t.post(f"{KIOSK}/checkin", json={"nonce": "n4", "code": "ABCD2345"}).status_code in (400, 403)
    assert kiosk_scans() == []


# ---- leaving with the PIN ---------------------------------------------------------------------------------


def test_the_right_pin_ends_the_kiosk_a_wrong_one_is_refused_and_limited(app, tablet, clock):
    t, csrf = tablet
    for wrong in ("1357", "24680", "", "abcd"):
        r = post(t, f"{KIOSK}/leave", {"pin": wrong}, csrf)
        assert r.status_code == 200 and r.get_json()["result"] == "wrong_pin", wrong
    assert t.get(KIOSK).status_code == 200  # still the kiosk
    assert post(t, f"{KIOSK}/leave", {"pin": "9999"}, csrf).get_json() == {"result": "wrong_pin", "wait": 30}
    # Paused: now even the right PIN waits.
    assert post(t, f"{KIOSK}/leave", {"pin": PIN}, csrf).get_json()["result"] == "wait"
    clock.now += 31
    assert post(t, f"{KIOSK}/leave", {"pin": "0000"}, csrf).get_json() == {"result": "wrong_pin", "wait": 60}
    clock.now += 61
    # Without the CSRF token the right PIN does nothing.
    assert t.post(f"{KIOSK}/leave", json={"pin": PIN}).status_code in (400, 403)
    assert t.get(KIOSK).status_code == 200
    left = post(t, f"{KIOSK}/leave", {"pin": PIN}, csrf).get_json()
    assert left == {"result": "left", "next": f"/staff/login?next=/staff/e/{SLUG}/devices"}
    r = t.get(KIOSK)
    assert r.status_code == 302 and r.location.startswith("/staff/login")
    device = db.session.execute(select(Device).filter_by(kind="kiosk")).scalar_one()
    assert device.revoked_at is None  # left, not revoked: pairing again brings it back


def test_revoking_the_kiosk_signs_the_tablet_out(app, admin, tablet):
    t, csrf = tablet
    device = db.session.execute(select(Device).filter_by(kind="kiosk")).scalar_one()
    assert admin.post(f"/staff/e/{SLUG}/devices/{device.id}/revoke").status_code == 302
    for r in (post(t, f"{KIOSK}/checkin", {"nonce": "n", "code": "ABCD2345"}, csrf), t.get(KIOSK)):
        assert r.status_code == 302 and r.location.startswith("/staff/login")
    assert kiosk_scans() == []


# ---- who may open it --------------------------------------------------------------------------------------


def test_staff_of_the_event_may_try_it_anyone_else_is_refused(app, admin, auth, other_event):
    create_kiosk(admin)
    device = db.session.execute(select(Device).filter_by(kind="kiosk")).scalar_one()
    trial = admin.get(f"{KIOSK}?device={device.id}").get_data(as_text=True)
    assert "Testansicht von „Terminal Foyer“" in trial and 'id="pin"' in trial
    assert admin.get(f"{KIOSK}?device=99999").status_code == 404
    assert admin.get(f"{KIOSK}?device=x").status_code == 404
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', trial).group(1)
    guest = add_guest(app.test_client(), auth, "Paula Probe", "Trier")
    assert check_in(admin, csrf, code=guest["code"], device=device.id)["result"] == "ok"
    assert guest_row(guest["id"]).checkin.device == "ops"  # the person trying it, in the audit log
    assert post(admin, f"{KIOSK}/leave", {"pin": "0000", "device": device.id}, csrf).get_json()["result"] == "wrong_pin"
    back = post(admin, f"{KIOSK}/leave", {"pin": PIN, "device": device.id}, csrf).get_json()
    assert back == {"result": "left", "next": f"/staff/e/{SLUG}/devices"}
    assert admin.get(f"/staff/e/{SLUG}/devices").status_code == 200  # still signed in

    assert in_own_context(app, app.test_client()).get(KIOSK).location.startswith("/staff/login")
    make_staff("trier-team", password="pw-2", quick=True, events=(OTHER,))
    other_staff = signed_in(app, "trier-team", "pw-2")
    assert other_staff.get(KIOSK).status_code == 403
    # A kiosk of another event.
    make_staff("trier-orga", password="pw-3", quick=True, events=(OTHER,))
    orga = signed_in(app, "trier-orga", "pw-3")
    r = orga.post(f"/staff/e/{OTHER}/devices", data={"kind": "kiosk", "name": "Terminal Trier", "pin": "1111"})
    path = re.search(r'id="pair-url" href="https?://[^/]+([^"]+)"', r.get_data(as_text=True)).group(1)
    foreign = in_own_context(app, app.test_client())
    assert foreign.post(path).location == f"/staff/e/{OTHER}/kiosk"
    assert foreign.get(KIOSK).status_code == 403


# ---- badges -----------------------------------------------------------------------------------------------


def test_a_badge_printing_kiosk_may_open_the_badge_of_the_guest_it_just_checked_in(app, admin, auth):
    if kiosk_module.BADGE_ENDPOINT not in app.view_functions:
        pytest.skip("the badge pages (webapp/checkin/badges.py) are not in this version")
    t = pair(app, create_kiosk(admin, badges=True))
    csrf = csrf_of(t)
    client = app.test_client()
    guest = add_guest(client, auth, "Bernd Badge", "Mayen")
    stranger = add_guest(client, auth, "Silke Sonstwer", "Mayen")
    answer = check_in(t, csrf, code=guest["code"])
    assert answer["badge"] == f"/staff/e/{SLUG}/guests/{guest['id']}/badge"
    page = t.get(answer["badge"])
    assert page.status_code == 200 and "Bernd Badge" in page.get_data(as_text=True)
    # Another guest's badge would list names: the kiosk goes back to its page instead.
    r = t.get(f"/staff/e/{SLUG}/guests/{stranger['id']}/badge")
    assert r.status_code == 302 and r.location == KIOSK
    # Checked in already: no second badge.
    assert check_in(t, csrf, code=guest["code"])["badge"] is None


def test_a_kiosk_without_badges_prints_none(app, tablet, auth):
    t, csrf = tablet
    guest = add_guest(app.test_client(), auth, "Olga Ohne", "Mayen")
    assert check_in(t, csrf, code=guest["code"])["badge"] is None
