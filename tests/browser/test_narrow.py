"""Every HTML page at 360×740, as on a small phone (issue 13): public, guest, staff, print and screen pages
with long real-world content (a long double name, the Funktion "Digitalisierungsbeauftragte", a long
organisation, a 120-character title, 40 sessions in three long-named rooms) and the CSV import preview with
its faulty rows: no page scrolls sideways. A test that cannot forget a page: every GET route of the app that
answers HTML is either visited here or named in NOT_HTML with its reason.

Own server process; the long programme is test_screens.py's event. Screenshots of failures:
test-artifacts/narrow-*.png."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_checkin import log_in
from tests.browser.test_screens import AT, LONG_SLUG, LONG_TITLE, make_long_event, ok
from tests.helpers import SLUG
from tests.server import ServerProcess

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
LONG_GUEST = {
    "salutation": "Frau",
    "title": "Dr.",
    "given_name": "Maximiliane-Henriette",
    "family_name": "Leutheusser-Schnarrenberger",
    "city": "Bernkastel-Kues",
    "organisation": "Verbandsgemeindeverwaltung Bernkastel-Kues, Fachbereich Digitalisierung und Bürgerdienste",
    "role": "Digitalisierungsbeauftragte",
    "email": "maximiliane.leutheusser-schnarrenberger@bernkastel-kues.de",
    "delegate": True,
}
# The guest list from a mayor's office: long names and places, and rows the import will refuse.
CSV = (
    "Anrede;Titel;Vorname;Nachname;Kommune;Organisation;Funktion;E-Mail\r\n"
    "Frau;Dr.;Maximiliane-Henriette;Leutheusser-Schnarrenberger-Wolfsburg;Verbandsgemeinde Bernkastel-Kues;"
    "Verbandsgemeindeverwaltung Bernkastel-Kues;Digitalisierungsbeauftragte;"
    "maximiliane.leutheusser-schnarrenberger@bernkastel-kues.de\r\n"
    "Herr;;Karl-Theodor;Freiherr von und zu Guttenberg-Lichtenfels;Ludwigshafen am Rhein;Stadtverwaltung;"
    "Oberbürgermeisterreferent;kein-at-zeichen-aber-sehr-sehr-lang-und-ohne-leerzeichen.example.org\r\n"
    ";;;;Kaiserslautern;;;\r\n"
).encode("utf-8")

# GET routes that answer something other than an HTML page (files, feeds, JSON, images) or nothing to read.
NOT_HTML = {
    "web.healthz": "health check (JSON)",
    "web.service_worker": "script",
    "agenda_pages.manifest": "web app manifest",
    "agenda_pages.ical": "calendar file",
    "agenda_pages.c3voc_json": "schedule export (JSON)",
    "agenda_pages.frab_xml": "schedule export (XML)",
    "checkin_calendar.feed": "calendar feed",
    "checkin_calendar.get_favourites": "JSON",
    "checkin_pages.qr_png": "image",
    "checkin_pages.qr_svg": "image",
    "checkin_guests.attendance": "CSV",
    "checkin_guests.ticket_links": "CSV",
    "checkin_scan.recent": "JSON",
    "checkin_kiosk.places_json": "JSON",
    "privacy_pages.my_data_json": "JSON",
    "report.report_csv": "CSV",
    "report.report_pdf": "PDF",
    "report.all_certificates": "PDF",
    "report.one_certificate": "PDF",
}

# What overflows: the document's scroll width, and the widest elements that stick out of the viewport
# without a scrolling box of their own around them (a table in an overflow:auto wrapper is fine).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => /auto|scroll|hidden|clip/.test(getComputedStyle(el).overflowX);
  const free = [], boxed = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (!r.width || r.right <= width + 0.5) continue;
    let p = el.parentElement, inside = false;
    while (p && p !== document.body) { if (scrolls(p)) { inside = true; break; } p = p.parentElement; }
    (inside ? boxed : free).push(`${el.tagName.toLowerCase()}.${el.getAttribute("class") || ""} `
      + `right=${Math.round(r.right)} "${(el.textContent || "").trim().slice(0, 50)}"`);
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, free: free.slice(-8), boxed: boxed.slice(-4) };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("narrow")).prepare().start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def content(server):
    """The long programme, a long-named delegate with a ticket, and a long title in the demo event."""
    rooms = make_long_event(server)
    guest = ok(server.api("POST", f"/api/v1/events/{SLUG}/guests", json=LONG_GUEST))
    # The board's pages need a delegate of a town on the board (Bernkastel-Kues is not).
    delegate = ok(server.api("POST", f"/api/v1/events/{SLUG}/guests", json={**LONG_GUEST, "city": "Zweibrücken"}))
    agenda = ok(server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False))
    first = agenda["sessions"][0]
    ok(server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{first['id']}", json={"title": LONG_TITLE}))
    long_sessions = ok(server.api("GET", f"/api/v1/events/{LONG_SLUG}/agenda", token=False))["sessions"]
    return {
        "rooms": rooms,
        "token": guest["token"],
        "delegate": delegate["token"],
        "guest_id": guest["id"],
        "session_id": first["id"],
        "long_session_id": long_sessions[6]["id"],
        "room": next(iter(rooms.values())),
    }


def pages(content):
    """{endpoint: [paths]}: every HTML page, in the demo event and in the long programme where it differs.
    No ?lang=: the test chooses the language once (a ?lang= stays in a cookie for the pages after it)."""
    t, g, e, le = content["token"], content["guest_id"], f"/staff/e/{SLUG}", f"/staff/e/{LONG_SLUG}"
    return {
        "web.index": ["/"],
        "agenda_pages.agenda": [f"/e/{SLUG}/", f"/e/{LONG_SLUG}/?at={AT}"],
        "agenda_pages.screen": [f"/e/{SLUG}/screen", f"/e/{LONG_SLUG}/screen?at={AT}"],
        "agenda_pages.door_screen": [f"/e/{LONG_SLUG}/screen/{content['room']}?at={AT}"],
        "matchmaking_pages.public_board": [f"/e/{SLUG}/board"],
        "matchmaking_pages.board_screen": [f"/e/{SLUG}/board/screen"],
        "checkin_pages.register": [f"/e/{SLUG}/register"],
        "checkin_pages.ticket": [f"/t/{t}"],
        "checkin_pages.ticket_print": [f"/t/{t}/print"],
        "matchmaking_pages.delegate_board": [f"/t/{content['delegate']}/board"],
        "matchmaking_pages.delegate_plan": [f"/t/{content['delegate']}/plan"],
        "privacy_pages.my_data": [f"/t/{t}/my-data"],
        "staff.login": ["/staff/login"],
        "staff.index": ["/staff/"],
        "staff.account": ["/staff/account"],
        "staff.team_page": ["/staff/team"],
        "series_pages.new_event": ["/staff/events/new"],
        "series_pages.edit_event": [f"{e}/event"],
        "series_pages.municipalities": [f"{e}/municipalities"],
        "agenda_editor.editor": [f"{e}/", f"{le}/"],
        "agenda_editor.announcements": [f"{e}/announcements"],
        "agenda_editor.changes": [f"{e}/changes", f"{le}/changes"],
        "agenda_editor.session_form": [
            f"{e}/sessions/new",
            f"{e}/sessions/{content['session_id']}/edit",
            f"{le}/sessions/{content['long_session_id']}/edit",
        ],
        "agenda_editor.setup": [f"{e}/setup", f"{le}/setup"],
        "agenda_import.import_page": [f"{e}/import"],
        "checkin_guests.guests": [f"{e}/guests"],
        "checkin_guests.new_guest": [f"{e}/guests/new"],
        "checkin_guests.edit_guest": [f"{e}/guests/{g}/edit"],
        "checkin_guests.cancel_guest": [f"{e}/guests/{g}/cancel"],
        "checkin_guests.import_guests": [f"{e}/guests/import"],
        "checkin_guests.delegations": [f"{e}/delegations"],
        "checkin_guests.print_tickets": [f"{e}/tickets/print"],
        "checkin_badges.sheets": [f"{e}/badges"],
        "checkin_badges.badge": [f"{e}/guests/{g}/badge"],
        "checkin_scan.dashboard": [f"{e}/checkin"],
        "checkin_scan.conflicts": [f"{e}/conflicts"],
        "checkin_scan.devices": [f"{e}/devices"],
        "checkin_scan.scan": [f"{e}/scan"],
        "checkin_scan.pair": [],  # visited with a real pairing code in the test
        "checkin_kiosk.kiosk": [f"{e}/kiosk"],
        "checkin_mail.mail_page": [f"{e}/mail"],
        "report.report": [f"{e}/report"],
    }


def test_every_html_route_is_visited_or_named():
    from webapp import create_app
    from webapp.core.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/api/")}
    routes.discard("static")
    visited = set(
        pages({"token": "t", "delegate": "d", "guest_id": 1, "session_id": 1, "long_session_id": 1, "room": "r"})
    )
    assert routes - visited - set(NOT_HTML) == set(), "GET routes neither checked at 360 px nor named in NOT_HTML"
    assert (visited | set(NOT_HTML)) - routes == set(), "pages listed here that the app no longer has"


def too_wide(page, name):
    """None if the page fits; else what sticks out (and a full-page screenshot)."""
    # Fonts and late layout (the board's SVG, the agenda's live rendering) settle before measuring.
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(150)
    found = page.evaluate(OVERFLOW)
    if found["scrollWidth"] <= found["width"]:
        return None
    screenshot(page, f"narrow-{re.sub(r'[^a-z0-9]+', '-', name.lower())}", full_page=True)
    return f"{name}: {found['scrollWidth']} px wide: {found['free']} (in scroll boxes: {found['boxed']})"


def visit(page, path, problems):
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    assert page.locator("html").get_attribute("lang") == page.context.lang, path
    if problem := too_wide(page, path):
        problems.append(problem)


def narrow_page(new_context, lang):
    """A phone whose visitor chose the language (German unless ?lang=en, which a cookie keeps)."""
    context = new_context(**NARROW)
    context.lang = lang
    page = context.new_page()
    page.goto(f"/?lang={lang}")
    return page


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_page_fits_360_px_without_sideways_scrolling(server, content, new_context, lang):
    problems = []
    page = narrow_page(new_context, lang)
    # Public and guest pages as a guest sees them (without the staff menu), then every page signed in.
    everything = [path for paths in pages(content).values() for path in paths]
    for path in [p for p in everything if not p.startswith("/staff/")] + ["/staff/login"]:
        visit(page, path, problems)
    log_in(page)
    staff_pages = [p for p in everything if p.startswith("/staff/") and p != "/staff/login"]
    for path in staff_pages:
        visit(page, path, problems)
    assert len(staff_pages) > 30

    # A device's pairing page, reached with a real code on a phone that is not signed in.
    page.goto(f"/staff/e/{SLUG}/devices")
    page.fill("#device-name", f"Einlass Haupteingang Rathausplatz, linke Tür ({lang})")
    with page.expect_navigation():
        page.locator("#new-device button[type=submit]").click()
    problems.append(too_wide(page, "devices with a pairing code"))
    pair_url = page.locator("#pair-url").get_attribute("href")
    visit(narrow_page(new_context, lang), pair_url, problems)

    # The CSV import preview with long names and faulty rows.
    page.goto(f"/staff/e/{SLUG}/guests/import")
    page.set_input_files("input[type=file]", files=[{"name": "gaeste.csv", "mimeType": "text/csv", "buffer": CSV}])
    with page.expect_navigation():
        page.locator("form[enctype='multipart/form-data'] button[type=submit]").first.click()
    expect(page.locator("button[name=skip_bad_rows]")).to_be_visible()
    problems.append(too_wide(page, "guest import preview"))

    problems = [p for p in problems if p]
    assert not problems, "pages wider than 360 px:\n" + "\n".join(problems)
