"""Scanning without camera access: the scanner opened over plain http under a LAN host name (not localhost,
so not a secure context: no navigator.mediaDevices) offers "Foto aufnehmen"; a photo set on that input — the
PNG of a ticket QR made by webapp.core.qr.png_bytes, and a tilted JPEG "photo" of a badge — is
decoded in the page with jsQR and checks the guest in the way a camera scan does. Headless Chromium maps the
host name to the test server (--host-resolver-rules)."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import LAUNCH_ARGS, PHONE, TIMEOUT_MS, chromium_path, need_browser, screenshot
from tests.browser.test_checkin import guest_state, log_in, open_scanner
from tests.helpers import SLUG, server_guest
from webapp.core.qr import png_bytes

pytestmark = pytest.mark.browser

LAN_HOST = "treffpunkt.lan"  # what a laptop on the venue network is called; http, so no camera for the page


@pytest.fixture(scope="module")
def lan_browser(playwright_instance):
    path = chromium_path()
    if path is None:
        need_browser("no Chromium found (set CHROMIUM or install Debian's chromium)")
    browser = playwright_instance.chromium.launch(
        executable_path=path,
        headless=True,
        timeout=30_000,
        args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture
def lan_phone(lan_browser, server):
    context = lan_browser.new_context(
        base_url=f"http://{LAN_HOST}:{server.port}", locale="de-DE", timezone_id="Europe/Berlin", **PHONE
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def photo_of(png, size=(1600, 1200), width=600, angle=9, quality=85):
    """A phone photo of a printed QR (or badge): on a grey desk, a part of the frame, a little tilted, JPEG."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    qr = qr.resize((width, round(qr.height * width / qr.width)), Image.BILINEAR)
    qr = qr.rotate(angle, expand=True, fillcolor=255, resample=Image.BILINEAR)
    canvas = Image.new("L", size, 118)
    canvas.paste(qr, (size[0] // 2 - qr.width // 3, size[1] // 2 - qr.height // 2))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def take_photo(page, data, name, mime):
    page.set_input_files("#photo", files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_without_camera_a_photo_of_the_ticket_qr_checks_the_guest_in(server, lan_phone):
    guest = server_guest(server, "Foto Fiona", "Zweibrücken")
    page = lan_phone.new_page()
    log_in(page)
    page = open_scanner(lan_phone)
    assert page.evaluate("window.isSecureContext") is False
    assert page.evaluate("typeof navigator.mediaDevices") == "undefined"
    expect(page.locator("#camera-box")).to_have_attribute("data-live", "unavailable")
    expect(page.locator("#camera-toggle")).to_be_hidden()
    expect(page.locator("#camera-msg")).to_contain_text("Foto aufnehmen")
    photo = page.locator("label[for=photo]")
    expect(photo).to_be_visible()
    expect(photo).to_have_text("Foto aufnehmen")
    assert page.get_attribute("#photo", "capture") == "environment"
    assert page.get_attribute("#photo", "accept") == "image/*"
    screenshot(page, "scanner-photo-360")

    take_photo(page, png_bytes(guest["ticket_url"]), "ticket.png", "image/png")
    last = page.locator("#last")
    expect(last).to_have_attribute("data-result", "ok")
    expect(last).to_contain_text("Foto Fiona")
    found = guest_state(server, "Foto Fiona")
    assert found["checked_in_by"] == "tester"
    # The reprint of the badge, from the scan result.
    badge = page.locator("#last-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("href", f"/staff/e/{SLUG}/guests/{found['id']}/badge")
    expect(page.locator("#history")).to_contain_text("Foto Fiona")

    # The same ticket again: "already", as with the camera.
    take_photo(page, png_bytes(guest["ticket_url"]), "ticket.png", "image/png")
    expect(last).to_have_attribute("data-result", "already")


def test_a_photo_of_a_badge_checks_in_and_a_photo_without_a_code_says_so(server, lan_phone, new_context):
    guest = server_guest(server, "Schild Sabine", "Pirmasens")
    # The badge as printed, its QR read off the page by Chromium itself.
    staff = new_context(viewport={"width": 1000, "height": 800}).new_page()
    log_in(staff)
    staff.goto(f"/staff/e/{SLUG}/guests/{guest['id']}/badge")
    badge_png = staff.locator("article.sheet-badge").screenshot(scale="device")

    page = lan_phone.new_page()
    log_in(page)
    page = open_scanner(lan_phone)
    take_photo(page, photo_of(blank_png()), "leer.jpg", "image/jpeg")
    expect(page.locator("#photo-msg")).to_have_attribute("data-state", "none")
    expect(page.locator("#photo-msg")).to_contain_text("kein QR-Code")
    assert guest_state(server, "Schild Sabine")["checked_in_at"] is None

    take_photo(page, photo_of(badge_png, width=800, angle=-7), "schild.jpg", "image/jpeg")
    last = page.locator("#last")
    expect(last).to_have_attribute("data-result", "ok")
    expect(last).to_contain_text("Schild Sabine")
    expect(page.locator("#photo-msg")).to_have_attribute("data-state", "read")
    assert guest_state(server, "Schild Sabine")["checked_in_by"] == "tester"
    expect(page.locator("#history")).to_contain_text("Schild Sabine")


def blank_png():
    out = io.BytesIO()
    Image.new("L", (400, 300), 255).save(out, "PNG")
    return out.getvalue()
