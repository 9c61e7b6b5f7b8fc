"""Badges: the badge QR carries the badge check-in code (decoded with zxing-cpp), which checks the guest in
through the scanner's API like a ticket and opens no page; badge pages are for the event's staff only (the
door included), show no token and no typed code, and a sheet has ten badges to an A4 page. The staff's
"Einchecken" on a guest's ticket page: the same check-in, for staff of that event only."""

import math
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.checkin.test_tickets import decode, inline_svg_runs, rasterise
from tests.helpers import SLUG, add_guest, make_staff, signed_in
from webapp.checkin import service, tickets
from webapp.checkin.models import BADGE_PREFIX, CheckIn, Guest, Scan
from webapp.core.extensions import db
from webapp.core.models import Event

OTHER = "trier-2019"


def guest_row(guest_id):
    db.session.expire_all()
    return db.session.get(Guest, guest_id)


def scan(web, auth, code, nonce=None, slug=SLUG):
    r = web.post(
        f"/api/v1/events/{slug}/checkins", json={"code": code, "nonce": nonce or str(uuid.uuid4())}, headers=auth
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.fixture
def other_event(app):
    start = datetime(2019, 6, 5, 7, tzinfo=UTC)
    db.session.add(Event(slug=OTHER, title="Netzwerktreffen Trier 2019", starts_at=start, ends_at=start))
    db.session.commit()
    return OTHER


def badges_of(body):
    """The badges on a page: (guest id, the article's HTML) in order."""
    return re.findall(r'<article class="[^"]*sheet-badge[^"]*" data-guest="(\d+)">(.*?)</article>', body, re.S)


# ---- the badge code checks in, and opens nothing ------------------------------------------------------


def test_badge_code_checks_the_guest_in_once_through_the_scanner_api(app, web, auth):
    guest = guest_row(add_guest(web, auth, "Badge Berta", "Mayen")["id"])
    code = BADGE_PREFIX + guest.badge_code
    assert code.startswith("TPB-") and guest.badge_code not in (guest.token, guest.code)

    first = scan(web, auth, code)
    assert first["result"] == "ok" and first["guest"]["id"] == guest.id and first["guest"]["name"] == "Badge Berta"
    again = scan(web, auth, code)
    assert again["result"] == "already" and again["checked_in_at"] == first["checked_in_at"]
    # Case and spaces do not matter (a hand-held scanner, someone typing it off a badge).
    spaced = f"  tpb-{guest.badge_code[:4].lower()} {guest.badge_code[4:]}\n"
    assert scan(web, auth, spaced)["result"] == "already"
    assert scan(web, auth, "TPB" + guest.badge_code)["result"] == "already"

    assert db.session.execute(select(CheckIn).filter_by(guest_id=guest.id)).scalars().all() != []
    rows = db.session.execute(select(Scan).filter_by(guest_id=guest.id).order_by(Scan.id)).scalars().all()
    assert [r.result for r in rows] == ["ok", "already", "already", "already"]
    assert rows[0].input == code
    stats = web.get(f"/api/v1/events/{SLUG}/stats").get_json()
    assert stats["by_city"].get("Mayen") == 1


def test_badge_code_of_another_event_or_a_made_up_one_admits_nobody(app, web, auth, other_event):
    guest = guest_row(add_guest(web, auth, "Fremde Frieda", "Trier")["id"])
    code = BADGE_PREFIX + guest.badge_code
    assert scan(web, auth, code, slug=other_event)["result"] == "wrong_event"
    for text in ("TPB-" + "2" * 10, "TPB-" + guest.badge_code[:9], "TPB-" + guest.badge_code + "X", guest.badge_code):
        assert scan(web, auth, text)["result"] == "unknown", text
    assert guest_row(guest.id).checkin is None


def test_badge_code_opens_no_ticket_page(web, auth):
    guest = guest_row(add_guest(web, auth, "Geheim Gisela")["id"])
    for text in (BADGE_PREFIX + guest.badge_code, guest.badge_code, "tpb-" + guest.badge_code.lower()):
        for suffix in ("", "/qr.png", "/qr.svg", "/print?size=badge", "/board", "/my-data"):
            r = web.get(f"/t/{text}{suffix}")
            assert r.status_code == 404, (text, suffix)
            assert "Geheim Gisela" not in r.get_data(as_text=True)
    assert service.find_guest(guest.token).id == guest.id  # the token still is the key to /t/
    assert web.get(f"/t/{guest.token}").status_code == 200


# ---- badge pages -----------------------------------------------------------------------------------


def test_single_badge_shows_name_role_organisation_and_the_badge_code_only(app, web, auth):
    made = add_guest(web, auth, "Dr. Käthe Muster", "Kaiserslautern", organisation="KL.digital GmbH", role="CDO")
    guest = guest_row(made["id"])
    make_staff("ops", password="pw-ops", quick=True)
    browser = signed_in(app, "ops", "pw-ops")
    r = browser.get(f"/staff/e/{SLUG}/guests/{guest.id}/badge")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    body = r.get_data(as_text=True)
    [(badge_guest, badge)] = badges_of(body)
    assert int(badge_guest) == guest.id and 'class="sheet sheet-badge"' in body
    for text in ("Dr. Käthe Muster", "CDO", "KL.digital GmbH", "Kaiserslautern"):
        assert text in badge, text
    assert decode(rasterise(*inline_svg_runs(badge))) == [BADGE_PREFIX + guest.badge_code]
    # Nothing on the whole page opens the guest's page or admits with the ticket's code.
    for secret in (guest.token, guest.code, tickets.format_code(guest.code), made["ticket_url"]):
        assert secret not in body, secret
    assert "print-badge" in body  # body class: the 90 × 55 mm page of static/css/ticket.css
    # The kiosk frames this page and prints it: framing by the app's own pages only.
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    sheet = browser.get(f"/staff/e/{SLUG}/badges")
    assert "frame-ancestors 'none'" in sheet.headers["Content-Security-Policy"]
    assert sheet.headers["X-Frame-Options"] == "DENY"
    assert browser.get(f"/staff/e/{SLUG}/guests/999999/badge").status_code == 404


@pytest.mark.parametrize("n", [0, 1, 10, 17, 21])
def test_sheet_has_ten_badges_to_a_page_and_every_registered_guest(app, web, auth, n):
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    before = db.session.execute(select(Guest).filter_by(event_id=event.id, status="registered")).scalars().all()
    for i in range(n):
        add_guest(web, auth, f"Gast {i:02d}", "Trier")
    cancelled = add_guest(web, auth, "Storniert Stefan", "Trier")
    web.patch(f"/api/v1/events/{SLUG}/guests/{cancelled['id']}", json={"status": "cancelled"}, headers=auth)
    total = len(before) + n
    make_staff("ops", password="pw-ops", quick=True)
    body = signed_in(app, "ops", "pw-ops").get(f"/staff/e/{SLUG}/badges").get_data(as_text=True)
    assert body.count('<section class="badge-sheet"') == math.ceil(total / 10)
    badges = badges_of(body)
    assert len(badges) == total and "Storniert Stefan" not in body
    per_page = [len(re.findall(r'class="badge-cell', page)) for page in body.split('<section class="badge-sheet"')[1:]]
    assert per_page == [10] * (total // 10) + ([total % 10] if total % 10 else [])
    # Cut marks: on every sheet, in the margins, three vertical and six horizontal cut lines, both ends.
    assert body.count("<line ") == math.ceil(total / 10) * 2 * (3 + 6)
    assert "@page" not in body  # the page size is in the stylesheet (no inline styles under the CSP)
    for guest_id, _ in badges:
        g = db.session.get(Guest, int(guest_id))
        assert g.token not in body and tickets.format_code(g.code) not in body


def test_sheet_of_chosen_guests_and_its_size_in_the_stylesheet(app, web, auth, other_event):
    ids = [add_guest(web, auth, name, "Koblenz")["id"] for name in ("Anna A", "Bernd B", "Clara C")]
    stranger = make_other_guest(other_event)
    make_staff("ops", password="pw-ops", quick=True)
    browser = signed_in(app, "ops", "pw-ops")
    body = browser.get(f"/staff/e/{SLUG}/badges?guest={ids[2]}&guest={ids[0]}").get_data(as_text=True)
    assert [int(g) for g, _ in badges_of(body)] == [ids[0], ids[2]]  # sorted by municipality, then name
    assert body.count('<section class="badge-sheet"') == 1
    assert browser.get(f"/staff/e/{SLUG}/badges?guest={stranger}").status_code == 404
    assert browser.get(f"/staff/e/{SLUG}/badges?guest=x").status_code == 400
    css = browser.get("/static/css/ticket.css").get_data(as_text=True)
    assert re.search(r"@page badges \{ size: A4 portrait; margin: 0; \}", css)
    assert "grid-template-columns: repeat(2, 90mm)" in css and "grid-template-rows: repeat(5, 55mm)" in css
    assert re.search(r"@page badge \{ size: 90mm 55mm; margin: 0; \}", css)


def make_other_guest(slug):
    event = db.session.execute(select(Event).filter_by(slug=slug)).scalar_one()
    guest = Guest(event_id=event.id, name="Anderswo Anton", city="Trier")
    db.session.add(guest)
    db.session.commit()
    return guest.id


def test_badge_pages_are_for_the_events_staff_door_included(app, web, auth, other_event):
    guest_id = add_guest(web, auth, "Zugriff Zora", "Trier")["id"]
    urls = (f"/staff/e/{SLUG}/badges", f"/staff/e/{SLUG}/guests/{guest_id}/badge")
    for url in urls:
        r = web.get(url)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), url
    make_staff("door-here", role="scanner", password="pw-door", quick=True, events=[SLUG])
    make_staff("org-here", password="pw-org", quick=True, events=[SLUG])
    make_staff("door-there", role="scanner", password="pw-door2", quick=True, events=[other_event])
    make_staff("org-there", password="pw-org2", quick=True, events=[other_event])
    for name, password, status in (
        ("door-here", "pw-door", 200),
        ("org-here", "pw-org", 200),
        ("door-there", "pw-door2", 403),
        ("org-there", "pw-org2", 403),
    ):
        browser = signed_in(app, name, password)
        for url in urls:
            r = browser.get(url)
            assert r.status_code == status, (name, url)
            assert ("Zugriff Zora" in r.get_data(as_text=True)) == (status == 200), (name, url)
    # The other event's own badge of this guest does not exist: the guest is of this event.
    browser = signed_in(app, "org-there", "pw-org2")
    assert browser.get(f"/staff/e/{other_event}/guests/{guest_id}/badge").status_code == 404


def test_the_scanner_page_links_to_the_badge_and_offers_a_photo(app):
    make_staff("door-here", role="scanner", password="pw-door", quick=True, events=[SLUG])
    body = signed_in(app, "door-here", "pw-door").get(f"/staff/e/{SLUG}/scan").get_data(as_text=True)
    assert f'data-href="/staff/e/{SLUG}/guests/0/badge"' in body
    assert re.search(r'<input id="photo"[^>]*type="file" accept="image/\*" capture="environment"', body)
    assert "js/scan-photo.js" in body  # preloaded with the scanner


# ---- "Einchecken" on the ticket page ---------------------------------------------------------------


def door_form(body):
    match = re.search(r'<form method="post" action="([^"]+)" data-door-checkin>(.*?)</form>', body, re.S)
    return (match.group(1), dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', match.group(2)))) if match else None


def test_staff_of_the_event_check_the_guest_in_from_the_ticket_page(app, web, auth):
    made = add_guest(web, auth, "Ticket Theo", "Pirmasens")
    make_staff("door-here", role="scanner", password="pw-door", quick=True, events=[SLUG])
    phone = signed_in(app, "door-here", "pw-door")
    body = phone.get(f"/t/{made['token']}").get_data(as_text=True)
    action, fields = door_form(body)
    assert action == f"/t/{made['token']}/checkin" and fields.get("nonce")
    assert "Einchecken" in body

    r = phone.post(action, data=fields)
    assert r.status_code == 302 and r.location.endswith(f"/t/{made['token']}")
    guest = guest_row(made["id"])
    assert guest.checkin is not None and guest.checkin.device == "door-here"
    [row] = db.session.execute(select(Scan).filter_by(guest_id=guest.id)).scalars().all()
    assert (row.result, row.nonce, row.staff_id is not None) == ("ok", fields["nonce"], True)
    body = phone.get(f"/t/{made['token']}").get_data(as_text=True)
    time_text = tickets.checked_in_time(guest)
    assert f"Eingecheckt um {time_text} Uhr" in body and 'data-result="ok"' in body and door_form(body) is None

    # The same form again (a second tap, a resent POST): the first answer, no second row.
    phone.post(action, data=fields)
    assert db.session.execute(select(Scan).filter_by(guest_id=guest.id)).scalars().all() == [row]
    assert 'data-result="ok"' in phone.get(f"/t/{made['token']}").get_data(as_text=True)
    # Opened again later: "already", with the time, and no button.
    body = phone.get(f"/t/{made['token']}").get_data(as_text=True)
    assert f"Bereits eingecheckt um {time_text} Uhr" in body and door_form(body) is None
    assert f"/staff/e/{SLUG}/guests/{guest.id}/badge" in body


def test_nobody_else_sees_or_uses_the_ticket_pages_check_in(app, web, auth, other_event):
    made = add_guest(web, auth, "Ticket Tina", "Mayen")
    make_staff("door-there", role="scanner", password="pw-door2", quick=True, events=[other_event])
    make_staff("org-there", password="pw-org2", quick=True, events=[other_event])
    url = f"/t/{made['token']}"
    visitors = [web, signed_in(app, "door-there", "pw-door2"), signed_in(app, "org-there", "pw-org2")]
    for visitor in visitors:
        body = visitor.get(url).get_data(as_text=True)
        assert "Ticket Tina" in body and door_form(body) is None and "data-door-checkin" not in body
        assert f"/staff/e/{SLUG}/guests/" not in body
        r = visitor.post(f"{url}/checkin", data={"nonce": str(uuid.uuid4())})
        assert r.status_code == 403
    assert guest_row(made["id"]).checkin is None
    assert db.session.execute(select(Scan).filter_by(guest_id=made["id"])).scalars().all() == []
    assert web.post(f"/t/{'A' * 43}/checkin", data={"nonce": "x"}).status_code == 404


def test_ticket_page_check_in_says_why_a_cancelled_guest_stays_out(app, web, auth):
    made = add_guest(web, auth, "Storno Sven", "Trier")
    web.patch(f"/api/v1/events/{SLUG}/guests/{made['id']}", json={"status": "cancelled"}, headers=auth)
    make_staff("org-here", password="pw-org", quick=True, events=[SLUG])
    phone = signed_in(app, "org-here", "pw-org")
    body = phone.get(f"/t/{made['token']}").get_data(as_text=True)
    assert door_form(body) is None and 'data-result="cancelled"' in body
    r = phone.post(f"/t/{made['token']}/checkin", data={"nonce": str(uuid.uuid4())})
    assert r.status_code == 302 and guest_row(made["id"]).checkin is None
    [row] = db.session.execute(select(Scan).filter_by(guest_id=made["id"])).scalars().all()
    assert row.result == "cancelled"
