"""Tickets: the QR (decoded with a real decoder, zxing-cpp) names the ticket URL and that text checks the
guest in; the SVG codes (standalone and inline) decode too; /t/ is private; a guest token opens nothing of
the staff's; printable tickets (A4, badge — the badge with the badge code) for one guest and for all."""

import io
import json
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.checkin import guests, tickets
from webapp.core import qr
from webapp.core.extensions import db
from webapp.core.models import Event


def the_event():
    return db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()


def register(client, name="Erika Mustermann", municipality="Trier", **extra):
    data = {
        "name": name,
        "municipality": municipality,
        "organisation": "Stadtverwaltung",
        "role": "CDO",
        "consent": "y",
        **extra,
    }
    r = client.post(f"/e/{SLUG}/register", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    token = re.fullmatch(r"/t/([A-Za-z0-9_-]+)", r.location).group(1)
    return guests.guest_by_token(token)


def ticket_url(guest):
    """What guests.ticket_url(guest, external=True) gives inside a test request (host "localhost")."""
    return f"http://localhost/t/{guest.token}"


def decode(image):
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found"
    return [f.text for f in found]


def scan(client, auth, code):
    return client.post(
        f"/api/v1/events/{SLUG}/checkins", json={"code": code, "nonce": str(uuid.uuid4())}, headers=auth
    ).json


def rasterise(runs, size, scale=8):
    """Draw dark modules [(x, y, w, h)] of a QR `size` modules wide as a black-on-white image."""
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    for x, y, w, h in runs:
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1], fill=0)
    return img


def matrix_of(runs, size):
    m = [[0] * size for _ in range(size)]
    for x, y, w, h in runs:
        for yy in range(y, y + h):
            for xx in range(x, x + w):
                m[yy][xx] = 1
    return tuple(tuple(r) for r in m)


def inline_svg_runs(html):
    """The dark modules of the ticket page's inline <svg class="qr"> (path of "M{x} {y}h{w}v1h-{w}z")."""
    svg = re.search(r'<svg class="qr"[^>]*viewBox="0 0 (\d+) \1"[^>]*>.*?<path fill="#000000" d="([^"]+)"', html, re.S)
    assert svg, "no inline QR svg"
    runs = [(int(x), int(y), int(w), 1) for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg.group(2))]
    return runs, int(svg.group(1))


def svg_file_runs(svg):
    """The dark modules of qrcode's SvgPathImage ("M4,4H5V5H4z" per module), and its viewBox size."""
    size = int(re.search(rb'viewBox="0 0 (\d+) \1"', svg).group(1))
    runs = [
        (int(x), int(y), int(x2) - int(x), int(y2) - int(y))
        for x, y, x2, y2 in re.findall(rb"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg)
    ]
    return runs, size


def png_matrix(png, size):
    img = Image.open(io.BytesIO(png)).convert("L")
    box = img.width // size
    assert img.width == box * size
    return tuple(
        tuple(int(img.getpixel((x * box + box // 2, y * box + box // 2)) < 128) for x in range(size))
        for y in range(size)
    )


# ---- the QR is the ticket ----------------------------------------------------------------------------


def test_registered_guests_qr_decodes_to_the_ticket_url_which_checks_them_in(client, auth):
    guest = register(client)
    url = ticket_url(guest)

    r = client.get(f"/t/{guest.token}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    [text] = decode(Image.open(io.BytesIO(r.data)))
    assert text == url  # read from the image, not from the database

    first = scan(client, auth, text)
    assert first["result"] == "ok" and first["guest"]["name"] == "Erika Mustermann"
    again = scan(client, auth, text)
    assert again["result"] == "already" and again["checked_in_at"] == first["checked_in_at"]
    assert again["by"] == "admin-test"


def test_svg_codes_decode_and_match_the_png(client):
    guest = register(client)
    url = ticket_url(guest)
    expected = qr.matrix(url)
    size = len(expected)

    png = client.get(f"/t/{guest.token}/qr.png").data
    assert png_matrix(png, size) == expected

    svg = client.get(f"/t/{guest.token}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b'fill="white"' in svg.data or b"fill='white'" in svg.data or b"white" in svg.data  # opaque background
    runs, svg_size = svg_file_runs(svg.data)
    assert svg_size == size and matrix_of(runs, size) == expected
    assert decode(rasterise(runs, size)) == [url]

    page = client.get(f"/t/{guest.token}").get_data(as_text=True)
    runs, page_size = inline_svg_runs(page)
    assert page_size == size and matrix_of(runs, size) == expected
    assert decode(rasterise(runs, size)) == [url]


def test_error_correction_m_and_quiet_zone():
    matrix = qr.matrix("http://localhost/t/" + "x" * 43)
    for row in matrix[:4] + matrix[-4:]:
        assert not any(row)
    assert all(not any(r[:4]) and not any(r[-4:]) for r in matrix)
    code = qr.make("abc")
    assert code.error_correction == ERROR_CORRECT_M and code.border == 4
    assert len(matrix) == 17 + 4 * qr.make("http://localhost/t/" + "x" * 43).version + 8
    assert tickets.format_code("ABCDEFGH") == "ABCD EFGH"


# ---- the ticket page ------------------------------------------------------------------------------


def test_ticket_page_shows_qr_code_name_event_and_links(client):
    guest = register(client, name="Anna Beispiel", municipality="Zweibrücken")
    r = client.get(f"/t/{guest.token}")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert '<svg class="qr"' in body and 'role="img"' in body
    assert f"{guest.code[:4]} {guest.code[4:]}" in body
    assert "Anna Beispiel" in body and "Zweibrücken" in body
    assert "Digitales Netzwerktreffen" in body and "26. Oktober 2018" in body
    assert "Bildschirm heller stellen" in body
    assert f'href="/e/{SLUG}/"' in body
    assert f'href="/t/{guest.token}/print?size=a4"' in body
    assert "Eingecheckt um" not in body
    # The favourites come from the embedded agenda (read by static/js/ticket.js with agenda.js's key).
    agenda = re.search(r'<script type="application/json" id="ticket-agenda">(.*?)</script>', body, re.S).group(1)
    first = the_event().sessions[0]
    assert json.loads(agenda)[0] == {
        "id": first.id,
        "title": first.title,
        "start": first.planned_start.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M"),
        "room": first.room.name,
        "cancelled": False,
    }
    assert f'data-slug="{SLUG}"' in body
    # Only our own scripts and styles.
    assert "<script>" not in body and " style=" not in body


def test_ticket_page_after_check_in_and_when_cancelled(client, auth):
    guest = register(client)
    scan(client, auth, guest.code)
    body = client.get(f"/t/{guest.token}").get_data(as_text=True)
    assert re.search(r"Eingecheckt um \d\d:\d\d Uhr", body)

    guests.update_guest(the_event(), guest, {"status": "cancelled"})
    body = client.get(f"/t/{guest.token}").get_data(as_text=True)
    assert "storniert" in body and '<svg class="qr"' not in body


def test_ticket_page_in_english(app, client):
    guest = register(client)
    with app.app_context():
        body = client.get(f"/t/{guest.token}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in body and "Turn up your screen brightness" in body


def test_unknown_token_is_404_and_every_ticket_response_is_private(client):
    for url in (
        "/t/" + "A" * 43,
        "/t/" + "A" * 43 + "/qr.png",
        "/t/" + "A" * 43 + "/qr.svg",
        "/t/" + "A" * 43 + "/print",
        "/t/short",
        "/t/" + "x" * 80,
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.headers["Cache-Control"] == "private, no-store"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "A" * 43 not in r.get_data(as_text=True)
    guest = register(client)
    for suffix in ("", "/qr.png", "/qr.svg", "/print?size=a4", "/print?size=badge"):
        r = client.get(f"/t/{guest.token}{suffix}")
        assert r.status_code == 200, suffix
        assert r.headers["Cache-Control"] == "private, no-store"
        assert r.headers["Referrer-Policy"] == "no-referrer"


# ---- a guest token is not a staff key -------------------------------------------------------------


def test_guest_token_opens_no_staff_page_and_checks_nobody_in(app, client):
    guest = register(client)
    bearer = {"Authorization": f"Bearer {guest.token}"}
    for url in (
        "/staff/",
        f"/staff/e/{SLUG}/",
        f"/staff/e/{SLUG}/guests",
        f"/staff/e/{SLUG}/attendance.csv",
        f"/staff/e/{SLUG}/tickets/print",
        f"/staff/e/{SLUG}/guests/import",
    ):
        r = client.get(url, headers=bearer)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), url
        r = client.get(f"{url}?token={guest.token}")
        assert r.status_code == 302 and r.location.startswith("/staff/login"), url
    # Having opened the ticket page gives no staff session either.
    client.get(f"/t/{guest.token}")
    assert client.get(f"/staff/e/{SLUG}/guests").status_code == 302

    for body in ({"code": guest.token, "nonce": "n1"}, {"code": ticket_url(guest), "nonce": "n2"}):
        r = client.post(f"/api/v1/events/{SLUG}/checkins", json=body, headers=bearer)
        assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    r = client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": guest.code, "nonce": "n3"})
    assert r.status_code == 401
    assert guest.checkin is None


# ---- printing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, css_class", [("a4", "sheet-a4"), ("badge", "sheet-badge"), ("nonsense", "sheet-a4")])
def test_printable_ticket(client, size, css_class):
    guest = register(client, name="Jörg Weinstraße-Müller", municipality="Neustadt an der Weinstraße")
    r = client.get(f"/t/{guest.token}/print?size={size}")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.count(f'class="sheet {css_class}"') == 1
    assert "Jörg Weinstraße-Müller" in body and "Neustadt an der Weinstraße" in body
    assert '<svg class="qr"' in body
    # A badge is worn in view of everyone: no typed code on it (the A4 ticket has it).
    assert (f"{guest.code[:4]} {guest.code[4:]}" in body) == (size != "badge")
    assert "data-print" in body and "css/ticket.css" in body


def test_printed_ticket_carries_the_ticket_url_and_the_badge_only_the_badge_code(client):
    guest = register(client)
    body = client.get(f"/t/{guest.token}/print?size=a4").get_data(as_text=True)
    assert decode(rasterise(*inline_svg_runs(body))) == [ticket_url(guest)]
    body = client.get(f"/t/{guest.token}/print?size=badge").get_data(as_text=True)
    assert decode(rasterise(*inline_svg_runs(body))) == ["TPB-" + guest.badge_code]


@pytest.fixture
def admin(client):
    make_staff("ops", password="pw-1")
    client.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    return client


def test_staff_prints_all_tickets_sorted_by_municipality_then_name(client, admin):
    event = the_event()
    for name, city in (
        ("Zoe Zander", "Trier"),
        ("Adam Ast", "Trier"),
        ("Berta Bach", "Bad Kreuznach"),
        ("Gone Guest", "Koblenz"),
        ("Nora Nirgends", ""),
    ):
        g = guests.create_guest(event, {"name": name, "city": city})
        if name == "Gone Guest":
            guests.update_guest(event, g, {"status": "cancelled"})
    for size, css_class in (("badge", "sheet-badge"), ("a4", "sheet-a4")):
        r = admin.get(f"/staff/e/{SLUG}/tickets/print?size={size}")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
        body = r.get_data(as_text=True)
        assert body.count(f'class="sheet {css_class}"') == 4
        assert body.count('<svg class="qr"') == 4
        order = [body.index(n) for n in ("Berta Bach", "Adam Ast", "Zoe Zander", "Nora Nirgends")]
        assert order == sorted(order)
        assert "Gone Guest" not in body


def test_print_all_needs_an_admin(client):
    r = client.get(f"/staff/e/{SLUG}/tickets/print")
    assert r.status_code == 302 and r.location.startswith("/staff/login")
    make_staff("door", role="scanner", password="pw-2")
    client.post("/staff/login", data={"name": "door", "password": "pw-2"})
    assert client.get(f"/staff/e/{SLUG}/tickets/print?size=badge").status_code == 403


def test_print_all_comes_in_parts_for_big_events(client, admin, monkeypatch):
    from webapp.checkin import staff_guests

    monkeypatch.setattr(staff_guests, "PRINT_BATCH", 2)
    event = the_event()
    for name in ("Anna", "Bert", "Cleo", "Dora", "Emil"):
        guests.create_guest(event, {"name": name, "city": "Trier"})
    body = admin.get(f"/staff/e/{SLUG}/tickets/print?size=badge").get_data(as_text=True)
    assert body.count('class="sheet sheet-badge"') == 2 and "Anna" in body and "Cleo" not in body
    assert "part=3" in body and "Teil 3 (5–5)" in body
    body = admin.get(f"/staff/e/{SLUG}/tickets/print?size=badge&part=3").get_data(as_text=True)
    assert body.count('class="sheet sheet-badge"') == 1 and "Emil" in body
    for bad in ("0", "99", "x"):
        assert admin.get(f"/staff/e/{SLUG}/tickets/print?part={bad}").status_code == 200
