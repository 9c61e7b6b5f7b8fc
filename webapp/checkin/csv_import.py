"""Guest lists from a town hall's Excel export (CSV): detect encoding, delimiter and columns, check every
row, then import all good rows in one transaction. Used by the staff page and `flask --app wsgi guests
import SLUG FILE`.

    preview = parse(data, event)       # nothing written; errors and duplicates per row
    counts = apply(event, preview, skip_bad_rows=False, progress=None)

Rules:
- Encoding: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252
  (what German Excel writes as "CSV (Trennzeichen-getrennt)").
- Delimiter: `;` (German Excel), `,` or tab, chosen by which one splits the header into known columns and
  the rows into the header's width; an Excel `sep=;` first line wins.
- Columns by header, case/space/punctuation/umlaut-insensitive, German or English: Anrede, Titel, Vorname,
  Nachname are kept as the guest's name parts; a row without a Name is given "Titel Vorname Nachname"
  (guests.parse_guest). Unknown columns are listed and ignored. No name column at all is a file-level error.
- A row is bad when guests.parse_guest refuses it ("Zeile 7: name must not be empty"). A bad row blocks the
  whole import unless the user chooses to skip bad rows: then nothing or everything good is written.
- Duplicates (same name and municipality, case-insensitive) within the file or against the event's guests
  are reported and not imported: importing the same list twice must not give anyone two tickets.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ..core.cooperative import paced
from ..core.db import insert_many
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Municipality
from ..core.text import compact_key
from . import guests
from .models import Guest

MAX_ROWS = 50_000
DELIMITERS = (";", ",", "\t")
SHOWN_ERRORS = 5  # in the DomainError of a refused apply()

# normalised header -> field. Normalised = lower case, umlauts folded, only letters and digits kept.
HEADERS = {
    "name": (
        "name",
        "namen",
        "vollername",
        "vollstaendigername",
        "fullname",
        "teilnehmer",
        "teilnehmerin",
        "teilnehmende",
        "teilnehmername",
        "person",
        "gast",
        "guest",
        "attendee",
        "participant",
    ),
    "salutation": ("anrede", "salutation"),
    "title": ("titel", "title", "akademischertitel", "akademischergrad", "grad", "titelgrad"),
    "given_name": ("vorname", "vornamen", "rufname", "firstname", "givenname", "forename", "first"),
    "family_name": ("nachname", "familienname", "zuname", "lastname", "surname", "familyname", "last"),
    "city": (
        "kommune",
        "stadt",
        "gemeinde",
        "ort",
        "verwaltung",
        "city",
        "town",
        "municipality",
        "stadtgemeinde",
        "verbandsgemeinde",
        "landkreis",
        "kreis",
        "stadtverwaltung",
        "kommuneort",
        "stadtort",
        "wohnort",
    ),
    "organisation": (
        "organisation",
        "organization",
        "org",
        "behoerde",
        "dienststelle",
        "amt",
        "institution",
        "einrichtung",
        "firma",
        "unternehmen",
        "company",
        "agency",
        "department",
        "abteilung",
        "referat",
        "fachbereich",
    ),
    "role": (
        "funktion",
        "rolle",
        "position",
        "role",
        "function",
        "jobtitle",
        "taetigkeit",
        "stelle",
        "berufsbezeichnung",
        "amtsbezeichnung",
    ),
    "email": ("email", "mail", "emailadresse", "mailadresse", "emailaddress", "mailaddress", "epost"),
    "notes": ("bemerkung", "bemerkungen", "notiz", "notizen", "anmerkung", "anmerkungen", "notes", "note", "comment"),
    "language": ("sprache", "language", "korrespondenzsprache"),
}
NAME_KEYS = ("name", "given_name", "family_name")
PART_KEYS = ("salutation", "title", "given_name", "family_name", "notes", "language")  # only where the file has them
# A language cell (compact_key) -> the guest's language; an empty cell keeps the default (German).
LANGUAGES = {"de": "de", "deu": "de", "ger": "de", "deutsch": "de", "german": "de", "en": "en", "eng": "en"}
LANGUAGES |= {"englisch": "en", "english": "en"}
_LOOKUP = {alias: key for key, aliases in HEADERS.items() for alias in aliases}


def normalise_header(text):
    return compact_key(text)


def _key_text(text):
    return " ".join(text.split()).casefold()


@dataclass
class Row:
    line: int  # line of the file where the record ends (= the Excel row for one-line cells)
    fields: dict  # cleaned fields (or the raw ones when `error` is set)
    error: str | None = None
    duplicate_of: str | None = None  # "wie Zeile 3" (earlier in the file) or "schon angemeldet" (a guest)

    @property
    def ok(self):
        return self.error is None

    @property
    def importable(self):
        return self.error is None and self.duplicate_of is None

    @property
    def message(self):
        if self.error:
            return _("Zeile %(line)d: %(error)s", line=self.line, error=self.error)
        if self.duplicate_of:
            return _("Zeile %(line)d: doppelt (%(reason)s)", line=self.line, reason=self.duplicate_of)
        return ""


@dataclass
class Preview:
    encoding: str = ""
    delimiter: str = ""
    columns: list = field(default_factory=list)  # [(header as in the file, field or None)]
    unknown_headers: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def bad_rows(self):
        return [r for r in self.rows if not r.ok]

    @property
    def duplicates(self):
        return [r for r in self.rows if r.ok and r.duplicate_of]

    @property
    def good_rows(self):
        return [r for r in self.rows if r.importable]

    @property
    def errors(self):
        """Every problem as text: the file's, then each bad row's."""
        return list(self.file_errors) + [r.message for r in self.bad_rows]

    @property
    def delimiter_name(self):
        return {";": "semicolon", ",": "comma", "\t": "tab"}.get(self.delimiter, repr(self.delimiter))

    def counts(self):
        return {
            "rows": len(self.rows),
            "good": len(self.good_rows),
            "bad": len(self.bad_rows),
            "duplicates": len(self.duplicates),
        }

    def summary_lines(self):
        """A plain-text summary (the CLI prints it; the page has its own, translated)."""
        mapped = ", ".join(f"{h!r} -> {f}" for h, f in self.columns if f) or "-"
        lines = [f"Encoding: {self.encoding}, delimiter: {self.delimiter_name}", f"Columns: {mapped}"]
        if self.unknown_headers:
            lines.append("Ignored columns: " + ", ".join(repr(h) for h in self.unknown_headers))
        c = self.counts()
        lines.append(f"Rows: {c['rows']}, to import: {c['good']}, bad: {c['bad']}, duplicates: {c['duplicates']}")
        return lines


def decode(data):
    """(text, encoding name)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined; they cannot be text, so replace instead of failing.
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def _records(text, delimiter, limit=None):
    """(line number, cells) as csv reads them, lazily: a long file is read between pauses (see parse)."""
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=False,
        strict=False,
    )
    for n, record in enumerate(reader, 1):
        yield reader.line_num, record
        if limit is not None and n >= limit:
            break


def _blank(record):
    return not any(cell.strip() for cell in record)


def detect_delimiter(text):
    """The delimiter that maps most header cells to known columns, then splits most rows into the header's
    width, then gives the most columns."""
    best, best_score = ";", None
    for delimiter in DELIMITERS:
        try:
            records = [r for _line, r in _records(text, delimiter, limit=60) if not _blank(r)]
        except csv.Error:
            continue
        if not records:
            return delimiter  # every line is empty when split this way: an empty Excel sheet
        header, rows = records[0], records[1:]
        known = sum(1 for cell in header if normalise_header(cell) in _LOOKUP)
        width = len(header)
        consistent = sum(1 for r in rows if len(r) == width or (len(r) > width and _blank(r[width:])))
        score = (known, consistent if width > 1 else 0, width)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def map_headers(header):
    """[(header, field or None)]: the first column of each field wins; later ones count as unknown."""
    columns, seen = [], set()
    for cell in header:
        key = _LOOKUP.get(normalise_header(cell))
        if key in seen:
            key = None
        if key:
            seen.add(key)
        columns.append((cell.strip(), key))
    return columns


def _existing_keys(event):
    rows = db.session.execute(select(Guest.name, Guest.city).where(Guest.event_id == event.id)).all()
    return {(_key_text(name), _key_text(city)) for name, city in rows}


def _canonical_cities(event):
    names = db.session.execute(select(Municipality.name).where(Municipality.event_id == event.id)).scalars()
    return {_key_text(n): n for n in names}


def parse(data, event=None):
    """A Preview of `data` (the file's bytes). With `event`, rows that name an existing guest of the event
    are flagged as duplicates too. Writes nothing."""
    preview = Preview()
    if not data or not data.strip():
        preview.file_errors.append(_("Die Datei ist leer."))
        return preview
    text, preview.encoding = decode(data)
    if "\x00" in text:
        preview.file_errors.append(_("Das ist keine CSV-Datei (Binärdaten). Bitte in Excel als CSV speichern."))
        return preview
    lines = text.split("\n", 1)
    hint = re.fullmatch(r'"?sep=([;,\t])"?[ \r]*', lines[0], re.IGNORECASE)
    if hint:  # Excel's "sep=;" first line
        preview.delimiter = hint.group(1)
        text = lines[1] if len(lines) > 1 else ""
        line_offset = 1
    else:
        preview.delimiter = detect_delimiter(text)
        line_offset = 0
    try:
        records = [(n + line_offset, r) for n, r in paced(_records(text, preview.delimiter)) if not _blank(r)]
    except csv.Error as exc:
        preview.file_errors.append(_("Die Datei lässt sich nicht als CSV lesen: %(reason)s", reason=exc))
        return preview
    if not records:
        preview.file_errors.append(_("Die Datei ist leer."))
        return preview
    (_line, header), records = records[0], records[1:]
    preview.columns = map_headers(header)
    preview.unknown_headers = [h for h, key in preview.columns if key is None and h]
    index = {key: i for i, (_header, key) in enumerate(preview.columns) if key}
    if not (set(NAME_KEYS) & set(index)):
        found = ", ".join(repr(h) for h, _key in preview.columns) or "-"
        preview.file_errors.append(
            _(
                "Keine Namensspalte gefunden (erwartet: „Name“ oder „Vorname“ und „Nachname“). "
                "Gefundene Spalten: %(found)s",
                found=found,
            )
        )
        return preview
    if len(records) > MAX_ROWS:
        preview.file_errors.append(_("Zu viele Zeilen: %(rows)d (höchstens %(max)d).", rows=len(records), max=MAX_ROWS))
        return preview

    cities = _canonical_cities(event) if event is not None else {}
    seen = _existing_keys(event) if event is not None else set()
    first_line = {}

    def cell(record, key):
        i = index.get(key)
        return record[i] if i is not None and i < len(record) else ""

    for line, record in paced(records):
        raw = {
            "name": cell(record, "name"),  # empty: made of title, given and family name
            **{key: cell(record, key) for key in PART_KEYS if key in index},
            "city": cell(record, "city"),
            "organisation": cell(record, "organisation"),
            "role": cell(record, "role"),
            "email": cell(record, "email").strip(),
        }
        if raw["email"].lower().startswith("mailto:"):
            raw["email"] = raw["email"][7:]
        if "language" in raw:
            language = compact_key(raw["language"])
            if language:
                raw["language"] = LANGUAGES.get(language, raw["language"].strip())
            else:
                del raw["language"]
        try:
            clean = guests.parse_guest(raw)
        except DomainError as exc:
            preview.rows.append(Row(line, raw, error=exc.message))
            continue
        row = Row(line, clean)
        city = cities.get(_key_text(clean.get("city", "")), clean.get("city", ""))
        key = (_key_text(clean["name"]), _key_text(city))
        if key in first_line:
            row.duplicate_of = _("wie Zeile %(line)d", line=first_line[key])
        elif key in seen:
            row.duplicate_of = _("schon angemeldet")
        else:
            first_line[key] = line
        preview.rows.append(row)
    return preview


def apply(event, preview, skip_bad_rows=False, progress=None):
    """Write the preview's good rows as guests (source "import") in one transaction, or nothing.
    Returns {"imported", "skipped_bad", "skipped_duplicates"}. `progress(done, total)` is called as rows
    are added. Raises DomainError (nothing written) on file errors, or on bad rows unless skip_bad_rows."""
    if preview.file_errors:
        raise DomainError("invalid_file", " ".join(preview.file_errors))
    bad = preview.bad_rows
    if bad and not skip_bad_rows:
        shown = "; ".join(r.message for r in bad[:SHOWN_ERRORS])
        if len(bad) > SHOWN_ERRORS:
            shown += " " + _("(und %(num)d weitere)", num=len(bad) - SHOWN_ERRORS)
        message = ngettext(
            "%(num)d fehlerhafte Zeile, nichts importiert: %(rows)s",
            "%(num)d fehlerhafte Zeilen, nichts importiert: %(rows)s",
            len(bad),
            rows=shown,
        )
        raise DomainError("invalid_rows", message, 422)
    rows = preview.good_rows
    total = len(rows)
    step = max(1, total // 100)
    # The rows are made ready first (pausing now and then, nothing written), then written in one short
    # transaction as one bulk INSERT: a list of thousands must not hold the door's check-ins.
    bulk = guests.BulkGuests(event, source="import")
    for done, row in enumerate(paced(rows), 1):
        bulk.add(row.fields)
        if progress is not None and (done % step == 0 or done == total):
            progress(done, total)
    try:
        if bulk.rows:
            insert_many(db.session.connection(), Guest.__table__, bulk.rows)
            guests.commit_guest_change(event)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if progress is not None and total == 0:
        progress(0, 0)
    return {"imported": total, "skipped_bad": len(bad), "skipped_duplicates": len(preview.duplicates)}
