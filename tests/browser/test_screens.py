"""The projector, a door screen and the board projector at 1920×1080, read from 6 m (issue 13): with long
content (a 120-character title, 40 sessions in three rooms with long names) no visible text is under 28 px
except the one footnote, no title is cut on one line (long ones wrap over two), and each screen shows a QR
code (inline SVG from the server) that a real decoder (zxing-cpp) reads as the agenda's or the board's
address under PUBLIC_URL. The editor links each room's door screen. Screenshots: test-artifacts/screen-*.png.

Own server process (PUBLIC_URL set, as at a real event); the long programme is a new event of its own, the
board is the demo event's."""

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import SCREEN, assert_same_origin, screenshot
from tests.browser.test_checkin import log_in
from tests.helpers import SLUG
from tests.server import ServerProcess

pytestmark = pytest.mark.browser

PUBLIC = "http://treffpunkt.example:8000"
LONG_SLUG = "beamer-2026"
LONG_TITLE = (
    "Digitale Verwaltung auf dem Land: Wie Verbandsgemeinden Bürgerdienste gemeinsam online anbieten und ihr "
    "Personal teilen."
)
ROOMS = [
    "Großer Sitzungssaal im Erdgeschoss des Rathauses (barrierefrei)",
    "Seminarraum „Moselblick“ im ersten Obergeschoss, Nordflügel",
    "Foyer und Ausstellungsfläche vor dem Ratssaal, Eingang Marktplatz",
]
AT = "2026-03-12T10:25:00%2B01:00"  # the long title runs 10:20–10:50 in the first room
MIN_PX = 28
FOOTNOTE_MIN_PX = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server: links and QR codes on PUBLIC_URL."""
    proc = ServerProcess(tmp_path_factory.mktemp("server"), env={"PUBLIC_URL": PUBLIC}).prepare().start()
    yield proc
    proc.stop()


def ok(response):
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture(scope="module")
def long_event(server):
    return make_long_event(server)


def make_long_event(server):
    """A day of 40 sessions of 30 minutes in three long-named rooms (09:00 on, every 40 minutes per room);
    returns {room name: room slug}. Also used by test_narrow.py."""
    ok(
        server.api(
            "POST",
            "/api/v1/events",
            json={
                "slug": LONG_SLUG,
                "title": "5. Netzwerktreffen Digitale Kommunen Rheinland-Pfalz in der Verbandsgemeinde Bernkastel-Kues",
                "venue": "Kultur- und Tagungszentrum Güterhalle, Bahnhofstraße 12, 54470 Bernkastel-Kues",
                "start": "2026-03-12T09:00:00+01:00",
                "end": "2026-03-12T18:00:00+01:00",
                "timezone": "Europe/Berlin",
            },
        )
    )
    slugs = [
        ok(server.api("POST", f"/api/v1/events/{LONG_SLUG}/rooms", json={"name": n}))["room"]["slug"] for n in ROOMS
    ]

    def at(minutes):
        return f"2026-03-12T{minutes // 60:02d}:{minutes % 60:02d}:00+01:00"

    for n in range(40):
        step, room = divmod(n, 3)
        start = 9 * 60 + step * 40
        title = (
            LONG_TITLE
            if n == 6
            else f"Programmpunkt {n + 1}: Erfahrungen der Ortsgemeinden mit digitalen Dorfplätzen, Mitfahrbänken "
            "und Bürgerbussen"
        )
        body = {"title": title, "room": ROOMS[room], "planned_start": at(start), "planned_end": at(start + 30)}
        ok(server.api("POST", f"/api/v1/events/{LONG_SLUG}/sessions", json=body))
    return dict(zip(ROOMS, slugs))


# Every visible text on the page: its element, size in CSS px as drawn (SVG text scaled with its picture), and
# whether it belongs to the footnote; elements cut with an ellipsis on one line; titles clamped to one line.
MEASURE = """() => {
  const texts = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.closest("script, style, template")) continue;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) { const m = el.getScreenCTM(); px *= Math.hypot(m.a, m.b); }
    texts.push({ what: `${el.tagName.toLowerCase()}.${el.getAttribute("class") || ""}`,
      text: walker.currentNode.textContent.trim().slice(0, 60), px, footnote: !!el.closest(".footnote") });
  }
  const cut = [];
  const oneLine = [];
  for (const el of document.body.querySelectorAll("*")) {
    const cs = getComputedStyle(el);
    if (cs.textOverflow === "ellipsis" && /nowrap|pre/.test(cs.whiteSpace) && el.scrollWidth > el.clientWidth + 1) {
      cut.push(el.textContent.trim().slice(0, 60));
    }
    const title = el.matches("h1, h2, .title, .room-name, .pair, .tables-when, .table-topic");
    if (title && cs.webkitLineClamp === "1" && el.scrollHeight > el.clientHeight + 1) oneLine.push(el.textContent.trim().slice(0, 60));
  }
  return { texts, cut, oneLine, footnotes: document.querySelectorAll(".footnote").length };
}"""

LINES = """(el) => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"""


def assert_readable(page, name):
    screenshot(page, f"screen-{name}")
    found = page.evaluate(MEASURE)
    assert len(found["texts"]) > 10, found["texts"]
    small = [t for t in found["texts"] if t["px"] < (FOOTNOTE_MIN_PX if t["footnote"] else MIN_PX) - 0.01]
    assert not small, f"{name}: text under {MIN_PX} px at 1920×1080: {small}"
    assert found["footnotes"] <= 1, f"{name}: more than one footnote"
    assert not found["cut"], f"{name}: cut with an ellipsis on one line: {found['cut']}"
    assert not found["oneLine"], f"{name}: titles clamped to one line: {found['oneLine']}"


def qr_text(page, selector="svg.qr"):
    qr = page.locator(selector)
    expect(qr).to_have_count(1)
    expect(qr).to_be_visible()
    assert qr.get_attribute("role") == "img" and qr.get_attribute("aria-label")
    assert qr.evaluate("(el) => el.getBoundingClientRect().width") >= 120  # big enough to scan from a step away
    image = Image.open(io.BytesIO(qr.screenshot())).convert("L")
    found = zxingcpp.read_barcodes(image.resize((image.width * 3, image.height * 3), Image.NEAREST))
    assert found, "no QR code found on the screen"
    return found[0].text


def open_screen(context, url):
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#live-status")).to_have_attribute("data-mode", "live")
    return page


def test_agenda_and_door_screens_are_readable_from_6_m_and_show_the_agenda_qr(
    server, long_event, new_context, request_urls
):
    assert len(LONG_TITLE) == 120
    context = new_context(**SCREEN)
    projector = open_screen(context, f"/e/{LONG_SLUG}/screen?at={AT}")
    expect(projector.locator(".room-panel")).to_have_count(3)
    running = projector.locator(".room-panel .now .title", has_text=LONG_TITLE)
    expect(running).to_have_count(1)
    expect(projector.locator("#later li:not(.off)").first).to_be_visible()
    expect(projector.locator("#later-page")).to_contain_text("Seite 1 von")
    assert_readable(projector, "projector")
    assert 1.9 < running.evaluate(LINES) < 2.1  # two lines of the title, not one cut with "…"
    agenda_url = f"{PUBLIC}/e/{LONG_SLUG}/"
    assert qr_text(projector) == agenda_url
    expect(projector.locator(".phone-qr")).to_contain_text("Programm auf dem Handy")

    door = open_screen(context, f"/e/{LONG_SLUG}/screen/{long_event[ROOMS[0]]}?at={AT}")
    expect(door.locator("h1")).to_have_text(ROOMS[0])
    assert 1.9 < door.locator("h1").evaluate(LINES) < 2.1
    title = door.locator(".room-panel .now .title", has_text=LONG_TITLE)
    expect(title).to_be_visible()
    assert_readable(door, "door")
    assert 1.9 < title.evaluate(LINES) < 2.1
    assert qr_text(door) == agenda_url
    expect(door.locator(".phone-qr")).to_contain_text("treffpunkt.example:8000/e/beamer-2026/")
    assert_same_origin(request_urls(context), server.base_url)  # the QR is no remote image


def test_board_projector_is_readable_from_6_m_and_its_qr_opens_the_board(server, new_context, request_urls):
    # The networking round the next tables belong to gets the long title: it wraps over two lines.
    agenda = ok(server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False))
    rounds = next(s for s in agenda["sessions"] if s["title"].startswith("Kooperationsrunden"))
    ok(server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{rounds['id']}", json={"title": LONG_TITLE}))

    context = new_context(**SCREEN)
    board = open_screen(context, f"/e/{SLUG}/board/screen")
    expect(board.locator("svg#board-svg .bd-label").first).to_be_attached()
    expect(board.locator("#top-matches .match").first).to_be_visible()
    when = board.locator("#tables-when")
    expect(when).to_contain_text(LONG_TITLE[:30])
    expect(board.locator(".footnote")).to_have_count(1)  # the demo's note, the one smaller text
    assert_readable(board, "board")
    assert 1.9 < when.evaluate(LINES) < 2.1
    assert qr_text(board) == f"{PUBLIC}/e/{SLUG}/board"
    expect(board.locator(".phone-qr")).to_contain_text("Board auf dem Handy")
    assert_same_origin(request_urls(context), server.base_url)


def test_editor_links_each_rooms_door_screen_in_a_new_tab(server, long_event, new_context):
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page)
    page.goto(f"/staff/e/{LONG_SLUG}/")
    for name, slug in long_event.items():
        link = page.get_by_role("link", name=f"Türschild „{name}“ (öffnet in einem neuen Tab)", exact=True)
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("href", f"/e/{LONG_SLUG}/screen/{slug}")
        expect(link).to_have_attribute("target", "_blank")
    projector = page.get_by_role("link", name="Beamer: alle Räume (öffnet in einem neuen Tab)")
    expect(projector).to_have_attribute("href", f"/e/{LONG_SLUG}/screen")
    board = page.get_by_role("link", name="Beamer: Matchmaking-Board (öffnet in einem neuen Tab)")
    expect(board).to_have_attribute("href", f"/e/{LONG_SLUG}/board/screen")

    # A door link opens that room's door screen in a tab of its own.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=f"Türschild „{ROOMS[1]}“ (öffnet in einem neuen Tab)").click()
    door = opened.value
    door.wait_for_load_state()
    expect(door.locator("h1")).to_have_text(ROOMS[1])
    assert page.url.endswith(f"/staff/e/{LONG_SLUG}/")
