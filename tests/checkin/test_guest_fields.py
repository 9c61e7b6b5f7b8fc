"""Guests, office-grade: Anrede, title, given and family name (composed into the printed name, sorting by
family name) through the API, the staff form and the CSV import (as Excel writes it); the duplicate warning
on manual add; cancelling only after a confirmation; staff notes that no guest ever sees; the guest list's
mail-state filter read from the outbox."""

import csv
import io
import itertools
import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.helpers import SLUG, add_guest, app_on_copy, make_staff, signed_in
from webapp.checkin import csv_import, guests
from webapp.checkin.models import Guest
from webapp.core.errors import DomainError
from webapp.core.events import get_event
from webapp.core.extensions import db
from webapp.mail.models import OutboxMessage

BASE = f"/staff/e/{SLUG}"
NOTE = "Nicht neben Herrn B. setzen (vertraulich)"
MESSAGE_IDS = itertools.count(1)
pytestmark = pytest.mark.usefixtures("app")  # the demo event in a fresh database, app context open


def guest_count():
    return db.session.scalar(select(func.count(Guest.id)))


def fresh(guest_id):
    db.session.expire_all()
    return db.session.get(Guest, guest_id)


@pytest.fixture
def office(app):
    make_staff("buero", password="pw-buero", quick=True)
    return signed_in(app, "buero", "pw-buero")


def create(name=None, city="Trier", **fields):
    data = {"city": city, **fields}
    if name is not None:
        data["name"] = name
    return guests.create_guest(get_event(SLUG), guests.parse_guest(data))


# ---- parts, composition, sorting ---------------------------------------------------------------------


def test_name_is_composed_from_its_parts_and_kept_when_given(app):
    clean = guests.parse_guest(
        {"salutation": "frau", "title": "Dr.", "given_name": " Käthe ", "family_name": "Muster", "city": "Trier"}
    )
    assert clean["name"] == "Dr. Käthe Muster" and clean["salutation"] == "Frau"
    assert clean["given_name"] == "Käthe" and clean["family_name"] == "Muster"
    # A name given as well wins; a name alone keeps the parts empty.
    assert guests.parse_guest({"name": "Käthe Muster-Groß", "family_name": "Muster"})["name"] == "Käthe Muster-Groß"
    only = create("Erika Mustermann")
    assert (only.given_name, only.family_name, only.title, only.salutation) == ("", "", "", "")
    assert [guests.normalise_salutation(s) for s in ("Hr.", "MRS", "-", "keine", "Familie")] == [
        "Herr",
        "Frau",
        "",
        "Divers",
        "Familie",
    ]
    with pytest.raises(DomainError) as exc:
        guests.parse_guest({"title": "Dr.", "city": "Trier"})  # a title is no name
    assert exc.value.message == "Bitte einen Namen angeben (oder Vor- und Nachname)." and exc.value.details == {
        "field": "name"
    }
    with pytest.raises(DomainError) as exc:
        guests.parse_guest({"name": "X", "title": "D" * 41})
    assert exc.value.message == "„Titel“ darf höchstens 40 Zeichen lang sein." and exc.value.details["field"] == "title"
    with pytest.raises(DomainError) as exc:
        guests.parse_guest({"name": "X", "notes": "n" * (guests.NOTES_MAX + 1)})
    assert exc.value.message == f"„Notizen“ darf höchstens {guests.NOTES_MAX} Zeichen lang sein."
    assert guests.parse_guest({"name": "X", "notes": "Zeile 1\n  Zeile 2  "})["notes"] == "Zeile 1\n  Zeile 2"


@pytest.mark.parametrize(
    "name, family, given",
    [
        ("Dr. Käthe Muster", "Muster", "Käthe"),
        ("Prof. Dr. Hans von Berg", "Berg", "Hans"),
        ("Dr.-Ing. Jörg Weiß", "Weiß", "Jörg"),
        ("Frau Dr. med. Anna Zahn", "Zahn", "Anna"),
        ("Müller, Hans", "Müller", "Hans"),
        ("Käthe Muster, M.A.", "Muster", "Käthe"),
        ("Erika", "Erika", ""),
    ],
)
def test_sorting_name_of_a_printed_name(name, family, given):
    assert guests.name_for_sorting(name) == (family, given)


def test_sort_key_uses_the_family_name_first(app):
    event = get_event(SLUG)
    made = [
        create("Dr. Käthe Muster"),
        create(title="Prof. Dr.", given_name="Hans", family_name="von Berg"),
        create("Anna Zahn"),
        create(given_name="Bernd", family_name="Abel"),
        create("Zoe Ärmel"),  # Ä as "Ae", before B
        create(given_name="Anton", family_name="Muster"),
    ]
    assert [g.name for g in sorted(made, key=guests.sort_key)] == [
        "Bernd Abel",
        "Zoe Ärmel",
        "Prof. Dr. Hans von Berg",
        "Anton Muster",
        "Dr. Käthe Muster",
        "Anna Zahn",
    ]
    assert [g.name for g in guests.all_guests(event)] == [g.name for g in sorted(made, key=guests.sort_key)]


# ---- API --------------------------------------------------------------------------------------------


def test_api_takes_and_gives_the_new_fields(client, auth):
    r = client.post(
        f"/api/v1/events/{SLUG}/guests",
        json={
            "salutation": "Frau",
            "title": "Dr.",
            "given_name": "Käthe",
            "family_name": "Muster",
            "city": "Trier",
            "notes": NOTE,
            "language": "en",
        },
        headers=auth,
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    assert created["name"] == "Dr. Käthe Muster" and {"id", "token", "code", "ticket_url"} <= set(created)
    found = client.get(f"/api/v1/events/{SLUG}/guests?q=muster", headers=auth).get_json()["guests"]
    assert len(found) == 1
    guest = found[0]
    assert {k: guest[k] for k in ("name", "salutation", "title", "given_name", "family_name", "language")} == {
        "name": "Dr. Käthe Muster",
        "salutation": "Frau",
        "title": "Dr.",
        "given_name": "Käthe",
        "family_name": "Muster",
        "language": "en",
    }
    assert guest["notes"] == NOTE  # organisers see their notes
    # The printed name follows changed parts while it is the composed one …
    r = client.patch(f"/api/v1/events/{SLUG}/guests/{created['id']}", json={"family_name": "Muster-Groß"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["guest"]["name"] == "Dr. Käthe Muster-Groß"
    # … and stays as written once it is another form.
    r = client.patch(f"/api/v1/events/{SLUG}/guests/{created['id']}", json={"name": "Käthe Muster-Groß"}, headers=auth)
    r = client.patch(f"/api/v1/events/{SLUG}/guests/{created['id']}", json={"title": "Prof. Dr."}, headers=auth)
    assert r.get_json()["guest"]["name"] == "Käthe Muster-Groß" and r.get_json()["guest"]["title"] == "Prof. Dr."
    # An emptied name is made of the parts again.
    r = client.patch(
        f"/api/v1/events/{SLUG}/guests/{created['id']}", json={"name": "", "given_name": "Kä"}, headers=auth
    )
    assert r.get_json()["guest"]["name"] == "Prof. Dr. Kä Muster-Groß"
    for bad in ({"language": "fr"}, {"salutation": "x" * 21}, {"name": ""}, {"anrede": "Frau"}):
        r = client.patch(f"/api/v1/events/{SLUG}/guests/{created['id']}", json=bad, headers=auth)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid", bad


# ---- CSV import as Excel writes it -------------------------------------------------------------------

EXCEL_ROWS = [
    "Anrede;Titel;Vorname;Nachname;Kommune;Behörde;Funktion;E-Mail;Bemerkung",
    "Frau;Dr.;Käthe;Muster;Trier;Stadtverwaltung Trier;Digitalisierung;kaethe@trier.example;Rollstuhlplatz",
    "Herr;;Jörg;Weiß;Zweibrücken;Amt für Wirtschaftsförderung;Leitung;;",
    "Herr;Prof. Dr.;Hans;von Berg;Mayen;;;;",
    "Frau;;Anna;Ärmel;Koblenz;;;;",
]


@pytest.mark.parametrize("encoding, bom", [("utf-8", True), ("cp1252", False)])
def test_csv_from_excel_maps_the_german_columns_and_sorts_by_family_name(encoding, bom):
    data = ("\r\n".join(EXCEL_ROWS) + "\r\n").encode(encoding)
    data = b"\xef\xbb\xbf" + data if bom else data
    event = get_event(SLUG)
    preview = csv_import.parse(data, event)
    assert preview.encoding == ("UTF-8 (BOM)" if bom else "Windows-1252") and preview.delimiter == ";"
    assert [key for _, key in preview.columns] == [
        "salutation",
        "title",
        "given_name",
        "family_name",
        "city",
        "organisation",
        "role",
        "email",
        "notes",
    ]
    first = preview.rows[0].fields
    assert first["name"] == "Dr. Käthe Muster" and first["salutation"] == "Frau" and first["title"] == "Dr."
    assert first["given_name"] == "Käthe" and first["family_name"] == "Muster" and first["notes"] == "Rollstuhlplatz"
    assert csv_import.apply(event, preview)["imported"] == 4
    assert [g.name for g in guests.all_guests(event)] == [
        "Anna Ärmel",
        "Prof. Dr. Hans von Berg",
        "Dr. Käthe Muster",  # under M, not under D
        "Jörg Weiß",
    ]
    kaethe = db.session.execute(select(Guest).filter_by(family_name="Muster")).scalar_one()
    assert kaethe.notes == "Rollstuhlplatz" and kaethe.source == "import" and kaethe.badge_code


def test_csv_headers_in_english_and_any_case_or_umlaut_spelling():
    header = "SALUTATION,First name,Surname,Title,Town,Behoerde,E-Mail-Adresse,Sprache"
    preview = csv_import.parse(f"{header}\nMs,Jane,Doe,,Trier,City,jane@example.org,English\n".encode())
    assert [key for _, key in preview.columns] == [
        "salutation",
        "given_name",
        "family_name",
        "title",
        "city",
        "organisation",
        "email",
        "language",
    ]
    fields = preview.rows[0].fields
    assert fields["name"] == "Jane Doe" and fields["salutation"] == "Frau" and fields["language"] == "en"
    for header in ("Familienname;Vorname", "nachname;VORNAME", "Last name;Given name", "last_name;firstname"):
        preview = csv_import.parse(f"{header}\nMuster;Käthe\n".encode())
        assert preview.rows[0].fields["name"] == "Käthe Muster", header
        assert preview.rows[0].fields["family_name"] == "Muster", header
    # A Name column next to the parts: the name as written, the parts kept.
    preview = csv_import.parse("Name;Vorname;Nachname\nKäthe Muster-Groß;Käthe;Muster\n".encode())
    assert preview.rows[0].fields["name"] == "Käthe Muster-Groß" and preview.rows[0].fields["given_name"] == "Käthe"
    # An unknown language is a bad row, with the field's message.
    preview = csv_import.parse("Name;Sprache\nKäthe Muster;Klingonisch\n".encode())
    assert preview.rows[0].error == "„Sprache“ muss einer dieser Werte sein: de, en"


def test_import_preview_shows_the_name_parts(office):
    data = ("\r\n".join(EXCEL_ROWS) + "\r\n").encode("cp1252")
    r = office.post(
        f"{BASE}/guests/import", data={"file": (io.BytesIO(data), "gaeste.csv")}, content_type="multipart/form-data"
    )
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "Anrede → Anrede" in body and "Nachname → Nachname" in body and "Bemerkung → Notizen" in body
    head = re.search(r"<thead>(.*?)</thead>", body, re.S).group(1)
    assert [re.sub("<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>.*?</th>", head)][:7] == [
        "Zeile",
        "Name",
        "Anrede",
        "Titel",
        "Vorname",
        "Nachname",
        "Notizen",
    ]
    assert "<td>Dr. Käthe Muster</td><td>Frau</td><td>Dr.</td><td>Käthe</td><td>Muster</td>" in body
    assert guest_count() == 0


# ---- the staff form: parts, notes, duplicates --------------------------------------------------------


def form(**fields):
    return {"salutation": "", "title": "", "given_name": "", "family_name": "", "name": "", "city": "Trier", **fields}


def test_form_composes_the_name_and_keeps_notes(office):
    body = office.get(f"{BASE}/guests/new").get_data(as_text=True)
    for label in ("Anrede", "Titel", "Vorname", "Nachname", "Name wie gedruckt", "Notizen (nur für das Team)"):
        assert label in body, label
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', body)
    assert options[:4] == [("", "—"), ("Frau", "Frau"), ("Herr", "Herr"), ("Divers", "Divers/keine")]

    r = office.post(
        f"{BASE}/guests/new",
        data=form(salutation="Frau", title="Dr.", given_name="Käthe", family_name="Muster", notes=NOTE),
    )
    assert r.status_code == 302
    guest = db.session.execute(select(Guest).filter_by(family_name="Muster")).scalar_one()
    assert guest.name == "Dr. Käthe Muster" and guest.salutation == "Frau" and guest.notes == NOTE
    body = office.get(r.location).get_data(as_text=True)
    assert 'value="Dr. Käthe Muster"' in body and NOTE in body
    assert re.search(r'<option selected value="Frau">|<option value="Frau" selected>', body)

    # Another family name: the derived name follows; a name written in another form stays.
    r = office.post(r.location, data=form(title="Dr.", given_name="Käthe", family_name="Groß", name="Dr. Käthe Muster"))
    assert r.status_code == 302 and fresh(guest.id).name == "Dr. Käthe Groß"
    r = office.post(
        f"{BASE}/guests/{guest.id}/edit",
        data=form(title="Dr.", given_name="Käthe", family_name="Groß", name="Käthe Groß (Bürgermeisterin)"),
    )
    assert fresh(guest.id).name == "Käthe Groß (Bürgermeisterin)"
    r = office.post(f"{BASE}/guests/new", data=form(title="Dr."))
    assert r.status_code == 422 and "Bitte einen Namen angeben." in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Jemand Anders", "email": "ERIKA@trier.example"},  # the same address
        {"given_name": "erika", "family_name": "MUSTER-mann", "city": "trier"},  # the same name and town
    ],
)
def test_duplicate_warning_creates_nothing_until_confirmed(office, fields):
    erika = create("Erika Mustermann", email="erika@trier.example")
    before = guest_count()
    r = office.post(f"{BASE}/guests/new", data=form(**fields))
    assert r.status_code == 409
    body = r.get_data(as_text=True)
    assert "Diesen Gast gibt es vielleicht schon" in body and "Es wurde noch nichts angelegt" in body
    assert f'href="{BASE}/guests/{erika.id}/edit">Erika Mustermann</a>' in body
    assert 'name="confirm_duplicate" value="y"' in body and "Trotzdem anlegen" in body
    assert guest_count() == before
    r = office.post(f"{BASE}/guests/new", data=form(**fields, confirm_duplicate="y"))
    assert r.status_code == 302 and guest_count() == before + 1


def test_no_duplicate_warning_for_the_same_name_in_another_town(office):
    create("Erika Mustermann")
    r = office.post(f"{BASE}/guests/new", data=form(name="Erika Mustermann", city="Mayen"))
    assert r.status_code == 302 and guest_count() == 2


# ---- cancelling asks first ---------------------------------------------------------------------------


def test_cancel_needs_the_confirmation_post(app, office):
    guest = create("Dr. Käthe Muster")
    list_page = office.get(f"{BASE}/guests").get_data(as_text=True)
    assert f'href="{BASE}/guests/{guest.id}/cancel?next=' in list_page  # a link to the question, not a form
    r = office.get(f"{BASE}/guests/{guest.id}/cancel?next={BASE}/guests?q=Muster")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Soll die Anmeldung von „Dr. Käthe Muster“ wirklich storniert werden?" in body
    assert 'name="confirm" value="1"' in body and f'value="{BASE}/guests?q=Muster"' in body
    assert fresh(guest.id).status == "registered"
    # A POST without the confirmation (an old page, a single click) only asks.
    r = office.post(f"{BASE}/guests/{guest.id}/cancel")
    assert r.status_code == 200 and "wirklich storniert" in r.get_data(as_text=True)
    assert fresh(guest.id).status == "registered"
    # Without the CSRF token nothing happens either.
    app.config["WTF_CSRF_ENABLED"] = True
    office.post(f"{BASE}/guests/{guest.id}/cancel", data={"confirm": "1"})
    assert fresh(guest.id).status == "registered"
    body = office.get(f"{BASE}/guests/{guest.id}/cancel").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', body).group(1)
    r = office.post(
        f"{BASE}/guests/{guest.id}/cancel",
        data={"csrf_token": token, "confirm": "1", "next": f"{BASE}/guests?q=Muster"},
    )
    assert r.status_code == 302 and r.location == f"{BASE}/guests?q=Muster"
    assert fresh(guest.id).status == "cancelled"


# ---- notes stay with the staff -----------------------------------------------------------------------


def test_notes_never_reach_the_guest_or_the_door(app, client, auth):
    made = add_guest(client, auth, name="Dr. Käthe Muster", city="Trier", notes=NOTE, email="k@trier.example")
    token = made["token"]
    pages = [
        f"/t/{token}",
        f"/t/{token}/print?size=a4",
        f"/t/{token}/print?size=badge",
        f"/api/v1/t/{token}/interests",
        f"/api/v1/events/{SLUG}/checkin-list",
    ]
    for url in pages:
        r = client.get(url, headers=auth if "checkin-list" in url else {})
        assert r.status_code in (200, 409), (url, r.status_code)
        assert NOTE not in r.get_data(as_text=True) and "vertraulich" not in r.get_data(as_text=True), url
    _, door = make_staff("door", role="scanner", quick=True)
    door_auth = {"Authorization": f"Bearer {door}"}
    r = client.get(f"/api/v1/events/{SLUG}/guests?q=Muster", headers=door_auth)
    assert r.status_code == 200 and r.get_json()["guests"] and "vertraulich" not in r.get_data(as_text=True)
    r = client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": made["code"], "nonce": "n-1"}, headers=door_auth)
    assert r.get_json()["result"] == "ok" and "vertraulich" not in r.get_data(as_text=True)
    # The guest's own data export names them (staff notes about a person are that person's data).
    data = client.get(f"/t/{token}/my-data.json").get_json()
    assert data["registration"]["staff_notes"] == NOTE and data["registration"]["title"] == ""


# ---- the guest list: order, mail state, badge link ---------------------------------------------------


def outbox(guest, kind, status):
    db.session.add(
        OutboxMessage(
            event_id=guest.event_id,
            guest_id=guest.id,
            kind=kind,
            to_address=guest.email or "x@example.org",
            message_id=f"<test-{next(MESSAGE_IDS)}@treffpunkt.test>",
            status=status,
        )
    )
    db.session.commit()


def row_names(body):
    return re.findall(r"<tr class=\"state-[^\"]+\">\s*<td><strong>([^<]+)</strong>", body)


def test_guest_list_sorted_by_family_name_with_mail_state_filter(office):
    sent = create("Prof. Dr. Hans von Berg")  # failed first, then sent: the latest counts
    failed = create(given_name="Bernd", family_name="Abel")  # sent, then moved up and that one failed
    pending = create("Dr. Käthe Muster")
    sending = create("Anna Zahn", city="Mayen")
    nothing = create("Olga Ohne")  # only a message of another kind
    outbox(sent, "ticket", "failed")
    outbox(sent, "ticket", "sent")
    outbox(failed, "ticket", "sent")
    outbox(failed, "moved_up", "failed")
    outbox(pending, "ticket", "pending")
    outbox(sending, "ticket", "sending")
    outbox(nothing, "test", "sent")

    states = guests.mail_states(get_event(SLUG))
    assert states == {sent.id: "sent", failed.id: "failed", pending.id: "pending", sending.id: "pending"}

    body = office.get(f"{BASE}/guests").get_data(as_text=True)
    assert row_names(body) == ["Bernd Abel", "Prof. Dr. Hans von Berg", "Dr. Käthe Muster", "Olga Ohne", "Anna Zahn"]
    labels = re.findall(r'<span class="mail-state (\w+)"><span class="sr-only">[^<]*</span>([^<]+)</span>', body)
    assert labels == [
        ("failed", "fehlgeschlagen"),
        ("sent", "gesendet"),
        ("pending", "Mail ausstehend"),
        ("none", "keine Mail"),
        ("pending", "Mail ausstehend"),
    ]
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', body.split('id="mail"', 1)[1])[:5]
    assert options == [
        ("all", "alle"),
        ("none", "keine Mail"),
        ("pending", "Mail ausstehend"),
        ("sent", "gesendet"),
        ("failed", "fehlgeschlagen"),
    ]
    wanted = {
        "none": ["Olga Ohne"],
        "pending": ["Dr. Käthe Muster", "Anna Zahn"],
        "sent": ["Prof. Dr. Hans von Berg"],
        "failed": ["Bernd Abel"],
        "bogus": ["Bernd Abel", "Prof. Dr. Hans von Berg", "Dr. Käthe Muster", "Olga Ohne", "Anna Zahn"],
    }
    for mail, names in wanted.items():
        assert row_names(office.get(f"{BASE}/guests?mail={mail}").get_data(as_text=True)) == names, mail
    assert row_names(office.get(f"{BASE}/guests?mail=pending&q=zahn").get_data(as_text=True)) == ["Anna Zahn"]


def test_exports_sort_by_family_name_within_a_town_and_carry_the_parts(office):
    create(salutation="Frau", title="Dr.", given_name="Käthe", family_name="Muster", email="k@trier.example")
    create("Prof. Dr. Hans von Berg", email="h@trier.example")
    create(salutation="Herr", given_name="Bernd", family_name="Abel", city="Mayen", email="b@mayen.example")

    def rows(url):
        text = office.get(url).get_data().decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))

    attendance = rows(f"{BASE}/attendance.csv")
    assert [r["Name"] for r in attendance] == ["Bernd Abel", "Prof. Dr. Hans von Berg", "Dr. Käthe Muster"]
    assert (
        attendance[2]["Anrede"] == "Frau" and attendance[2]["Titel"] == "Dr." and attendance[2]["Nachname"] == "Muster"
    )
    assert "vertraulich" not in office.get(f"{BASE}/attendance.csv").get_data(as_text=True)
    links = rows(f"{BASE}/ticket-links.csv")
    assert [r["Briefanrede"] for r in links] == [
        "Sehr geehrter Herr Abel",
        "Guten Tag Prof. Dr. Hans von Berg",
        "Sehr geehrte Frau Dr. Muster",
    ]


def test_the_list_renders_without_a_badge_page(app, office):
    create("Dr. Käthe Muster")
    r = office.get(f"{BASE}/guests")
    assert r.status_code == 200
    if "checkin_badges.badge" not in app.view_functions:
        assert ">Namensschild<span" not in r.get_data(as_text=True)


def test_badge_link_with_a_badge_page(demo_database, tmp_path):
    """A fresh app given a badge endpoint before its first request: every guest row links to it."""
    app = app_on_copy(demo_database, tmp_path, name="badge.sqlite3")
    endpoint = "checkin_badges.badge"
    if endpoint not in app.view_functions:
        app.add_url_rule(f"{BASE}/guests/<int:guest_id>/badge-stub", endpoint, lambda slug, guest_id: "badge")
    with app.app_context():
        make_staff("buero", password="pw-buero", quick=True)
        guest = guests.create_guest(get_event(SLUG), {"name": "Dr. Käthe Muster", "city": "Trier"})
        with app.test_request_context():
            link = url_for(endpoint, slug=SLUG, guest_id=guest.id)
        body = signed_in(app, "buero", "pw-buero").get(f"{BASE}/guests").get_data(as_text=True)
        assert f'href="{link}">Namensschild' in body
        db.session.remove()
        db.engine.dispose()
