"""A running session that runs over, on the projector and the Forum's door screen (issue 13): staff extend it
through the API while it runs; the screens show it running ("überzieht um 10 min", "läuft noch bis 16:45")
and never call the Forum free until its new end, without a reload.

The demo event's Forum: "Mobiles WLAN" 16:15–16:35, then nothing until the outlook at 17:30. The screens run
a simulated clock (?at=, as in test_live_agenda.py) from 16:30; Playwright's page.clock then moves the
browser's time on (set_system_time: no burst of timers), and the simulated clock with it."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREEN
from tests.helpers import SLUG

pytestmark = pytest.mark.browser

AT = "2018-10-26T16:30:00%2B02:00"
LIVE_WAIT_MS = 5_000
MINUTE_MS = 60_000


def open_screen(context, path, start_ms):
    page = context.new_page()
    page.clock.install(time=start_ms / 1000)
    page.goto(f"{path}?at={AT}")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    page.evaluate("window.__marker = 1")
    return page


def forum(page):
    return page.locator(".room-panel[data-room='forum']")


def test_the_screens_show_an_overrunning_session_running_until_its_new_end(server, new_context):
    agenda = server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()
    wlan = next(s for s in agenda["sessions"] if s["title"] == "Mobiles WLAN")
    start_ms = time.time() * 1000
    context = new_context(**SCREEN)
    screens = [
        open_screen(context, f"/e/{SLUG}/screen", start_ms),
        open_screen(context, f"/e/{SLUG}/screen/forum", start_ms),
    ]
    for page in screens:
        now = forum(page).locator(".now")
        expect(now.locator(f"[data-session-id='{wlan['id']}']")).to_be_visible()
        expect(now).to_contain_text("noch 5 min")

    r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{wlan['id']}", json={"overrun_minutes": 10})
    assert r.status_code == 200, r.text
    session = r.json()["session"]
    assert (session["start"], session["end"]) == (wlan["start"], "2018-10-26T16:45:00+02:00")

    for page in screens:
        item = forum(page).locator(f".now [data-session-id='{wlan['id']}']")
        expect(item.locator(".overrun")).to_have_text("überzieht um 10 min", timeout=LIVE_WAIT_MS)
        expect(item.locator(".time")).to_have_text("16:15–16:45")
        expect(item.locator(".count")).to_have_text("läuft noch bis 16:45")

    # 16:38: past the planned end (16:35), before the new one: still running, the Forum is not free.
    for page in screens:
        page.clock.set_system_time(start_ms / 1000 + 8 * MINUTE_MS / 1000)
    for page in screens:
        expect(page.locator("#clock")).to_have_text("16:38")
        panel = forum(page)
        expect(panel.locator(f".now [data-session-id='{wlan['id']}'] .overrun")).to_have_text("überzieht um 10 min")
        expect(panel.locator(".now")).not_to_contain_text("Gerade frei")
        expect(panel).not_to_have_class(re.compile(r"\bis-free\b"))

    # 16:46: after the new end the Forum is free until the outlook.
    for page in screens:
        page.clock.set_system_time(start_ms / 1000 + 16 * MINUTE_MS / 1000)
    for page in screens:
        expect(page.locator("#clock")).to_have_text("16:46")
        panel = forum(page)
        expect(panel.locator(".now")).to_contain_text("Gerade frei")
        expect(panel.locator(f".now [data-session-id='{wlan['id']}']")).to_have_count(0)
        expect(panel.locator(".next")).to_contain_text("Ausblick")
        assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"


def test_the_editor_runs_a_session_over_by_keyboard_at_360_px(server, new_context):
    """The editor in a rehearsal at 15:45: the running pitch offers "überzieht +5/+10/+15" and "jetzt beendet"
    (named for screen readers), the page fits a phone, and Enter on "+10" moves its end, not its start."""
    bus = "Teilautonomes Fahren mit einem Bus in der Fußgängerzone"
    page = new_context(**PHONE).new_page()
    page.goto("/staff/login")
    page.fill("input[name=name]", "tester")
    page.fill("input[name=password]", "tester-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"/staff/e/{SLUG}/?at=2018-10-26T15:45:00%2B02:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    row = page.locator("tr[data-phase='running']", has_text=bus)
    expect(row.get_by_role("group", name=f"Überziehen: {bus}")).to_be_visible()
    expect(row.get_by_role("button", name=f"jetzt beendet: {bus}")).to_be_visible()
    row.get_by_role("checkbox", name="Folgende Programmpunkte im Raum mitverschieben").uncheck()
    plus_ten = row.get_by_role("button", name=f"überzieht +10 min: {bus}")
    plus_ten.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    row = page.locator("tr[data-phase='running']", has_text=bus)
    expect(row.locator("[data-overrun]")).to_contain_text("überzieht um 10 min")
    expect(row.locator("td.time")).to_contain_text("bis 16:05")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    session = next(
        s
        for s in server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["sessions"]
        if s["title"] == bus
    )
    assert (session["start"], session["end"]) == ("2018-10-26T15:35:00+02:00", "2018-10-26T16:05:00+02:00")
