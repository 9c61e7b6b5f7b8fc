"""Guests: self-registration (German and English, errors in the form, nothing created on bad input), the
staff guest pages (list, search, add, edit, cancel/restore with CSRF), the attendance CSV, access control."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, make_staff
from webapp.checkin import guests
from webapp.checkin.models import Guest
from webapp.core.extensions import db
from webapp.core.models import Event

REGISTER = f"/e/{SLUG}/register"


def the_event():
    return db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()


def guest_count():
    return db.session.scalar(select(func.count(Guest.id)))


def valid(**extra):
    return {
        "name": "Erika Mustermann",
        "municipality": "Trier",
        "organisation": "Stadtverwaltung Trier",
        "role": "Digitalisierungsbeauftragte",
        "email": "erika@trier.example",
        "consent": "y",
        **extra,
    }


# ---- registration ------------------------------------------------------------------------------------


def test_registration_form_in_german(web):
    r = web.get(REGISTER)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert '<html lang="de">' in body and "Anmeldung" in body
    assert "Ich bin mit der Verarbeitung meiner Angaben für diese Veranstaltung einverstanden" in body
    assert "Andere Teilnehmende dürfen mich als Ansprechpartner sehen" in body
    assert "Nach der Veranstaltung werden Ihre Angaben gelöscht" in body
    # Municipalities of the event, host first, then "Andere Kommune".
    options = re.findall(r'<option[^>]*value="([^"]*)"', body)
    assert options[0] == "" and options[1] == "Kaiserslautern" and options[-1] == "__other__"
    assert "Zweibrücken" in options and "Neustadt an der Weinstraße" in options
    # Every input has a label.
    for input_id in re.findall(r'<(?:input|select)[^>]*id="([^"]+)"', body):
        if input_id != "csrf_token":
            assert f'for="{input_id}"' in body, input_id
    assert 'autocomplete="name"' in body and 'type="email"' in body


def test_registration_form_in_english(web):
    body = web.get(REGISTER + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "I agree to my details being processed for this event" in body
    assert "Other municipality" in body and "Register and get my ticket" in body
    assert "einverstanden" not in body


def test_registration_creates_a_guest_and_opens_the_ticket(client):
    r = client.post(REGISTER, data=valid(consent_contact="y"))
    assert r.status_code == 302
    token = re.fullmatch(r"/t/([A-Za-z0-9_-]{43})", r.location).group(1)
    guest = guests.guest_by_token(token)
    assert guest.name == "Erika Mustermann" and guest.city == "Trier"
    assert guest.municipality is not None and guest.municipality.name == "Trier"
    assert guest.source == "self" and guest.status == "registered" and guest.consent_contact is True
    assert guest.email == "erika@trier.example" and guest.role == "Digitalisierungsbeauftragte"
    page = client.get(r.location)
    assert page.status_code == 200 and "Sie sind angemeldet" in page.get_data(as_text=True)


def test_registration_with_another_municipality_and_no_contact_consent(client):
    r = client.post(REGISTER, data=valid(municipality="__other__", other_city="Landau in der Pfalz", email=""))
    assert r.status_code == 302
    guest = db.session.execute(select(Guest)).scalar_one()
    assert guest.city == "Landau in der Pfalz" and guest.municipality is None
    assert guest.consent_contact is False and guest.email == ""
    # The free text of a listed town is linked to it.
    client.post(REGISTER, data=valid(name="Max", municipality="__other__", other_city="  mayen "))
    assert db.session.execute(select(Guest).filter_by(name="Max")).scalar_one().city == "Mayen"


@pytest.mark.parametrize(
    "data, field, message",
    [
        (valid(name="  "), "name", "Bitte geben Sie Ihren Namen an."),
        (valid(consent=""), "consent", "Ohne diese Einwilligung ist keine Anmeldung möglich."),
        (valid(municipality=""), "municipality", "Bitte wählen Sie Ihre Kommune."),
        (valid(municipality="Atlantis"), "municipality", None),
        (valid(municipality="__other__", other_city=""), "other_city", "Bitte geben Sie den Namen Ihrer Kommune an."),
        (valid(email="not-an-address"), "email", "Das ist keine gültige E-Mail-Adresse."),
        (valid(name="x" * 201), "name", None),
        (valid(role="x" * 201), "role", None),
    ],
)
def test_invalid_registration_shows_errors_and_creates_nothing(client, data, field, message):
    r = client.post(REGISTER, data=data)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert f'id="{field}-err"' in body and "Bitte prüfen Sie die markierten Angaben" in body
    if message:
        assert message in body
    assert guest_count() == 0


def test_registration_errors_in_english(web):
    body = web.post(REGISTER + "?lang=en", data=valid(consent="")).get_data(as_text=True)
    assert "Registration is not possible without this consent." in body


def test_registration_of_unknown_event_is_404(client):
    assert client.get("/e/nope/register").status_code == 404
    assert client.post("/e/nope/register", data=valid()).status_code == 404


def test_registration_needs_the_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post(REGISTER, data=valid())
    assert r.status_code in (400, 422) and guest_count() == 0
    page = client.get(REGISTER).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(REGISTER, data=valid(csrf_token=token)).status_code == 302
    assert guest_count() == 1


# ---- staff guest pages ------------------------------------------------------------------------------


@pytest.fixture
def admin(client):
    make_staff("ops", password="pw-1")
    client.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    return client


def add(name, city="Trier", **fields):
    return guests.create_guest(the_event(), {"name": name, "city": city, **fields})


def test_guest_list_with_counts_search_and_status(admin, auth):
    erika, max_, _ = add("Erika Mustermann"), add("Max Muster", "Mayen"), add("Olga Ohne", "Koblenz")
    guests.update_guest(the_event(), max_, {"status": "cancelled"})
    admin.post(f"/api/v1/events/{SLUG}/checkins", json={"code": erika.code, "nonce": "n1"}, headers=auth)

    r = admin.get(f"/staff/e/{SLUG}/guests")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    body = r.get_data(as_text=True)
    assert "<strong>2</strong> angemeldet" in body and "<strong>1</strong> eingecheckt" in body
    assert "<strong>1</strong> storniert" in body
    assert all(n in body for n in ("Erika Mustermann", "Max Muster", "Olga Ohne"))
    assert re.search(r"eingecheckt</span>.*?\d\d:\d\d", body, re.S)
    assert f"/staff/e/{SLUG}/guests/{erika.id}/edit" in body

    body = admin.get(f"/staff/e/{SLUG}/guests?q=muster").get_data(as_text=True)
    assert "Erika Mustermann" in body and "Max Muster" in body and "Olga Ohne" not in body
    body = admin.get(f"/staff/e/{SLUG}/guests?q={erika.code.lower()}").get_data(as_text=True)
    assert "Erika Mustermann" in body and "Max Muster" not in body
    body = admin.get(f"/staff/e/{SLUG}/guests?status=open").get_data(as_text=True)
    assert "Olga Ohne" in body and "Erika Mustermann" not in body and "Max Muster" not in body
    body = admin.get(f"/staff/e/{SLUG}/guests?status=cancelled").get_data(as_text=True)
    assert "Max Muster" in body and "Olga Ohne" not in body
    assert admin.get(f"/staff/e/{SLUG}/guests?status=bogus").status_code == 200


def test_add_and_edit_guest(admin):
    r = admin.post(
        f"/staff/e/{SLUG}/guests/new",
        data={"name": "Neu Gast", "city": "zweibrücken", "organisation": "Stadt", "role": "IT"},
    )
    assert r.status_code == 302
    guest = db.session.execute(select(Guest).filter_by(name="Neu Gast")).scalar_one()
    assert guest.city == "Zweibrücken" and guest.source == "staff"
    assert r.location == f"/staff/e/{SLUG}/guests/{guest.id}/edit"
    body = admin.get(r.location).get_data(as_text=True)
    assert 'value="Neu Gast"' in body and f"{guest.code[:4]} {guest.code[4:]}" in body

    r = admin.post(
        f"/staff/e/{SLUG}/guests/{guest.id}/edit",
        data={"name": "Neu Gast-Geändert", "city": "Ludwigshafen", "email": "a@b.example", "consent_contact": "y"},
    )
    assert r.status_code == 302
    db.session.refresh(guest)
    assert guest.name == "Neu Gast-Geändert" and guest.city == "Ludwigshafen" and guest.consent_contact

    r = admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/edit", data={"name": "", "city": "Trier"})
    assert r.status_code == 422 and "Bitte einen Namen angeben." in r.get_data(as_text=True)
    r = admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/edit", data={"name": "X", "email": "kaputt"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "„kaputt“ ist keine E-Mail-Adresse." in body
    # at the E-Mail field, not under the name
    assert '<span class="error" id="email-err">„kaputt“ ist keine E-Mail-Adresse.</span>' in body
    db.session.refresh(guest)
    assert guest.name == "Neu Gast-Geändert"
    assert admin.get(f"/staff/e/{SLUG}/guests/99999/edit").status_code == 404


def test_cancel_and_restore(admin):
    guest = add("Erika")
    r = admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/cancel", data={"confirm": "1"})
    assert r.status_code == 302 and r.location == f"/staff/e/{SLUG}/guests"
    db.session.refresh(guest)
    assert guest.status == "cancelled"
    r = admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/restore", data={"next": f"/staff/e/{SLUG}/guests?q=Erika"})
    assert r.location == f"/staff/e/{SLUG}/guests?q=Erika"
    db.session.refresh(guest)
    assert guest.status == "registered"
    r = admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/cancel", data={"confirm": "1", "next": "https://evil.example/"})
    assert r.location == f"/staff/e/{SLUG}/guests"


def test_cancel_needs_the_csrf_token(app, admin):
    guest = add("Erika")
    app.config["WTF_CSRF_ENABLED"] = True
    admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/cancel", data={"confirm": "1"})
    db.session.refresh(guest)
    assert guest.status == "registered"
    body = admin.get(f"/staff/e/{SLUG}/guests/{guest.id}/cancel").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', body).group(1)
    admin.post(f"/staff/e/{SLUG}/guests/{guest.id}/cancel", data={"csrf_token": token, "confirm": "1"})
    db.session.refresh(guest)
    assert guest.status == "cancelled"


# ---- attendance export ------------------------------------------------------------------------------


def test_attendance_csv_for_german_excel(admin, auth):
    erika = add("Erika Mustermann", "Zweibrücken", organisation="Stadtverwaltung", role="CDO")
    add("Bernd Beispiel", "Neustadt an der Weinstraße")
    gone = add('=HYPERLINK("x")', "Trier")
    guests.update_guest(the_event(), gone, {"status": "cancelled"})
    admin.post(f"/api/v1/events/{SLUG}/checkins", json={"code": erika.code, "nonce": "n1"}, headers=auth)

    r = admin.get(f"/staff/e/{SLUG}/attendance.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"] and r.headers["Cache-Control"] == "private, no-store"
    assert r.data.startswith(b"\xef\xbb\xbf")
    text = r.data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:8] == ["Name", "Kommune", "Organisation", "Funktion", "Code", "Status", "Eingecheckt um", "Gerät"]
    assert rows[0][8:] == ["Anrede", "Titel", "Vorname", "Nachname"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(rows) == 4
    row = by_name["Erika Mustermann"]
    assert row[1:6] == ["Zweibrücken", "Stadtverwaltung", "CDO", erika.code, "eingecheckt"]
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", row[6]) and row[7] == "admin-test"
    assert by_name["Bernd Beispiel"][1] == "Neustadt an der Weinstraße"
    assert by_name["Bernd Beispiel"][5:8] == ["angemeldet", "", ""]
    assert by_name['\'=HYPERLINK("x")'][5] == "storniert"  # no formula for Excel to run
    # Sorted by municipality, then name.
    assert [r[1] for r in rows[1:]] == ["Neustadt an der Weinstraße", "Trier", "Zweibrücken"]


# ---- access -------------------------------------------------------------------------------------------


def my_staff_urls(guest_id):
    base = f"/staff/e/{SLUG}"
    return [
        ("GET", f"{base}/guests"),
        ("GET", f"{base}/guests/new"),
        ("POST", f"{base}/guests/new"),
        ("GET", f"{base}/guests/{guest_id}/edit"),
        ("POST", f"{base}/guests/{guest_id}/edit"),
        ("GET", f"{base}/guests/{guest_id}/cancel"),
        ("POST", f"{base}/guests/{guest_id}/cancel"),
        ("POST", f"{base}/guests/{guest_id}/restore"),
        ("GET", f"{base}/attendance.csv"),
        ("GET", f"{base}/guests/import"),
        ("POST", f"{base}/guests/import"),
        ("POST", f"{base}/guests/import/confirm"),
        ("POST", f"{base}/guests/import/cancel"),
        ("GET", f"{base}/tickets/print"),
        ("GET", f"{base}/tickets/print?size=badge"),
    ]


def test_staff_guest_pages_refuse_anonymous_and_scanner_accounts(client):
    guest = add("Erika")
    for method, url in my_staff_urls(guest.id):
        r = client.open(url, method=method)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), (method, url)
    make_staff("door", role="scanner", password="pw-2")
    client.post("/staff/login", data={"name": "door", "password": "pw-2"})
    for method, url in my_staff_urls(guest.id):
        assert client.open(url, method=method).status_code == 403, (method, url)
    db.session.refresh(guest)
    assert guest.status == "registered"


def test_staff_guest_pages_in_english(web):
    make_staff("ops", password="pw-1")
    web.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    body = web.get(f"/staff/e/{SLUG}/guests?lang=en").get_data(as_text=True)
    assert "Guest list" in body and "checked in" in body and "Gästeliste" not in body


def test_guest_list_shows_a_bounded_number_of_rows(admin, monkeypatch):
    from webapp.checkin import staff_guests

    monkeypatch.setattr(staff_guests, "LIST_LIMIT", 2)
    for name in ("Anna", "Bert", "Cleo"):
        add(name)
    body = admin.get(f"/staff/e/{SLUG}/guests").get_data(as_text=True)
    assert "3 von 3 Gästen" in body and "die ersten 2" in body
    assert "Anna" in body and "Bert" in body and "Cleo" not in body
    assert "Cleo" in admin.get(f"/staff/e/{SLUG}/guests?q=cleo").get_data(as_text=True)
