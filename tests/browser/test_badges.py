"""Badges printed by Chromium: the A4 sheet of 17 guests' badges is exactly two A4 pages (10 + 7), the single
badge one page of 90 × 55 mm, and the QR on a badge, read from the rendered page with zxing-cpp, is the badge
check-in code ("TPB-…"), which checks that guest in through the scanner's API. One real server process."""

import io
import re
import uuid

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_checkin import guest_state, log_in
from tests.helpers import SLUG, server_guest

pytestmark = pytest.mark.browser

MM = 72 / 25.4  # PDF points per millimetre


def pdf_pages(pdf):
    """The page sizes (width, height in mm) of a PDF Chromium printed: its /Type /Page objects and their
    /MediaBox (Skia writes both uncompressed)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        boxes = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf, re.S)
        if len(boxes) != len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)):  # MediaBox before /Type: the other order
            boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\][^>]*?/Type\s*/Page\b(?!s)", pdf, re.S)
        return [(round(float(w) / MM), round(float(h) / MM)) for w, h in boxes]
    reader = PdfReader(io.BytesIO(pdf))
    return [(round(float(p.mediabox.width) / MM), round(float(p.mediabox.height) / MM)) for p in reader.pages]


@pytest.fixture(scope="module")
def seventeen(server):
    return [server_guest(server, f"Schild {i:02d} Gast", "Koblenz", role="Digitallotsin") for i in range(17)]


def staff_page(new_context):
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page)
    return page


def test_sheet_of_17_badges_prints_as_two_a4_pages(server, new_context, seventeen):
    page = staff_page(new_context)
    query = "&".join(f"guest={g['id']}" for g in seventeen)
    page.goto(f"/staff/e/{SLUG}/badges?{query}")
    expect(page.locator(".badge-sheet")).to_have_count(2)
    expect(page.locator(".badge-sheet").nth(0).locator(".badge-cell")).to_have_count(10)
    expect(page.locator(".badge-sheet").nth(1).locator(".badge-cell")).to_have_count(7)
    # Each badge is 90 × 55 mm on the screen too (96 CSS px per inch).
    box = page.locator(".badge-cell").first.bounding_box()
    assert round(box["width"] / 96 * 25.4) == 90 and round(box["height"] / 96 * 25.4) == 55
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf_pages(pdf) == [(210, 297), (210, 297)]
    # The sheet of every registered guest: ten to a page as well.
    page.goto(f"/staff/e/{SLUG}/badges")
    total = int(page.locator("[data-count]").get_attribute("data-count"))
    assert total >= 17
    assert len(pdf_pages(page.pdf(prefer_css_page_size=True))) == -(-total // 10)


def test_single_badge_is_one_90_by_55_page_and_its_qr_checks_the_guest_in(server, new_context, seventeen):
    guest = seventeen[0]
    page = staff_page(new_context)
    page.goto(f"/staff/e/{SLUG}/guests/{guest['id']}/badge")
    badge = page.locator("article.sheet-badge")
    expect(badge).to_contain_text("Schild 00 Gast")
    expect(badge).to_contain_text("Digitallotsin")
    assert guest["token"] not in page.content() and guest["code"][:4] not in badge.inner_text()
    assert pdf_pages(page.pdf(prefer_css_page_size=True)) == [(90, 55)]

    page.set_viewport_size({"width": 1280, "height": 900})
    image = Image.open(io.BytesIO(page.locator("article.sheet-badge .badge-qr svg").screenshot(scale="device")))
    found = zxingcpp.read_barcodes(image.resize((image.width * 3, image.height * 3), Image.NEAREST))
    assert found, "no QR code found on the badge"
    text = found[0].text
    assert re.fullmatch(r"TPB-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", text), text
    assert "/t/" not in text and guest["code"] not in text

    assert requests_get_status(server, f"/t/{text}") == 404
    before = server.api("GET", f"/api/v1/events/{SLUG}/stats", token=False).json()["checked_in"]
    answer = server.api(
        "POST", f"/api/v1/events/{SLUG}/checkins", json={"code": text, "nonce": str(uuid.uuid4())}
    ).json()
    assert answer["result"] == "ok" and answer["guest"]["id"] == guest["id"]
    again = server.api("POST", f"/api/v1/events/{SLUG}/checkins", json={"code": text, "nonce": str(uuid.uuid4())})
    assert again.json()["result"] == "already"
    assert guest_state(server, "Schild 00 Gast")["checked_in_by"] == "tester"
    assert server.api("GET", f"/api/v1/events/{SLUG}/stats", token=False).json()["checked_in"] == before + 1


def test_badge_sheet_in_a_sheet_page_of_a_phone_does_not_widen_it(server, new_context, seventeen):
    """The 210 mm preview scrolls inside its box on a 360 px phone; the page itself does not get wider."""
    context = new_context(viewport={"width": 360, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page)
    page.goto(f"/staff/e/{SLUG}/badges?guest={seventeen[1]['id']}")
    expect(page.locator(".badge-cell")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def requests_get_status(server, path):
    return server.api("GET", path, token=False).status_code
