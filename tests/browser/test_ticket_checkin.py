"""A staff phone opens a guest's ticket link (as its camera app would) and checks the guest in with the large
"Einchecken" button: the guest is in the database as checked in by that account, the page says so, and a
second visit says "Bereits eingecheckt um …". Anonymous visitors and staff of another event see no button,
and their POST is refused. Headless Chromium against one real server process."""

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_checkin import guest_state, log_in, stats
from tests.helpers import SLUG, server_guest

pytestmark = pytest.mark.browser

OTHER = "trier-2019"
DOOR_PASSWORD = "door-password-2018"


@pytest.fixture(scope="module")
def accounts(server):
    """A door account of this event, and an organiser of another event."""
    r = server.api(
        "POST",
        "/api/v1/events",
        json={
            "slug": OTHER,
            "title": "Netzwerktreffen Trier 2019",
            "start": "2019-06-05T09:00:00+02:00",
            "end": "2019-06-05T17:00:00+02:00",
        },
    )
    assert r.status_code == 201, r.text
    server.flask("staff", "add", "tuer-1", "--role", "scanner", "--password", DOOR_PASSWORD, "--event", SLUG)
    server.flask("staff", "add", "orga-trier", "--role", "admin", "--password", DOOR_PASSWORD, "--event", OTHER)
    return {"door": "tuer-1", "other": "orga-trier"}


def test_staff_phone_checks_the_guest_in_from_the_ticket_link(server, new_context, accounts):
    guest = server_guest(server, "Tür Tanja", "Ludwigshafen")
    before = stats(server)["checked_in"]
    context = new_context(**PHONE)
    page = context.new_page()
    log_in(page, accounts["door"], DOOR_PASSWORD)
    page.goto(f"/t/{guest['token']}")
    button = page.get_by_role("button", name="Einchecken")
    expect(button).to_be_visible()
    assert button.bounding_box()["height"] >= 56  # large: pressed at the door with one thumb
    screenshot(page, "ticket-staff-checkin-360")
    with page.expect_navigation():
        button.click()
    state = page.locator("#door .checkin-state")
    expect(state).to_have_attribute("data-result", "ok")
    expect(state).to_have_text(re.compile(r"Eingecheckt um \d\d:\d\d Uhr"))
    expect(page.get_by_role("button", name="Einchecken")).to_have_count(0)
    found = guest_state(server, "Tür Tanja")
    assert found["checked_in_by"] == accounts["door"]
    assert stats(server)["checked_in"] == before + 1
    screenshot(page, "ticket-staff-checked-in-360")

    # Opened again (another staff phone, or later): "already", with the time, and no button.
    page.goto(f"/t/{guest['token']}")
    expect(state).to_have_attribute("data-result", "already")
    expect(state).to_contain_text("Bereits eingecheckt um")
    expect(page.get_by_role("button", name="Einchecken")).to_have_count(0)
    # The reprint is one tap away; the staff phone did not keep the guest's ticket as its own.
    expect(page.get_by_role("link", name="Namensschild drucken")).to_have_attribute(
        "href", f"/staff/e/{SLUG}/guests/{found['id']}/badge"
    )
    assert page.evaluate(f"localStorage.getItem('treffpunkt:ticket:{SLUG}')") is None
    assert stats(server)["checked_in"] == before + 1


def test_anonymous_visitors_and_other_events_staff_get_no_button_and_are_refused(server, new_context, accounts):
    guest = server_guest(server, "Anonym Arne", "Trier")
    anonymous = new_context(**PHONE).new_page()
    anonymous.goto(f"/t/{guest['token']}")
    expect(anonymous.locator(".who-name")).to_have_text("Anonym Arne")
    expect(anonymous.locator("#door")).to_have_count(0)
    expect(anonymous.get_by_role("button", name="Einchecken")).to_have_count(0)

    other = new_context(**PHONE).new_page()
    log_in(other, accounts["other"], DOOR_PASSWORD)
    other.goto(f"/t/{guest['token']}")
    expect(other.locator(".who-name")).to_have_text("Anonym Arne")
    expect(other.locator("#door")).to_have_count(0)
    # A POST made by hand with the session (and a fresh nonce) is refused too.
    r = other.request.post(f"/t/{guest['token']}/checkin", form={"nonce": str(uuid.uuid4())})
    assert r.status == 403
    r = requests.post(f"{server.base_url}/t/{guest['token']}/checkin", data={"nonce": "x"}, timeout=10)
    assert r.status_code == 403
    assert guest_state(server, "Anonym Arne")["checked_in_at"] is None
