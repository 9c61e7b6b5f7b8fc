"""The report page in Chromium: on a 360 × 740 phone nothing scrolls sideways (tables become cards), the
arrivals chart is drawn, axe-core finds no serious violation, nothing loads from elsewhere, and printed it is A4 pages without the navigation, the downloads and the guests'
names. One real server process with the demo event, a few arrivals at the door's times, a delay."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_same_origin
from tests.browser.test_a11y import axe_violations
from tests.browser.test_badges import pdf_pages
from tests.browser.test_checkin import log_in
from tests.helpers import SLUG, server_guest

pytestmark = pytest.mark.browser
PHONE_REPORT = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LONG_TOWN = "Neustadt an der Weinstraße"


@pytest.fixture(scope="module")
def arrivals(server):
    guests = [
        server_guest(server, "Digitalisierungsbeauftragte Wilhelmine von Hohenzollern-Sigmaringen", LONG_TOWN),
        server_guest(server, "Karl Lauter", "Kaiserslautern", organisation="Stadtverwaltung Kaiserslautern"),
        server_guest(server, "Tim Trier", "Trier"),
        server_guest(server, "Nicht Gekommen", "Mayen"),
    ]
    for guest, hhmm in zip(guests[:3], ("13:25", "13:40", "14:10")):
        body = {"code": guest["code"], "nonce": str(uuid.uuid4()), "scanned_at": f"2018-10-26T{hhmm}:00+02:00"}
        assert server.api("POST", f"/api/v1/events/{SLUG}/checkins", json=body).json()["result"] == "ok"
    agenda = server.api("GET", f"/api/v1/events/{SLUG}/agenda").json()
    talk = next(s for s in agenda["sessions"] if s["kind"] == "talk")
    assert server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{talk['id']}", json={"delay_minutes": 10}).ok
    return guests


def test_report_fits_a_phone_and_prints_on_a4(server, new_context, arrivals):
    page = new_context(**PHONE_REPORT).new_page()
    log_in(page)
    page.goto(f"/staff/e/{SLUG}/report")
    expect(page.locator("h1")).to_have_text("Bericht zur Veranstaltung")
    expect(page.locator(f'tr[data-town="{LONG_TOWN}"]')).to_be_visible()
    expect(page.locator(".report-chart svg rect.bar").first).to_be_visible()
    expect(page.locator("#certificates")).to_contain_text("Wilhelmine von Hohenzollern-Sigmaringen")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the report page is {width} px wide on a 360 px phone"
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 361)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert not wide, f"wider than the phone: {wide}"
    assert axe_violations(page) == []
    assert_same_origin(page.context._treffpunkt_requests, server.base_url)

    # Printed: A4 pages, no navigation, no downloads, no list of names.
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".report-downloads")).to_be_hidden()
    expect(page.locator("#certificates")).to_be_hidden()
    expect(page.locator(".report-chart svg")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = pdf_pages(pdf)
    assert pages and all(size == (210, 297) for size in pages), pages
    assert len(pages) <= 8


def test_the_downloads_from_the_page(server, new_context, arrivals):
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page)
    page.goto(f"/staff/e/{SLUG}/report")
    with page.expect_download() as download:
        page.click("text=Bericht als CSV (Excel)")
    assert download.value.suggested_filename == f"bericht-{SLUG}.csv"
    with page.expect_download() as download:
        page.click("#certificates button[type=submit]")
    assert download.value.suggested_filename == f"teilnahmebescheinigungen-{SLUG}.pdf"
    with open(download.value.path(), "rb") as f:
        assert len(pdf_pages(f.read())) == 3  # the three who came
