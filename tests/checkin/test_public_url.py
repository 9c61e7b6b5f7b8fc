"""PUBLIC_URL is the one base of every absolute link and QR code (tickets, the ticket API, pairing, the
invitation links, exports, the board projector's phone line); `make run` on 0.0.0.0 names the LAN
addresses and what to set."""

import pytest

from tests.helpers import SLUG, add_guest, app_on_copy
from webapp.core.extensions import db

PUBLIC = "https://treffpunkt.kaiserslautern.de"


@pytest.fixture
def public_app(demo_database, tmp_path):
    app = app_on_copy(demo_database, tmp_path, PUBLIC_URL=PUBLIC + "/")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_every_absolute_link_is_on_public_url(public_app):
    from tests.helpers import make_staff
    from webapp.checkin import devices, tickets
    from webapp.core.events import get_event

    client = public_app.test_client()
    auth = {"Authorization": f"Bearer {make_staff('pub-admin', quick=True)[1]}"}
    guest = add_guest(client, auth, name="Paula Public", city="Trier")
    assert guest["ticket_url"] == f"{PUBLIC}/t/{guest['token']}"
    from webapp.checkin.models import Guest

    row = db.session.get(Guest, guest["id"])
    with public_app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        assert tickets.ticket_view(row, "QR")["url"] == f"{PUBLIC}/t/{guest['token']}"
        _, code = devices.create_device(get_event(SLUG), "Eingang Süd")
        from webapp.core.urls import external_url

        assert external_url("checkin_scan.pair", code=code).startswith(f"{PUBLIC}/staff/pair/")
    ical = client.get(f"/e/{SLUG}/agenda.ics", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert f"{PUBLIC}/e/{SLUG}/" in ical and "127.0.0.1" not in ical
    screen = client.get(f"/e/{SLUG}/board/screen", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    from webapp.core import qr

    # The projectors' QR codes and addresses in words: the board's, the agenda's (tests/browser/test_screens.py
    # decodes them from the rendered page).
    assert qr.inline_svg(f"{PUBLIC}/e/{SLUG}/board", "").split('d="')[1] in screen
    assert "<span>treffpunkt.kaiserslautern.de/</span><span>e/</span><span>kl-2018/</span><span>board</span>" in screen
    agenda_screen = client.get(f"/e/{SLUG}/screen", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert qr.inline_svg(f"{PUBLIC}/e/{SLUG}/", "").split('d="')[1] in agenda_screen
    assert f'data-phone-url="{PUBLIC}/e/{SLUG}/"' in agenda_screen and "127.0.0.1" not in agenda_screen


def test_without_public_url_links_name_the_request_address(client, auth):
    guest = add_guest(client, auth, name="Lokal Lotte", city="Trier")
    assert guest["ticket_url"] == f"http://localhost/t/{guest['token']}"


@pytest.mark.parametrize("bad", ["treffpunkt.de", "ftp://x.de", "https://", "https://x.de/?a=1"])
def test_a_mistyped_public_url_stops_the_start(demo_database, tmp_path, bad):
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        app_on_copy(demo_database, tmp_path, PUBLIC_URL=bad)


def test_the_start_banner_names_lan_addresses_and_what_to_set():
    from webapp.core.urls import startup_lines

    config = {"HOST": "0.0.0.0", "PORT": 5000, "CERT_FILE": None, "PUBLIC_URL": ""}
    lines = startup_lines(config, [SLUG], "eventlet", ["192.168.1.23", "10.0.0.5"])
    assert "  on the network: http://192.168.1.23:5000" in lines and "  on the network: http://10.0.0.5:5000" in lines
    assert any("set PUBLIC_URL=http://192.168.1.23:5000" in line for line in lines)
    with_public = startup_lines(
        {**config, "PUBLIC_URL": "http://192.168.1.23:5000"}, [SLUG], "eventlet", ["192.168.1.23"]
    )
    assert not any("set PUBLIC_URL" in line for line in with_public)
    assert f"  phones:    http://192.168.1.23:5000/e/{SLUG}/" in with_public
    local = startup_lines({**config, "HOST": "127.0.0.1"}, [], "gevent", [])
    assert local == [
        "Treffpunkt on http://127.0.0.1:5000 (gevent)",
        "  e-mail: off (set SMTP_HOST and MAIL_FROM to send tickets, docs/mail.md)",
        "  staff:     http://127.0.0.1:5000/staff/",
    ]
    mail = startup_lines(
        {**config, "SMTP_HOST": "smtp.kl.example", "SMTP_SECURITY": "starttls", "MAIL_FROM": "t@kl.example"},
        [],
        "eventlet",
        [],
    )
    assert "  e-mail: via smtp.kl.example (starttls) from t@kl.example" in mail


def test_lan_addresses_are_not_loopback():
    from webapp.core.urls import lan_addresses

    assert all(not a.startswith("127.") for a in lan_addresses())


def test_ticket_links_on_the_guest_pages_and_for_a_mail_merge(app, client, auth):
    import csv
    import io

    from tests.helpers import make_staff, signed_in

    make_staff("merge-admin", password="merge-admin-pw", quick=True)
    browser = signed_in(app, "merge-admin", "merge-admin-pw")
    guest = add_guest(client, auth, name="=Formel Frieda", city="Trier", email="frieda@example.org")
    gone = add_guest(client, auth, name="Storno Sven", city="Trier")
    client.patch(f"/api/v1/events/{SLUG}/guests/{gone['id']}", json={"status": "cancelled"}, headers=auth)
    r = browser.get(f"/staff/e/{SLUG}/ticket-links.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and "no-store" in r.headers["Cache-Control"]
    text = r.get_data().decode("utf-8")
    assert text.startswith(
        "\ufeffName;Kommune;Organisation;Funktion;E-Mail;Ticket-Link;Code;Anrede;Titel;Vorname;Nachname;Briefanrede\r\n"
    )
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    frieda = next(row for row in rows if "Formel Frieda" in row[0])
    assert frieda[0] == "'=Formel Frieda"  # never a formula in Excel
    assert (
        frieda[4] == "frieda@example.org"
        and frieda[5] == guest["ticket_url"]
        and frieda[6].replace(" ", "") == guest["code"]
    )
    assert not any("Storno Sven" in row[0] for row in rows)
    page = browser.get(f"/staff/e/{SLUG}/guests/{guest['id']}/edit").get_data(as_text=True)
    assert f'value="{guest["ticket_url"]}"' in page and "Link kopieren" in page
    listing = browser.get(f"/staff/e/{SLUG}/guests").get_data(as_text=True)
    assert f'data-link="{guest["ticket_url"]}"' in listing
