"""A new organiser, alone, in the browser: from an empty database (no demo) to a running meeting and the
next one prepared from it, through pages only (issue 11's acceptance). A real server process, headless
Chromium: log in, create "Netzwerktreffen Trier 2019" (today, so that the door works), add rooms, topics,
a speaker and sessions, add four municipalities by typing (one Landau in der Pfalz), import guests from a
CSV as Excel writes it, add a door-staff account; open the phone agenda, the projector and the board (two
delegates state their projects; the new towns stand at their places on the map), check a guest in as the
door account; then "prepare the next meeting" and find rooms, topics, municipalities and profiles there."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREEN, screenshot
from tests.browser.test_checkin import log_in, open_scanner, type_code
from tests.server import ServerProcess

pytestmark = pytest.mark.browser
SLUG = "trier-2019"
TOWNS = ("Trier", "Landau in der Pfalz", "Kaiserslautern", "Zweibrücken")
CSV = (
    "Anrede;Name;Kommune;Organisation;Funktion;E-Mail\r\n"
    "Frau;Petra Pfalz;Landau in der Pfalz;Stadtverwaltung Landau;Digitalisierung;petra@example.org\r\n"
    "Herr;Karl Lauter;Kaiserslautern;Stadt Kaiserslautern;CDO;karl@example.org\r\n"
    "Frau;Zita Brücken;Zweibrücken;Stadt Zweibrücken;IT;zita@example.org\r\n"
    "Herr;Tim Trier;Trier;Stadt Trier;Amtsleitung;tim@example.org\r\n"
).encode("cp1252")


class EmptyServer(ServerProcess):
    """No demo event: only the migrated database and the first admin."""

    def prepare(self):
        self.flask("db", "upgrade")
        self.flask("gazetteer")
        self.flask("staff", "add", "orga", "--role", "admin", "--password", "orga-password-1")
        return self


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = EmptyServer(tmp_path_factory.mktemp("organiser"), env={"DEMO": "0"}).prepare().start()
    yield proc
    proc.stop()


def submit(page, button_name):
    with page.expect_navigation():
        page.get_by_role("button", name=button_name, exact=True).click()


def flashed_ok(page):
    expect(page.locator(".error")).to_have_count(0)


def create_event(page, title, slug, day, copy_from=None):
    page.fill("#title", title)
    page.fill("#slug", slug)
    page.fill("#start", f"{day}T00:05")
    page.fill("#end", f"{day}T23:55")
    page.fill("#venue", "Rathaus am Augustinerhof, Trier")
    page.fill("#host", "Stadt Trier")
    if copy_from:
        expect(page.locator("#copy_from")).to_have_value(copy_from)
    submit(page, "Veranstaltung anlegen")
    flashed_ok(page)
    assert page.url.endswith(f"/staff/e/{slug}/setup")


def add_named(page, field, value, button, **extra):
    page.fill(field, value)
    for selector, text in extra.items():
        page.fill(selector, text)
    submit(page, button)
    flashed_ok(page)


def add_session(page, title, room, start, end, speaker=None, topic=None):
    page.goto(f"/staff/e/{SLUG}/sessions/new")
    page.fill("#title", title)
    page.select_option("#room", room)
    page.fill("#start", start)
    page.fill("#end", end)
    if speaker:
        page.check(f'input[name=speakers][value="{speaker}"]')
    if topic:
        page.locator("fieldset.choices", has_text="Themen").get_by_label(topic).check()
    submit(page, "Speichern")
    flashed_ok(page)
    expect(page.locator("table.editor")).to_contain_text(title)


def add_town(page, name, host=False):
    page.goto(f"/staff/e/{SLUG}/municipalities")
    field = page.locator("#name")
    field.press_sequentially(name, delay=15)
    # The gazetteer's suggestion for exactly this name names its state.
    expect(page.locator("#place-found")).to_contain_text(f"{name} (Rheinland-Pfalz)")
    if name == "Landau in der Pfalz":
        screenshot(page, "organiser-municipality-picker")
    if host:
        page.check("#is_host")
    submit(page, "Hinzufügen")
    flashed_ok(page)
    expect(page.locator("table")).to_contain_text(name)


def node_position(page, city):
    transform = page.locator(f'svg#board-svg .bd-node[data-city="{city}"]').evaluate("n => n.style.transform")
    x, y = (float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", transform)[:2])
    return x, y


def register_as_delegate(context, link, name, stage):
    """A delegate follows the registration link the organiser sent (with the town's invitation code), gets
    the ticket, and states the town's projects on the board."""
    page = context.new_page()
    page.goto(link)
    page.fill("#name", name)
    page.check("#consent")
    submit(page, "Anmelden und Ticket erhalten")
    assert "/t/" in page.url
    with page.expect_navigation():
        page.get_by_role("link", name="Interessen und Treffen unserer Kommune").click()
    page.click("#interests label[for=consent]")
    expect(page.locator("#interests #consent")).to_be_checked()
    page.locator(f'label[for="st-smart-parking-{stage}"]').click()
    page.click("#save")
    expect(page.locator("#save-status")).not_to_be_empty()
    expect(page.locator("#save-error")).to_be_hidden()
    return page


def test_a_new_organiser_runs_a_meeting_from_an_empty_database_and_prepares_the_next(server, new_context):
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    organiser = new_context(**SCREEN)
    page = organiser.new_page()
    log_in(page, "orga", "orga-password-1")

    # An empty instance says what to do first.
    page.goto("/staff/")
    with page.expect_navigation():
        page.get_by_role("link", name="Erste Veranstaltung anlegen").click()
    create_event(page, "Netzwerktreffen Trier 2019", SLUG, today)

    # Rooms, topics, a speaker, in place.
    for room in ("Ratssaal", "Foyer"):
        add_named(page, "#new-room", room, "Raum hinzufügen")
    for topic in ("Smart Parking", "Digitale Verwaltung"):
        add_named(page, "#new-topic", topic, "Thema hinzufügen")
    add_named(page, "#new-speaker", "Dr. Käthe Beispiel", "Mitwirkende hinzufügen", **{"#new-speaker-role": "CDO"})
    expect(page.locator("#rooms")).to_contain_text("Ratssaal")

    # Sessions with a speaker and a topic.
    add_session(page, "Begrüßung", "Ratssaal", f"{today}T09:00", f"{today}T09:30", speaker="Dr. Käthe Beispiel")
    add_session(page, "Parken mit Sensoren", "Foyer", f"{today}T10:00", f"{today}T10:45", topic="Smart Parking")

    # Four municipalities by typing, placed by the gazetteer.
    for town in TOWNS:
        add_town(page, town, host=town == "Trier")

    # Guests from a CSV as Excel saves it (semicolons, Windows-1252).
    page.goto(f"/staff/e/{SLUG}/guests/import")
    page.set_input_files("#file", files=[{"name": "gaeste.csv", "mimeType": "text/csv", "buffer": CSV}])
    submit(page, "Hochladen und prüfen")
    expect(page.locator("table")).to_contain_text("Zita Brücken")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"4 Gäste importieren")).click()
    expect(page.locator("body")).to_contain_text("Petra Pfalz")

    # A door-staff account for this event only.
    page.goto("/staff/team")
    page.fill("#name", "tuer-trier")
    page.select_option("#role", "scanner")
    page.check(f'input[name=events][value="{SLUG}"]')
    submit(page, "Konto anlegen")
    door_password = page.locator("#password-shown code").inner_text().strip()
    assert len(door_password) >= 12

    # The phone agenda and the projector show the programme.
    phone = new_context(**PHONE).new_page()
    phone.goto(f"/e/{SLUG}/")
    expect(phone.locator("body")).to_contain_text("Parken mit Sensoren")
    expect(phone.locator("#live-status")).to_have_attribute("data-mode", "live")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the phone agenda is {width} px wide"
    projector = new_context(**SCREEN).new_page()
    projector.goto(f"/e/{SLUG}/screen")
    expect(projector.locator("body")).to_contain_text("Ratssaal")

    # Two delegates state their projects through their registration links; the board shows their towns
    # at their places: Landau in der Pfalz lies south-east of Kaiserslautern.
    page.goto(f"/staff/e/{SLUG}/delegations")
    links = {
        town: page.get_by_label(f"Anmeldelink für {town}").input_value()
        for town in ("Landau in der Pfalz", "Kaiserslautern")
    }
    register_as_delegate(new_context(**PHONE), links["Landau in der Pfalz"], "Lena Landau", "runs")
    register_as_delegate(new_context(**PHONE), links["Kaiserslautern"], "Kai Lautern", "interested")
    board = new_context(**SCREEN).new_page()
    board.goto(f"/e/{SLUG}/board/screen")
    for town in ("Landau in der Pfalz", "Kaiserslautern"):
        expect(board.locator(f'svg#board-svg .bd-node[data-city="{town}"]')).to_have_count(1)
    expect(board.locator('svg#board-svg path.bd-link[data-cities="Kaiserslautern|Landau in der Pfalz"]')).to_have_count(
        1
    )
    (lx, ly), (kx, ky) = node_position(board, "Landau in der Pfalz"), node_position(board, "Kaiserslautern")
    assert lx > kx and ly > ky, ((lx, ly), (kx, ky))
    screenshot(board, "organiser-board-map")

    # The door account checks a guest in, and sees only its event's door.
    codes = page.request.get(f"/api/v1/events/{SLUG}/guests?q=Zita").json()["guests"]
    door = new_context(**PHONE)
    door_page = door.new_page()
    log_in(door_page, "tuer-trier", door_password)
    scanner = open_scanner(door, f"/staff/e/{SLUG}/scan")
    type_code(scanner, codes[0]["code"])
    expect(scanner.locator("#last")).to_have_attribute("data-result", "ok")
    expect(scanner.locator("#last")).to_contain_text("Zita Brücken")
    assert scanner.request.get(f"/api/v1/events/{SLUG}/stats").json()["checked_in"] == 1
    assert scanner.request.get(f"/staff/e/{SLUG}/guests", max_redirects=0).status == 403

    # Prepare the next meeting from this one: rooms, topics, municipalities and their answers come along.
    page.goto("/staff/")
    screenshot(page, "organiser-start-page")
    with page.expect_navigation():
        page.get_by_role(
            "link", name=re.compile(r"Nächstes Treffen vorbereiten\s*:\s*Netzwerktreffen Trier 2019")
        ).click()
    expect(page.locator("h1")).to_have_text("Nächstes Treffen vorbereiten")
    screenshot(page, "organiser-event-settings", full_page=True)
    create_event(page, "Netzwerktreffen Speyer 2020", "speyer-2020", "2020-06-10", copy_from=SLUG)
    expect(page.locator("#rooms")).to_contain_text("Ratssaal")
    expect(page.locator("#topics")).to_contain_text("Smart Parking")
    page.goto("/staff/e/speyer-2020/municipalities")
    table = page.locator("table")
    for town in TOWNS:
        expect(table).to_contain_text(town)
    expect(table.locator("tr", has_text="Landau in der Pfalz")).to_contain_text(
        "Angaben von „Netzwerktreffen Trier 2019“, noch zu bestätigen"
    )
