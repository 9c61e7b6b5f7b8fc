"""The live agenda as people see it: phones and the projector follow changes made by staff without a reload,
recover from a server restart, work offline, speak German first, load nothing from third parties and can
be used with the keyboard. One real server process for the module (demo event kl-2018); each test changes
its own sessions so the order of the tests does not matter."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREEN, assert_same_origin, screenshot
from tests.helpers import SLUG, server_guest

# A virtual clock during the 15:35–16:35 pitches (demo event: Fri 26.10.2018, Europe/Berlin).
AT = "2018-10-26T15:40:00%2B02:00"
PHONE_URL = f"/e/{SLUG}/?at={AT}"
SCREEN_URL = f"/e/{SLUG}/screen?at={AT}"
LIVE_WAIT_MS = 5_000  # "within a few seconds"
JUMP_NOW = "#jump-now"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def agenda(server):
    r = server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False)
    r.raise_for_status()
    return r.json()


def session_id(agenda, title_start):
    matches = [s["id"] for s in agenda["sessions"] if s["title"].startswith(title_start)]
    assert len(matches) == 1, f"expected one session titled {title_start!r}: {matches}"
    return matches[0]


def patch(server, sid, body):
    r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{sid}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def open_page(context, url, live=True):
    page = context.new_page()
    page.goto(url)
    if live:
        expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    return page


def mark(page):
    """Set a marker that only survives while the document is not reloaded."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"


def phone_session(page, sid):
    return page.locator(f"article.session[data-session-id='{sid}']")


def screen_item(page, sid):
    return page.locator(f".room-panel [data-session-id='{sid}']").first


def log_in(page):
    page.goto("/staff/login")
    page.fill("input[name=name]", "tester")
    page.fill("input[name=password]", "tester-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/staff/login" not in page.url, "login failed"


def test_delay_from_editor_reaches_phone_and_screen_without_reload(server, agenda, new_context):
    sid = session_id(agenda, "Teilautonomes Fahren")
    phone = open_page(new_context(**PHONE), PHONE_URL)
    screen = open_page(new_context(**SCREEN), SCREEN_URL)
    expect(phone_session(phone, sid)).to_be_visible()
    expect(screen_item(screen, sid)).to_be_visible()  # the pitch is in the screen's now/next
    for page in (phone, screen):
        mark(page)

    staff = new_context().new_page()
    log_in(staff)
    staff.goto(f"/staff/e/{SLUG}/")
    row = staff.locator(f"tr[data-session-id='{sid}']")
    row.locator("input[name=shift_following]").uncheck()  # only this session; others belong to other tests
    with staff.expect_navigation():  # the editor itself reloads after the form post
        row.locator("button[data-step='10']").click()
    expect(staff.locator(f"tr[data-session-id='{sid}'] [data-delay]")).to_contain_text("+10")
    clicked = time.monotonic()

    expect(phone_session(phone, sid).locator(".delay")).to_contain_text("+10", timeout=LIVE_WAIT_MS)
    expect(screen_item(screen, sid).locator(".delay")).to_contain_text("+10", timeout=LIVE_WAIT_MS)
    print(f"delay visible on phone and screen {time.monotonic() - clicked:.2f} s after the editor reloaded")
    for page in (phone, screen):
        assert_not_reloaded(page)


def frames_of(page):
    """The Socket.IO messages the page's websocket receives from now on (text frames)."""
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    return frames


def test_phone_gets_no_counters_the_projector_does(server, new_context):
    phone_page, screen_page = new_context(**PHONE).new_page(), new_context(**SCREEN).new_page()
    phone_frames, screen_frames = frames_of(phone_page), frames_of(screen_page)
    for page, url in ((phone_page, PHONE_URL), (screen_page, SCREEN_URL)):
        page.goto(url)
        expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    guest = server_guest(server, "Zähler Probe", city="Mayen")
    r = server.api("POST", f"/api/v1/events/{SLUG}/checkins", json={"code": guest["code"], "nonce": guest["code"]})
    assert r.json()["result"] == "ok", r.text
    stats = '42/live,["stats"'
    deadline = time.monotonic() + LIVE_WAIT_MS / 1000
    while time.monotonic() < deadline and sum(f.startswith(stats) for f in screen_frames) < 2:
        screen_page.wait_for_timeout(50)
    assert sum(f.startswith(stats) for f in screen_frames) >= 2  # on connect, and after the check-in
    assert any(f.startswith('42/live,["synced"') for f in phone_frames)
    assert not [f for f in phone_frames if f.startswith(stats)]


def test_screen_recovers_after_server_restart(server, agenda, new_context):
    sid = session_id(agenda, "Einfluss der Digitalisierung")
    screen = open_page(new_context(**SCREEN), SCREEN_URL)
    mark(screen)
    # Record every mode #live-status goes through: a restart can be quicker than one look at the page.
    screen.evaluate("""() => {
        const el = document.querySelector('#live-status');
        window.__modes = [el.dataset.mode];
        new MutationObserver(() => window.__modes.push(el.dataset.mode))
            .observe(el, {attributes: true, attributeFilter: ['data-mode']});
    }""")

    server.restart()
    screen.wait_for_function("window.__modes.includes('offline')", timeout=10_000)
    expect(screen.locator("#live-status")).to_have_attribute("data-mode", "live", timeout=10_000)

    patch(server, sid, {"room": "Seminarraum 2"})
    moved = screen.locator(
        f".room-panel[data-room='Seminarraum 2'] [data-session-id='{sid}'], "
        f".room-panel[data-room='seminarraum-2'] [data-session-id='{sid}']"
    ).first
    expect(moved).to_be_visible(timeout=LIVE_WAIT_MS)
    text = "Kaffee und Getränke gibt es den ganzen Nachmittag im Foyer."
    r = server.api("POST", f"/api/v1/events/{SLUG}/announcements", json={"text": text})
    assert r.status_code == 201, r.text
    expect(screen.locator("#ticker")).to_contain_text(text, timeout=LIVE_WAIT_MS)  # the screen's announcements
    assert_not_reloaded(screen)
    modes = screen.evaluate("window.__modes")
    assert modes.index("offline") < len(modes) - 1 and modes[-1] == "live", modes


def test_cancelled_and_moved_sessions_stay_visible_on_the_phone(server, agenda, new_context):
    cancelled = session_id(agenda, "Drohnenschule")
    moved = session_id(agenda, "Asyl Cube")
    phone = open_page(new_context(**PHONE), PHONE_URL)
    mark(phone)
    patch(server, cancelled, {"status": "cancelled"})
    patch(server, moved, {"room": "Foyer"})

    def check():
        expect(phone_session(phone, cancelled)).to_have_attribute("data-status", "cancelled", timeout=LIVE_WAIT_MS)
        expect(phone_session(phone, cancelled)).to_be_visible()
        expect(phone_session(phone, cancelled)).to_contain_text("Drohnenschule")
        expect(phone_session(phone, moved)).to_be_visible()
        expect(phone_session(phone, moved).locator(".room")).to_contain_text("Foyer", timeout=LIVE_WAIT_MS)
        expect(phone_session(phone, moved)).to_have_attribute("data-status", "scheduled")

    check()  # live
    assert_not_reloaded(phone)
    phone.reload()  # and from the page as the server renders it
    expect(phone.locator("#live-status")).to_have_attribute("data-mode", "live")
    check()


def test_favourite_survives_reload_and_a_change_shows_the_banner(server, agenda, new_context):
    sid = session_id(agenda, "Park App")
    phone = open_page(new_context(**PHONE), PHONE_URL)
    star = phone_session(phone, sid).locator("button.fav")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")

    phone.reload()
    expect(phone.locator("#live-status")).to_have_attribute("data-mode", "live")
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(phone.locator("#fav-banner")).to_be_hidden()

    patch(server, sid, {"delay_minutes": 5})
    expect(phone.locator("#fav-banner")).to_be_visible(timeout=LIVE_WAIT_MS)
    expect(phone.locator("#fav-banner")).to_contain_text("Park App")


def wait_until_cached(page, timeout_s=8.0):
    """Wait until the service worker is active and its caches hold this page and every file from /static/
    the page loaded (it saves them in the background after the first visit hands them over)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        missing = page.evaluate("""async () => {
            if (!('serviceWorker' in navigator)) return ['(no service worker support)'];
            const reg = await navigator.serviceWorker.getRegistration();
            if (!reg || !reg.active) return ['(no active service worker)'];
            const wanted = [location.pathname, ...performance.getEntriesByType('resource')
                .map((e) => new URL(e.name)).filter((u) => u.origin === location.origin
                    && u.pathname.startsWith('/static/') && !u.pathname.endsWith('.svg')).map((u) => u.pathname)];
            const missing = [];
            for (const path of wanted) {
                if (!(await caches.match(path, {ignoreSearch: true}))) missing.push(path);
            }
            return missing;
        }""")
        if not missing:
            return []
        time.sleep(0.2)
    return missing


def test_phone_works_offline_after_one_visit(server, agenda, new_context):
    context = new_context(**PHONE, service_workers="allow")
    phone = open_page(context, f"/e/{SLUG}/")
    expect(phone.locator("article.session").first).to_be_visible()
    missing = wait_until_cached(phone)
    assert not missing, f"the service worker did not save what the page needs offline: {missing}"
    count_online = phone.locator("article.session").count()

    context.set_offline(True)
    try:
        phone.reload()
        expect(phone.locator("article.session").first).to_be_visible()
        assert phone.locator("article.session").count() == count_online
        expect(phone.locator("article.session", has_text="Park App")).to_be_visible()
        expect(phone.locator("#live-status")).to_have_attribute("data-mode", "offline")
        expect(phone.locator("#live-status")).to_contain_text("Offline")
    finally:
        context.set_offline(False)
    expect(phone.locator("#live-status")).to_have_attribute("data-mode", "live")


def test_german_by_default_english_on_request(new_context):
    context = new_context(**PHONE, locale="en-US")  # even an English browser gets German first
    page = open_page(context, f"/e/{SLUG}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#program-h")).to_have_text("Programm")
    expect(page.locator("#jump-now")).to_have_text("Zu jetzt springen")
    expect(page.get_by_role("link", name="English")).to_be_visible()

    page.get_by_role("link", name="English").click()  # the switch is ?lang=en
    expect(page).to_have_url(re.compile(r"[?&]lang=en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    expect(page.locator("#program-h")).to_have_text("Programme")
    expect(page.locator("#jump-now")).to_have_text("Jump to now")
    expect(page.get_by_role("link", name="Deutsch")).to_be_visible()

    screen = open_page(new_context(**SCREEN), SCREEN_URL)
    expect(screen.locator("html")).to_have_attribute("lang", "de")
    expect(screen.locator("#side-h")).to_have_text("Später heute")
    expect(screen.locator(".room-panel .now").first).to_contain_text("Jetzt", ignore_case=True)
    screen.goto(f"{SCREEN_URL}&lang=en")
    expect(screen.locator("html")).to_have_attribute("lang", "en")
    expect(screen.locator("#side-h")).to_have_text("Later today")
    expect(screen.locator(".room-panel .now").first).to_contain_text("Now", ignore_case=True)


def test_no_request_leaves_the_server(server, new_context, request_urls):
    phone_ctx, screen_ctx, staff_ctx = new_context(**PHONE), new_context(**SCREEN), new_context()
    open_page(phone_ctx, PHONE_URL)
    open_page(screen_ctx, SCREEN_URL)
    staff = staff_ctx.new_page()
    log_in(staff)
    staff.goto(f"/staff/e/{SLUG}/")
    expect(staff.locator("tr[data-session-id]").first).to_be_visible()
    for page in phone_ctx.pages + screen_ctx.pages + staff_ctx.pages:
        page.wait_for_load_state("load")
    time.sleep(0.5)  # anything the pages start after load
    for context in (phone_ctx, screen_ctx, staff_ctx):
        assert_same_origin(request_urls(context), server.base_url)
    assert any("/socket.io/" in u for u in request_urls(phone_ctx)), "the phone never connected live"
    assert any("/staff/e/" in u for u in request_urls(staff_ctx)), "the editor was not visited"


def tab_to(page, selector, limit=150):
    """From the top of the page, press Tab until the focused element matches selector."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => !!document.activeElement && document.activeElement.matches(sel)", selector):
            return presses
    raise AssertionError(f"{selector} not reachable with Tab within {limit} presses")


def test_keyboard_star_and_jump_to_now(server, agenda, new_context):
    sid = session_id(agenda, "Begrüßung und Eröffnung")
    phone = open_page(new_context(**PHONE, reduced_motion="reduce"), PHONE_URL)
    star_selector = f"article.session[data-session-id='{sid}'] button.fav"
    star = phone.locator(star_selector)
    expect(star).to_have_attribute("aria-pressed", "false")
    tab_to(phone, star_selector)
    phone.keyboard.press("Enter")
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_be_focused()
    phone.keyboard.press("Space")
    expect(star).to_have_attribute("aria-pressed", "false")

    # Jump to now: by keyboard, from the top of the page, a session of 15:35 (running at 15:40) comes into
    # view and gets the focus; Enter and Space both work.
    running = {str(s["id"]) for s in agenda["sessions"] if s["planned_start"].startswith("2018-10-26T15:35")}
    for key in ("Enter", "Space"):
        tab_to(phone, JUMP_NOW)
        phone.keyboard.press(key)
        focused = phone.locator("article.session:focus")
        expect(focused).to_be_in_viewport()
        assert focused.get_attribute("data-session-id") in running, key
        assert phone.evaluate("window.scrollY") > 0, key


def test_screenshots_for_release_notes(server, new_context):
    phone = open_page(new_context(**PHONE), PHONE_URL)
    expect(phone.locator("article.session").first).to_be_visible()
    screen = open_page(new_context(**SCREEN), SCREEN_URL)
    expect(screen.locator(".room-panel").first).to_be_visible()
    for page in (phone, screen):
        page.evaluate("document.fonts.ready")
    phone_path = screenshot(phone, "phone-360")
    screen_path = screenshot(screen, "screen-1920")
    assert phone_path.stat().st_size > 5_000 and screen_path.stat().st_size > 5_000
