"""The matchmaking board in a real browser: a delegate edits their municipality's interests on the phone page
(360×800) and the projector board (1920×1080) draws the new link without a reload; a failed save keeps the
input and says why; nothing is loaded from another origin. Screenshots: test-artifacts/board-1920.png,
board-360.png (the public board on the delegate's phone) and delegate-360.png."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREEN, assert_same_origin, screenshot
from tests.helpers import SLUG, server_guest

# The demo board: Eisenberg (Pfalz) runs "Digitale Dörfer"; Zweibrücken has not agreed to the board yet.
NEW_PAIR = "Eisenberg (Pfalz)|Zweibrücken"

pytestmark = pytest.mark.browser


def board(server):
    r = server.api("GET", f"/api/v1/events/{SLUG}/board", token=False)
    r.raise_for_status()
    return r.json()


def test_delegate_edit_on_phone_appears_on_projector_without_reload(server, new_context, request_urls):
    eisenberg = server_guest(server, "Erika Eisenberg", "Eisenberg (Pfalz)")["token"]
    zweibruecken = server_guest(server, "Zora Zweibrücken", "Zweibrücken")["token"]
    r = server.api(
        "PUT",
        f"/api/v1/t/{eisenberg}/interests",
        token=False,
        json={
            "consent": True,
            "interests": [{"topic": "digitale-doerfer", "stage": "runs"}, {"topic": "bildung", "stage": "interested"}],
        },
    )
    assert r.status_code == 200, r.text
    assert "Zweibrücken" not in [m["name"] for m in board(server)["municipalities"]]

    projector_context = new_context(**SCREEN)
    projector = projector_context.new_page()
    projector.goto(f"/e/{SLUG}/board/screen")
    expect(projector.locator("#live-status")).to_have_attribute("data-mode", "live")
    expect(projector.locator("svg#board-svg path.bd-link").first).to_be_attached()
    link = projector.locator(f'svg#board-svg path.bd-link[data-cities="{NEW_PAIR}"]')
    expect(link).to_have_count(0)
    projector.evaluate("window.__marker = 1")

    phone_context = new_context(**PHONE)
    phone = phone_context.new_page()
    phone.goto(f"/t/{zweibruecken}/board")
    expect(phone.locator("h1")).to_contain_text("Zweibrücken")
    phone.click("label[for=consent]")
    phone.click("label[for=st-digitale-doerfer-interested]")
    phone.fill("#note-digitale-doerfer", "Wir suchen Erfahrungen mit der DorfFunk-App")
    expect(phone.locator("#save-status")).to_have_text("Nicht gespeicherte Änderungen")

    # The server cannot be reached: the page says so (role=alert) and keeps every input.
    def offline(route):
        if route.request.method == "PUT":
            route.abort()
        else:
            route.continue_()

    phone.route("**/api/v1/t/*/interests", offline)
    phone.click("#save")
    expect(phone.locator("#save-error[role=alert]")).to_be_visible()
    expect(phone.locator("#save-error")).to_contain_text("Keine Verbindung")
    expect(phone.locator("#st-digitale-doerfer-interested")).to_be_checked()
    expect(phone.locator("#consent")).to_be_checked()
    expect(phone.locator("#note-digitale-doerfer")).to_have_value("Wir suchen Erfahrungen mit der DorfFunk-App")
    phone.unroute("**/api/v1/t/*/interests")

    phone.click("#save")
    expect(phone.locator("#save-status")).to_have_text("Gespeichert.")
    expect(phone.locator("#save-error")).to_be_hidden()

    # The projector draws the new link in place, names it, and was not reloaded.
    expect(link).to_have_count(1)
    expect(projector.locator('svg#board-svg .bd-node[data-city="Zweibrücken"]')).to_have_count(1)
    expect(projector.locator("#toast")).to_contain_text("Zweibrücken")
    assert projector.evaluate("window.__marker") == 1, "the projector was reloaded"
    assert float(link.get_attribute("stroke-width")) > 0
    # The phone page offers the partner as a suggestion with its reason in words.
    suggestion = phone.locator('.suggestion[data-city="Eisenberg (Pfalz)"]')
    said = (
        "Eisenberg (Pfalz) hat ein Projekt zum Thema „Digitale Dörfer“ im Betrieb; Zweibrücken interessiert sich dafür."
    )
    expect(suggestion).to_contain_text(said)
    expect(suggestion.locator(".score-why")).to_have_text("2,5 Punkte für „Digitale Dörfer“ (Betrieb trifft Interesse)")
    expect(suggestion.locator("button[data-request]")).to_be_visible()
    projector.wait_for_timeout(1600)  # let the line finish drawing in
    screenshot(projector, "board-1920")
    screenshot(phone, "delegate-360", full_page=True)

    # The public board on the same phone knows "meine Kommune" from the ticket.
    phone.goto(f"/e/{SLUG}/board")
    expect(phone.locator("#live-status")).to_have_attribute("data-mode", "live")
    expect(phone.locator("#mine-only")).to_contain_text("Zweibrücken")
    phone.click("#mine-only")  # only what concerns Zweibrücken
    expect(phone.locator(f'.match[data-cities="{NEW_PAIR}"]')).to_contain_text(said)
    expect(phone.locator('.match[data-cities="Kaiserslautern|Trier"]')).to_have_count(0)
    phone.click("#mine-only")
    expect(phone.locator(f'svg#board-svg path.bd-link.is-mine[data-cities="{NEW_PAIR}"]')).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "the phone board scrolls sideways"
    screenshot(phone, "board-360", full_page=True)

    for context in (projector_context, phone_context):
        assert_same_origin(request_urls(context), server.base_url)
