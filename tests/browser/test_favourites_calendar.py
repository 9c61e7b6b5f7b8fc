"""Favourites kept with the ticket and the calendar subscription links, in Chromium against a real server:
the guest stars a session on the agenda after her ticket page was opened on this phone, the server then
keeps it; the ticket page offers the webcal:// subscription of exactly those; a second phone (a fresh
browser) opening the same ticket shows them too. The agenda offers the webcal:// subscription of the
whole programme."""

import re

import icalendar
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.helpers import SLUG, server_guest

pytestmark = pytest.mark.browser


def test_starred_sessions_follow_the_ticket_into_the_calendar(server, new_context):
    guest = server_guest(server, "Sternchen")
    ticket = guest["ticket_url"].removeprefix(server.base_url)
    phone = new_context(**PHONE).new_page()
    phone.goto(ticket)
    expect(phone.locator("#fav-calendar")).to_be_visible()  # the (empty) subscription is offered at once

    phone.goto(f"/e/{SLUG}/")
    star = phone.locator("button.fav").first
    starred = int(star.get_attribute("data-fav"))
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")

    def kept():
        return requests.get(f"{server.base_url}{ticket}/favourites", timeout=5).json()["sessions"]

    for _ in range(50):  # the PUT goes out in the background
        if kept() == [starred]:
            break
        phone.wait_for_timeout(100)
    assert kept() == [starred]

    phone.goto(ticket)
    link = phone.locator("#fav-calendar a")
    expect(link).to_have_attribute("href", re.compile(r"^webcal://127\.0\.0\.1:\d+/c/"))
    feed_url = phone.locator("#fav-calendar-url").input_value()
    body = requests.get(feed_url, timeout=5).content
    assert [str(v["URL"]).rpartition("#s")[2] for v in icalendar.Calendar.from_ical(body).walk("VEVENT")] == [
        str(starred)
    ]

    second = new_context(**PHONE).new_page()  # another phone of the same guest
    second.goto(ticket)
    expect(second.locator("#fav-list li")).to_have_count(1)

    second.goto(f"/e/{SLUG}/")
    agenda_feed = second.locator(".agenda-foot a[href^='webcal://']")
    expect(agenda_feed).to_have_attribute("href", f"webcal://{server.base_url.split('://')[1]}/e/{SLUG}/agenda.ics")
