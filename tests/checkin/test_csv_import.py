"""CSV import of guest lists as town halls export them from Excel: encodings, delimiters, German headers,
bad rows (nothing written unless skipped), duplicates, a file without names; the staff page (upload,
preview, confirm) and `flask --app wsgi guests import`; 2,000- and 5,000-row files."""

import re
import time

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, make_staff
from webapp.checkin import csv_import, guests
from webapp.checkin.cli import guests_cli
from webapp.checkin.models import Guest
from webapp.core.errors import DomainError
from webapp.core.extensions import db
from webapp.core.models import Event

BOM = b"\xef\xbb\xbf"
pytestmark = pytest.mark.usefixtures("app")  # the demo event in a fresh database, app context open


def the_event():
    return db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()


def count():
    return db.session.scalar(select(func.count(Guest.id)))


def names():
    return sorted(db.session.execute(select(Guest.name)).scalars())


def csv_bytes(lines, encoding="utf-8", bom=False, newline="\r\n"):
    data = (newline.join(lines) + newline).encode(encoding)
    return BOM + data if bom else data


GERMAN_EXCEL = [
    "Name;Kommune;Behörde;Funktion;E-Mail;Anrede",
    "Erika Mustermann;Zweibrücken;Stadtverwaltung Zweibrücken;Digitalisierung;erika@zw.example;Frau",
    "Jörg Weiß;Neustadt an der Weinstraße;Amt für Wirtschaftsförderung;Leitung;;Herr",
    '"Müller, Hans";trier;"Dienststelle ""IT""";CIO;hans@trier.example;Herr',
    ";;;;;",
]


# ---- parsing ------------------------------------------------------------------------------------------


def test_utf8_bom_semicolon_german_headers():
    p = csv_import.parse(csv_bytes(GERMAN_EXCEL, bom=True), the_event())
    assert p.encoding == "UTF-8 (BOM)" and p.delimiter == ";" and not p.file_errors
    assert [key for _, key in p.columns] == ["name", "city", "organisation", "role", "email", "salutation"]
    assert p.unknown_headers == []
    assert p.counts() == {"rows": 3, "good": 3, "bad": 0, "duplicates": 0}
    first, second, third = p.rows
    assert first.fields == {
        "name": "Erika Mustermann",
        "city": "Zweibrücken",
        "organisation": "Stadtverwaltung Zweibrücken",
        "role": "Digitalisierung",
        "email": "erika@zw.example",
        "salutation": "Frau",
    }
    assert second.fields["city"] == "Neustadt an der Weinstraße" and second.fields["name"] == "Jörg Weiß"
    assert third.fields["name"] == "Müller, Hans" and third.fields["organisation"] == 'Dienststelle "IT"'
    assert [r.line for r in p.rows] == [2, 3, 4]


def test_cp1252_with_commas_keeps_umlauts():
    lines = [
        "Vorname,Nachname,Stadt,Organisation,Position",
        "Käthe,Groß,Zweibrücken,Stadtwerke,Leiterin",
        "Jürgen,Öztürk,Neustadt an der Weinstraße,Kreisverwaltung,Referent",
        '"Anne-Sophie",Weiß,Eisenberg (Pfalz),"Verbandsgemeinde, Bauamt",Sachbearbeiterin',
    ]
    data = csv_bytes(lines, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    p = csv_import.parse(data, the_event())
    assert p.encoding == "Windows-1252" and p.delimiter == "," and not p.file_errors
    assert [r.fields["name"] for r in p.rows] == ["Käthe Groß", "Jürgen Öztürk", "Anne-Sophie Weiß"]
    assert [r.fields["city"] for r in p.rows] == ["Zweibrücken", "Neustadt an der Weinstraße", "Eisenberg (Pfalz)"]
    assert p.rows[2].fields["organisation"] == "Verbandsgemeinde, Bauamt"
    counts = csv_import.apply(the_event(), p)
    assert counts == {"imported": 3, "skipped_bad": 0, "skipped_duplicates": 0}
    guest = db.session.execute(select(Guest).filter_by(name="Käthe Groß")).scalar_one()
    assert guest.city == "Zweibrücken" and guest.municipality.name == "Zweibrücken" and guest.source == "import"


def test_cp1252_with_semicolon_and_plain_utf8_with_tabs():
    lines = ["NAME ; KOMMUNE ; E-Mail-Adresse", "Ärger Über;Zweibrücken;a@b.example"]
    p = csv_import.parse(csv_bytes(lines, encoding="cp1252"))
    assert (p.encoding, p.delimiter) == ("Windows-1252", ";")
    assert p.rows[0].fields == {
        "name": "Ärger Über",
        "city": "Zweibrücken",
        "organisation": "",
        "role": "",
        "email": "a@b.example",
    }
    p = csv_import.parse(csv_bytes(["Teilnehmer\tOrt\tAmt", "Max Muster\tMayen\tBürgeramt"], newline="\n"))
    assert (p.encoding, p.delimiter) == ("UTF-8", "\t")
    assert p.rows[0].fields["organisation"] == "Bürgeramt" and p.rows[0].fields["city"] == "Mayen"


def test_excel_sep_line_and_utf16():
    p = csv_import.parse(csv_bytes(["sep=,", "Name,City", "Anna,Trier"]))
    assert p.delimiter == "," and p.rows[0].fields["name"] == "Anna" and p.rows[0].line == 3
    data = "Name\tStadt\r\nÖmer Şahin\tKoblenz\r\n".encode("utf-16")
    p = csv_import.parse(data)
    assert p.encoding == "UTF-16" and p.delimiter == "\t" and p.rows[0].fields["name"] == "Ömer Şahin"


def test_delimiter_detection_is_not_fooled_by_commas_in_cells():
    lines = [
        "Name;Organisation;Kommune",
        "Dr. Klaus, Weichel;Stadt Kaiserslautern, Referat 1;Kaiserslautern",
        "Prof. Dr. Dieter Rombach;Stadt, CDO;Kaiserslautern",
    ]
    p = csv_import.parse(csv_bytes(lines))
    assert p.delimiter == ";" and p.rows[0].fields["name"] == "Dr. Klaus, Weichel"


def test_first_and_last_name_columns_are_joined():
    p = csv_import.parse(csv_bytes(["Nachname;Vorname;Gemeinde", "Mustermann;Erika;Mayen", "Solo;;Mayen"]))
    assert [r.fields["name"] for r in p.rows] == ["Erika Mustermann", "Solo"]
    p = csv_import.parse(csv_bytes(["Name;Vorname;Kommune", "Voll Name;Egal;Trier"]))
    assert p.rows[0].fields["name"] == "Voll Name"  # a Name column wins


def test_a_bad_row_blocks_the_import_unless_skipped():
    lines = [
        "Name;Kommune;E-Mail",
        "Gut Eins;Trier;",
        ";Trier;niemand@example.org",
        "Gut Zwei;Mayen;",
        "Kaputt Mail;Koblenz;keine-adresse",
        "Zu Lang;" + "x" * 121 + ";",
    ]
    event = the_event()
    p = csv_import.parse(csv_bytes(lines), event)
    assert p.counts() == {"rows": 5, "good": 2, "bad": 3, "duplicates": 0}
    assert p.errors == [
        "Zeile 3: Bitte einen Namen angeben (oder Vor- und Nachname).",
        "Zeile 5: „keine-adresse“ ist keine E-Mail-Adresse.",
        "Zeile 6: „Kommune“ darf höchstens 120 Zeichen lang sein.",
    ]
    with pytest.raises(DomainError) as exc:
        csv_import.apply(event, p, skip_bad_rows=False)
    assert exc.value.message.startswith(
        "3 fehlerhafte Zeilen, nichts importiert: Zeile 3: Bitte einen Namen angeben (oder Vor- und Nachname)."
    )
    assert exc.value.code == "invalid_rows"
    assert count() == 0

    calls = []
    counts = csv_import.apply(event, p, skip_bad_rows=True, progress=lambda done, total: calls.append((done, total)))
    assert counts == {"imported": 2, "skipped_bad": 3, "skipped_duplicates": 0}
    assert names() == ["Gut Eins", "Gut Zwei"]
    assert calls[-1] == (2, 2)


def test_duplicates_in_the_file_and_against_existing_guests_are_reported_not_imported():
    event = the_event()
    guests.create_guest(event, {"name": "Erika Mustermann", "city": "Trier"})
    lines = ["Name;Kommune", "erika  mustermann;TRIER", "Max Muster;Mayen", "Max Muster;mayen", "Max Muster;Koblenz"]
    p = csv_import.parse(csv_bytes(lines), event)
    assert p.counts() == {"rows": 4, "good": 2, "bad": 0, "duplicates": 2}
    assert [r.message for r in p.duplicates] == [
        "Zeile 2: doppelt (schon angemeldet)",
        "Zeile 4: doppelt (wie Zeile 3)",
    ]
    counts = csv_import.apply(event, p)
    assert counts == {"imported": 2, "skipped_bad": 0, "skipped_duplicates": 2}
    assert names() == ["Erika Mustermann", "Max Muster", "Max Muster"]
    # The same list again: nobody gets a second ticket.
    again = csv_import.parse(csv_bytes(lines), event)
    assert again.counts()["good"] == 0 and csv_import.apply(event, again)["imported"] == 0


@pytest.mark.parametrize(
    "data, message",
    [
        (csv_bytes(["Kommune;Organisation", "Trier;Stadt"]), "Keine Namensspalte gefunden"),
        (b"", "Die Datei ist leer."),
        (b"\r\n;;\r\n", "Die Datei ist leer."),
        (b"PK\x03\x04\x00\x00binary", "keine CSV-Datei"),
    ],
)
def test_file_level_errors(data, message):
    p = csv_import.parse(data, the_event())
    assert p.file_errors and message in p.file_errors[0] and not p.rows
    with pytest.raises(DomainError):
        csv_import.apply(the_event(), p, skip_bad_rows=True)
    assert count() == 0


def test_missing_name_column_names_the_columns_found():
    p = csv_import.parse(csv_bytes(["Stadt;Amt;Telefon", "Trier;IT;123"]))
    assert "'Stadt', 'Amt', 'Telefon'" in p.file_errors[0]


# ---- many rows ----------------------------------------------------------------------------------------


def big_file(n, encoding="cp1252"):
    cities = ["Kaiserslautern", "Trier", "Zweibrücken", "Neustadt an der Weinstraße", "Landau", "Bad Kreuznach"]
    lines = ["Vorname;Nachname;Kommune;Dienststelle;Funktion;E-Mail"]
    lines += [
        f"Vorname{i};Müller-{i};{cities[i % len(cities)]};Amt {i % 40};Sachbearbeitung;p{i}@example.org"
        for i in range(n)
    ]
    return csv_bytes(lines, encoding=encoding)


def test_two_thousand_rows_in_one_transaction():
    event = the_event()
    p = csv_import.parse(big_file(2000), event)
    assert p.counts() == {"rows": 2000, "good": 2000, "bad": 0, "duplicates": 0}
    calls = []
    csv_import.apply(event, p, progress=lambda done, total: calls.append((done, total)))
    assert count() == 2000 and calls[-1] == (2000, 2000) and len(calls) <= 101
    assert len({g.code for g in db.session.execute(select(Guest)).scalars()}) == 2000


def test_five_thousand_rows_are_quick():
    event = the_event()
    data = big_file(5000)
    start = time.perf_counter()
    p = csv_import.parse(data, event)
    parsed = time.perf_counter()
    csv_import.apply(event, p)
    done = time.perf_counter()
    print(f"\n5,000 rows: parse {parsed - start:.2f} s, import {done - parsed:.2f} s")
    assert count() == 5000
    assert done - start < 10  # ~2 s on a laptop; generous for slow CI machines


# ---- the staff page -----------------------------------------------------------------------------------


@pytest.fixture
def admin(app, client, tmp_path):
    app.config["GUEST_IMPORT_DIR"] = str(tmp_path / "imports")
    make_staff("ops", password="pw-1")
    client.post("/staff/login", data={"name": "ops", "password": "pw-1"})
    return client


def upload(client, data, filename="gaeste.csv"):
    import io

    return client.post(
        f"/staff/e/{SLUG}/guests/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def upload_id(response):
    return re.search(r'name="upload_id" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_import_page_upload_preview_confirm(admin, tmp_path):
    r = admin.get(f"/staff/e/{SLUG}/guests/import")
    assert r.status_code == 200 and 'type="file"' in r.get_data(as_text=True)

    r = upload(admin, csv_bytes(GERMAN_EXCEL, encoding="cp1252"))
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "Vorschau" in body and "Windows-1252" in body and "Anrede" in body
    assert "Erika Mustermann" in body and "Neustadt an der Weinstraße" in body
    assert count() == 0  # a preview writes nothing
    ident = upload_id(r)
    assert (tmp_path / "imports" / SLUG / f"{ident}.csv").is_file()

    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": ident})
    assert r.status_code == 302 and r.location == f"/staff/e/{SLUG}/guests"
    assert count() == 3
    assert not list((tmp_path / "imports" / SLUG).iterdir())  # the upload is gone
    assert "3 Gäste importiert" in admin.get(r.location).get_data(as_text=True)
    # A second confirmation (double click, back button) imports nothing.
    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": ident})
    assert r.status_code == 302 and count() == 3


def test_import_page_button_says_it_skips_the_bad_rows(admin):
    lines = ["Name;Kommune", "Gut;Trier", ";Mayen", "Auch Gut;Koblenz"]
    r = upload(admin, csv_bytes(lines))
    body = r.get_data(as_text=True)
    assert "Zeile 3: Bitte einen Namen angeben (oder Vor- und Nachname)." in body
    button = re.search(
        r'<button type="submit" class="primary" name="skip_bad_rows" value="y"[^>]*>([^<]*)</button>', body
    )
    assert button and button.group(1) == "2 Gäste importieren, 1 fehlerhafte Zeile überspringen"
    # Without the button's value (an old tab, a script) the bad row still blocks the import.
    ident = upload_id(r)
    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": ident})
    assert r.status_code == 422 and "1 fehlerhafte Zeile, nichts importiert" in r.get_data(as_text=True)
    assert count() == 0
    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": ident, "skip_bad_rows": "y"})
    assert r.status_code == 302 and names() == ["Auch Gut", "Gut"]
    assert "2 Gäste importiert; 1 fehlerhafte Zeile übersprungen." in admin.get(r.location).get_data(as_text=True)


def test_import_page_offers_no_import_when_no_row_is_good(admin):
    r = upload(admin, csv_bytes(["Name;Kommune", ";Mayen"]))
    body = r.get_data(as_text=True)
    assert "Keine Zeile lässt sich importieren." in body and "importieren, 1 fehlerhafte" not in body


def test_import_page_file_errors_and_tampering(admin, client, tmp_path):
    r = upload(admin, csv_bytes(["Ort;Amt", "Trier;IT"]))
    assert r.status_code == 422 and "Keine Namensspalte gefunden" in r.get_data(as_text=True)
    r = admin.post(f"/staff/e/{SLUG}/guests/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Bitte eine Datei auswählen." in r.get_data(as_text=True)

    r = upload(admin, csv_bytes(["Name", "Anna"]))
    ident = upload_id(r)
    other = tmp_path / "imports" / SLUG / ("B" * 22 + ".csv")
    other.write_bytes(csv_bytes(["Name", "Eingeschleust"]))
    for forged in ("B" * 22, "../../secret_key", "", ident + "x"):
        r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": forged})
        assert r.status_code == 302 and r.location == f"/staff/e/{SLUG}/guests/import"
    assert count() == 0
    # Cancel removes the upload.
    admin.post(f"/staff/e/{SLUG}/guests/import/cancel")
    assert not (tmp_path / "imports" / SLUG / f"{ident}.csv").exists()
    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": ident})
    assert r.status_code == 302 and count() == 0


def test_import_page_sweeps_old_uploads(admin, tmp_path):
    import os

    folder = tmp_path / "imports" / SLUG
    folder.mkdir(parents=True)
    old = folder / ("C" * 22 + ".csv")
    old.write_bytes(b"Name\r\nAlt\r\n")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    upload(admin, csv_bytes(["Name", "Neu"]))
    assert not old.exists()


def test_uploads_left_by_a_crash_go_at_start_and_with_the_purge(app, admin, tmp_path):
    """A crash between preview and import used to leave the guest list in instance/imports for good, and
    `purge` missed it: the server's start removes stale and half-imported files, the purge every file of
    its event."""
    import os

    from webapp import create_app
    from webapp.core.config import Config
    from webapp.privacy.domain import purge_event

    folder = tmp_path / "imports" / SLUG
    folder.mkdir(parents=True)
    crashed, waiting = folder / ("D" * 22 + ".importing"), folder / ("E" * 22 + ".csv")
    for path in (crashed, waiting):
        path.write_bytes(b"Name\r\nErika Mustermann\r\n")
        os.utime(path, (time.time() - 900, time.time() - 900))
    create_app(Config, GUEST_IMPORT_DIR=str(tmp_path / "imports"), SQLALCHEMY_DATABASE_URI="sqlite://")
    assert not crashed.exists() and waiting.exists()  # the preview of 15 minutes ago may still be confirmed
    upload(admin, csv_bytes(["Name", "Neu"]))
    assert len(list(folder.iterdir())) == 2
    from webapp.core.events import get_event

    result = purge_event(get_event(SLUG))
    assert result["removed"]["guest_list_uploads"] == 2 and not folder.exists()


def test_import_page_with_two_thousand_rows(admin):
    start = time.perf_counter()
    r = upload(admin, big_file(2000))
    assert "2000" in r.get_data(as_text=True)
    r = admin.post(f"/staff/e/{SLUG}/guests/import/confirm", data={"upload_id": upload_id(r)})
    assert r.status_code == 302 and count() == 2000
    print(f"\n2,000 rows through the page (upload, preview, confirm): {time.perf_counter() - start:.2f} s")


# ---- the CLI ------------------------------------------------------------------------------------------


def run_cli(app, *args):
    """`flask --app wsgi guests import …` (the group is registered as `guests`); output has stdout and stderr."""
    return app.test_cli_runner().invoke(guests_cli, ["import", *args])


def test_cli_imports_and_reports(app, tmp_path):
    path = tmp_path / "gaeste.csv"
    path.write_bytes(csv_bytes(GERMAN_EXCEL, encoding="cp1252"))
    r = run_cli(app, SLUG, str(path))
    assert r.exit_code == 0, r.output
    assert "Windows-1252" in r.output and "semicolon" in r.output and "'Anrede' -> salutation" in r.output
    assert "Ignored columns" not in r.output
    assert "Imported into kl-2018: 3 guests" in r.output
    assert count() == 3 and "Jörg Weiß" in names()
    # Again: all duplicates, nothing new, still success.
    r = run_cli(app, SLUG, str(path))
    assert r.exit_code == 0 and "doppelt" in r.output and count() == 3


def test_cli_bad_rows_exit_non_zero_and_write_nothing_unless_skipped(app, tmp_path):
    path = tmp_path / "gaeste.csv"
    path.write_bytes(csv_bytes(["Name;Kommune;E-Mail", "Gut;Trier;", ";Mayen;", "Gut Zwei;Mayen;x"]))
    r = run_cli(app, SLUG, str(path))
    assert r.exit_code == 1 and count() == 0
    assert "Zeile 3: Bitte einen Namen angeben (oder Vor- und Nachname)." in r.output
    assert "Zeile 4: „x“ ist keine E-Mail-Adresse." in r.output
    r = run_cli(app, SLUG, str(path), "--dry-run", "--skip-bad-rows")
    assert r.exit_code == 0 and count() == 0
    r = run_cli(app, SLUG, str(path), "--skip-bad-rows")
    assert r.exit_code == 0 and names() == ["Gut"]
    assert "skipped: 2 bad" in r.output


def test_cli_file_errors_and_unknown_event(app, tmp_path):
    path = tmp_path / "ohne-namen.csv"
    path.write_bytes(csv_bytes(["Kommune", "Trier"]))
    r = run_cli(app, SLUG, str(path))
    assert r.exit_code == 1 and count() == 0
    r = run_cli(app, "no-such-event", str(path))
    assert r.exit_code == 1
    r = run_cli(app, SLUG, str(tmp_path / "missing.csv"))
    assert r.exit_code == 2
