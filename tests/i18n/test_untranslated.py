"""Every message a person can see on an error path comes from the catalogues (issue 13): form errors (at
the field they are about), the CSV guest import's and the schedule import's row and file messages, API
errors as the pages show them, the error pages and the change log. Each case runs in German, English and
the pseudo-language (conftest.py), and fails naming the case, the language and the offending text.

What counts as untranslated, after the texts people typed are taken out (the event's, rooms', guests'
names from the fixture, and everything the case itself sent):
- eo: any letter outside ⟦…⟧ (a text that reached the page without a catalogue), except the words of
  Babel's own date formats and a short list of technical names (ALLOWED);
- de: English developer words (DE_STOP);
- en: German words (EN_STOP) and umlauts or ß;
- every language: codes (snake_case keys, "session.moved") and leftovers of the pseudo brackets.

Adding a case is one line in CASES: a name, how to reach it (a function of the walker), what to read
(`field` = the error tied to that form field, `messages` = errors and flash messages, `page` = the page's
text, `json` = the API's error.message, `script` = the texts a page hands its scripts) and, for pages and
the API, the expected status. I18N_SHOW=1 (with -s) prints what each case read."""

import functools
import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from babel import Locale

from tests.helpers import SLUG
from webapp.core.extensions import db

from .conftest import ADMIN, LANGUAGES, PSEUDO, SCANNER

E = f"/staff/e/{SLUG}"
API = f"/api/v1/events/{SLUG}"

# ---- what counts as untranslated ------------------------------------------------------------------------

SPAN = re.compile(r"⟦[^⟦⟧]*⟧")
# Names that are the same in every language (kept short: each one is a hole in the eo check).
ALLOWED = [
    "Treffpunkt",  # the product
    "ISO 8601",  # the standard a time in a file or the API follows
    "HH:MM",  # the form of a time in a schedule file
    "UTF-8",  # encodings the guest import names as it detected them
    "UTF-16",
    "Windows-1252",
    "BOM",  # "UTF-8 (BOM)"
    "CSV",
    "JSON",
    "XML",
    "„not_sent“",  # a value the mailing API takes ("guests": "not_sent"), named in its error
    "“not_sent”",
]
# English developer words in German text (word boundaries, any case).
DE_STOP = (
    "must should invalid required expected field fields not found error errors the is be of cannot missing unknown "
    "empty only already allowed characters value values please try again and or to with for this that are was has no such"
).split()
# German words in English text.
EN_STOP = (
    "muss müssen nicht bitte ungültig fehlt fehlen Zeile Zeilen der die das den dem des und oder Gast Gäste Feld "
    "Felder ist sind ein eine einen kein keine für mit von zu wird werden schon noch nur Uhr abgesagt geändert "
    "verschoben wieder gibt hat Datei Fehler Seite Sie Ihre bei"
).split()
CODE = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"  # a key such as planned_end
    r"|\b(?:session|room|topic|speaker|announcement|board|event|guest|checkin|meeting|interests?|municipality"
    r"|table|device|programme)\.[a-z_]+\b"  # a change's kind such as session.moved
)
URLISH = re.compile(
    r"(?:https?|webcal)://\S+"  # addresses
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<![\w-])/[\w.~%-]+(?:/[\w.~%?=&#-]*)+"  # paths
)
LETTERS = re.compile(r"[^\W\d_]+")


@functools.cache
def cldr_words(lang):
    """The words of Babel's dates and times in `lang` ("Oktobro", "vendredo", "la 26-a de"): formatted by
    Babel, not by our catalogue."""
    data = Locale.parse(lang)._data
    words = set()

    def walk(value):
        if isinstance(value, str):
            words.update(w.casefold() for w in LETTERS.findall(value) if len(w) > 1)
        elif hasattr(value, "values"):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif value is not None:
            walk(str(value))

    for key in (
        "months",
        "days",
        "quarters",
        "eras",
        "day_periods",
        "date_formats",
        "time_formats",
        "datetime_formats",
        "interval_formats",
        "date_fields",
        "list_patterns",
    ):
        walk(data.get(key, {}))
    return frozenset(words)


def without_values(text, values):
    """`text` without the texts people typed (whole words only), addresses and allowed names."""
    text = URLISH.sub(" ", text)
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    for name in ALLOWED:
        text = text.replace(name, " ")
    return text


def untranslated(text, lang, values):
    """What in `text` did not come from the catalogue of `lang` (empty: all is well)."""
    found = []
    if lang == PSEUDO:
        while SPAN.search(text):  # innermost first: a label inside a sentence
            text = SPAN.sub(" ", text)
    elif "⟦" in text or "⟧" in text:
        found.append("pseudo brackets in a real language")
    rest = without_values(text, values)
    found += [f"code {m.group(0)!r}" for m in CODE.finditer(rest)]
    if lang == PSEUDO:
        rest = rest.replace("⟦", " ").replace("⟧", " ")
        # Single letters ("26-a", "5 h") carry no sentence; words of Babel's dates are Babel's.
        words = [w for w in LETTERS.findall(rest) if len(w) > 1 and w.casefold() not in cldr_words(PSEUDO)]
        if words:
            found.append(f"not from a catalogue: {' '.join(dict.fromkeys(words))!r}")
    elif lang == "de":
        words = [m.group(0) for m in re.finditer(rf"\b(?:{'|'.join(DE_STOP)})\b", rest, re.I)]
        if words:
            found.append(f"English in German: {' '.join(dict.fromkeys(words))!r}")
    else:
        words = [m.group(0) for m in re.finditer(rf"(?<!\w)(?:{'|'.join(EN_STOP)})(?!\w)", rest)]
        words += re.findall(r"\w*[äöüÄÖÜß]\w*", rest)
        if words:
            found.append(f"German in English: {' '.join(dict.fromkeys(words))!r}")
    return found


# ---- reading a page -------------------------------------------------------------------------------------

ERROR_CLASSES = {"error", "field-error", "flash-error", "form-alert", "import-errors"}


def document(response):
    doc = lxml.html.document_fromstring(response.get_data(as_text=True) or "<html></html>")
    for el in doc.xpath("//script|//style|//template"):
        el.drop_tree()
    return doc


def text_of(el):
    return " ".join(" ".join(el.itertext()).split())


def error_elements(doc):
    """Elements that show an error: by class or role="alert", or described-by targets of invalid fields."""
    ids = {el.get("id"): el for el in doc.iter() if isinstance(el.tag, str) and el.get("id")}
    found = [
        el
        for el in doc.iter()
        if isinstance(el.tag, str)
        and (set((el.get("class") or "").split()) & ERROR_CLASSES or el.get("role") == "alert")
    ]
    for control in doc.xpath('//*[@aria-invalid="true"][@aria-describedby]'):
        found += [ids[i] for i in control.get("aria-describedby").split() if i in ids]
    return list(dict.fromkeys(found))


def names_of(control):
    names = {control.get("name"), control.get("id")}
    if control.tag == "fieldset":
        for inner in control.xpath(".//input|.//select|.//textarea"):
            names |= {inner.get("name"), inner.get("id")}
    return names - {None, ""}


def tied_fields(doc, error):
    """Names and ids of the form fields `error` belongs to: it describes them (aria-describedby), or sits
    in their label or fieldset."""
    tied = set()
    inside = set(error.iterancestors()) | set(error.iterdescendants()) | {error}
    for control in doc.xpath("//*[@aria-describedby]"):
        targets = {doc.get_element_by_id(i, None) for i in control.get("aria-describedby").split()}
        if targets & inside:
            tied |= names_of(control)
    for holder in error.iterancestors():
        if holder.tag == "label":
            if holder.get("for"):
                tied.add(holder.get("for"))
            for control in holder.xpath(".//input|.//select|.//textarea"):
                tied |= names_of(control)
        elif holder.tag == "fieldset":
            tied |= names_of(holder)
    return tied


def flashes(doc):
    return [text_of(el) for el in doc.xpath('//*[contains(concat(" ", @class, " "), " flash ")]')]


def messages(doc):
    """The texts of every error shown and every flash message (outermost elements, once each)."""
    errors = error_elements(doc)
    outer = [el for el in errors if not any(a in errors for a in el.iterancestors())]
    return [t for t in dict.fromkeys([*(text_of(el) for el in outer), *flashes(doc)]) if t]


def page_text(doc):
    """What a person reads: the title, the flash messages and the main part."""
    parts = doc.xpath("//title") + doc.xpath('//*[@class="flashes"]') + (doc.xpath("//main") or doc.xpath("//body"))
    return [t for t in (text_of(el) for el in parts) if t]


# ---- the cases ------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    reach: Callable
    show: str = "messages"  # "field", "messages", "page", "json", "script"
    status: int | None = None
    field: str | Callable | None = None  # the form field (name or id) the error must be tied to


def field(name, reach, fld):
    return Case(name, reach, "field", field=fld)


def msg(name, reach):
    return Case(name, reach, "messages")


def page(name, reach, status):
    return Case(name, reach, "page", status)


def api(name, reach, status):
    return Case(name, reach, "json", status)


def script(name, reach):
    """The texts a page hands its scripts (<script id="i18n">): what they show, e.g. for a wrong PIN."""
    return Case(name, reach, "script", 200)


def local(w, minutes_from_start=0, session_id=None):
    """A datetime-local value of the first session's day ("2018-10-26T13:30")."""
    from webapp.agenda.models import Session

    s = db.session.get(Session, session_id or w.session_id)
    return (s.planned_start + timedelta(minutes=minutes_from_start)).astimezone(ZoneInfo(w.event.timezone))


def session_form(w, **changes):
    from webapp.agenda.models import Session

    s = db.session.get(Session, w.session_id)
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "title": s.title,
        "kind": s.kind,
        "room": s.room.name if s.room else "",
        "start": local(w).strftime(fmt),
        "end": local(w, 30).strftime(fmt),
        "status": s.status,
        "language": s.language,
        "abstract": "",
    }
    data.update(changes)
    return data


def event_form(w, **changes):
    data = {
        "title": "Digitale Kommunen 2019",
        "slug": "dk-2019",
        "start": "2019-05-03T09:00",
        "end": "2019-05-03T17:00",
        "timezone": "Europe/Berlin",
    }
    data.update(changes)
    return data


def guest_form(**changes):
    return {"given_name": "Hanna", "family_name": "Beispiel", "city": "Trier", **changes}


def register_form(w, **changes):
    return {"name": "Jana Probe", "municipality": "Trier", "consent": "y", **changes}


GUEST_CSV_BAD_ROWS = (
    "Vorname;Nachname;Kommune;E-Mail\r\n"
    "Anna;Alt;Trier;anna@example.org\r\n"
    ";;Mayen;\r\n"
    "Bernd;Bad;Koblenz;kein-at-zeichen\r\n"
    f"Carla;{' '.join(['Langname'] * 15)};Trier;\r\n"
    "Anna;Alt;Trier;anna@example.org\r\n"
).encode()


def csv_preview(w, content=GUEST_CSV_BAD_ROWS):
    return w.upload(f"{E}/guests/import", "file", content, "gaeste.csv")


def csv_confirm_without_skip(w):
    page = csv_preview(w).get_data(as_text=True)
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="upload_id"', page
    )
    assert upload_id, "the preview offers no confirmation"
    return w.post(f"{E}/guests/import/confirm", {"upload_id": upload_id.group(1)})


def schedule(w, content, name):
    return w.upload(f"{E}/import", "file", content, name)


def broken_json(w, change):
    """The event's own schedule.json (c3voc), changed by `change`(data)."""
    data = json.loads(w.export("schedule.json"))
    change(data)
    return schedule(w, json.dumps(data).encode(), "schedule.json")


def first_event(data):
    day = data["schedule"]["conference"]["days"][0]
    return next(events[0] for events in day["rooms"].values() if events)


def broken_xml(w, old, new):
    xml = w.export("schedule.xml")
    assert old.encode() in xml, f"{old!r} is not in the event's schedule.xml"
    return schedule(w, xml.replace(old.encode(), new.encode(), 1), "schedule.xml")


def delegate_slug(w):
    return w.event.topics[0].slug


def with_mail(w):
    w.app.config.update(SMTP_HOST="localhost", MAIL_FROM="Treffpunkt <treffpunkt@example.org>")
    return w


def changes_made(w):
    """A few changes of each kind, then the change log."""
    tz = ZoneInfo(w.event.timezone)
    at = local(w, 10).astimezone(tz).isoformat(timespec="seconds")
    w.post(f"{E}/sessions/{w.session2_id}/delay", {"step": "10"})
    w.post(f"{E}/sessions/{w.session2_id}/delay", {"step": "-10"})
    w.post(f"{E}/sessions/{w.session2_id}/room", {"room": w.rooms[-1]})
    w.post(f"{E}/sessions/{w.session2_id}/status", {"status": "cancelled"})
    w.post(f"{E}/sessions/{w.session2_id}/status", {"status": "scheduled"})
    w.post(f"{E}/sessions/{w.session_id}/overrun", {"step": "10", "at": at})
    w.post(f"{E}/setup/room", {"name": "Ratssaal"})
    w.post(f"{E}/setup/topic/{w.topic_id}/rename", {"name": "Parken per App"})
    w.post(f"{E}/announcements", {"text": "Kaffee im Foyer", "severity": "info"})
    w.api(
        "PUT",
        f"{API}/municipalities/Trier/interests",
        {"consent": True, "interests": [{"topic": delegate_slug(w), "stage": "plans"}]},
    )
    return w.get(f"{E}/changes")


def now_iso(minutes):
    from webapp.core.db import utcnow

    return (utcnow() + timedelta(minutes=minutes)).isoformat()


def future_overrun(w):
    """A session later today runs over before it began."""
    w.api("PATCH", f"{API}/sessions/{w.session2_id}", {"planned_start": now_iso(60), "planned_end": now_iso(90)})
    return w.api("PATCH", f"{API}/sessions/{w.session2_id}", {"overrun_minutes": 10})


def checked_in(w):
    """The walker, after one guest was let in (the report's certificate form shows only then)."""
    r = w.api("POST", f"{API}/checkins", {"code": w.guest.code, "nonce": "walker-1"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return w


def rate_limited(w):
    client = w.other_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    for _ in range(3):
        r = client.post("/staff/login", data={"name": ADMIN, "password": "falsch-falsch"})
    return r


def too_large(w):
    w.app.config["MAX_CONTENT_LENGTH"] = 1000
    return w.post("/staff/login", {"name": "x" * 5000, "password": "y"}, who="anon")


CASES = [
    # -- the staff login and the own account --
    field("login: nothing typed", lambda w: w.post("/staff/login", {"name": "", "password": ""}, who="anon"), "name"),
    field(
        "login: wrong password",
        lambda w: w.post("/staff/login", {"name": ADMIN, "password": "falsch-falsch"}, who="anon"),
        "password",
    ),
    field(
        "login: name too long",
        lambda w: w.post("/staff/login", {"name": "n" * 81, "password": "x"}, who="anon"),
        "name",
    ),
    field(
        "account: wrong current password",
        lambda w: w.post(
            "/staff/account/password",
            {
                "current_password": "nicht-meins",
                "new_password": "neues-pw-12345",
                "new_password_again": "neues-pw-12345",
            },
        ),
        "current_password",
    ),
    field(
        "account: new password too short",
        lambda w: w.post(
            "/staff/account/password",
            {"current_password": "x", "new_password": "kurz", "new_password_again": "kurz"},
        ),
        "new_password",
    ),
    field(
        "account: passwords differ",
        lambda w: w.post(
            "/staff/account/password",
            {"current_password": "x", "new_password": "neues-pw-12345", "new_password_again": "anderes-pw-123"},
        ),
        "new_password_again",
    ),
    field("account: empty form", lambda w: w.post("/staff/account/password", {}), "current_password"),
    # -- the team --
    field("team: no name", lambda w: w.post("/staff/team", {"name": "", "role": "scanner"}), "name"),
    field("team: name taken", lambda w: w.post("/staff/team", {"name": ADMIN, "role": "scanner"}), "name"),
    field("team: name too long", lambda w: w.post("/staff/team", {"name": "n" * 81, "role": "scanner"}), "name"),
    field("team: unknown role", lambda w: w.post("/staff/team", {"name": "neu", "role": "chef"}), "role"),
    field(
        "team: unknown event",
        lambda w: w.post("/staff/team", {"name": "neu", "role": "scanner", "events": "gibt-es-nicht"}),
        "events",
    ),
    msg(
        "team: unknown role for an account",
        lambda w: w.post(f"/staff/team/{w.account_id(SCANNER)}/role", {f"a{w.account_id(SCANNER)}-role": "chef"}),
    ),
    msg(
        "team: switch off own account",
        lambda w: w.post(f"/staff/team/{w.account_id(ADMIN)}/disable", {}),
    ),
    # -- the programme: a session, removing it, announcements, rooms/topics/speakers --
    field(
        "session: no title", lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, title="")), "title"
    ),
    field(
        "session: title too long",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, title="T" * 301)),
        "title",
    ),
    field(
        "session: end before start",
        lambda w: w.post(
            f"{E}/sessions/{w.session_id}/edit", session_form(w, end=local(w, -30).strftime("%Y-%m-%dT%H:%M"))
        ),
        "end",
    ),
    field(
        "session: no start", lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, start="")), "start"
    ),
    field(
        "session: start not a time",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, start="morgen früh")),
        "start",
    ),
    field(
        "session: unknown kind",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, kind="x")),
        "kind",
    ),
    field(
        "session: unknown room",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, room="Keller")),
        "room",
    ),
    field(
        "session: unknown speaker",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, speakers="Niemand Bekanntes")),
        "speakers",
    ),
    field(
        "session: abstract too long",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/edit", session_form(w, abstract="A" * 5001)),
        "abstract",
    ),
    field("new session: empty form", lambda w: w.post(f"{E}/sessions/new", {}), "title"),
    field(
        "session: remove without confirming",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/remove", {}),
        "remove-confirm",
    ),
    msg("announcement: withdraw an unknown one", lambda w: w.post(f"{E}/announcements/999999/withdraw", {})),
    field(
        "setup: remove a room with sessions",
        lambda w: w.post(f"{E}/setup/room/{w.event.rooms[0].id}/remove", {}),
        lambda w: f"room-{w.event.rooms[0].id}",
    ),
    field(
        "setup: remove a topic in use",
        lambda w: w.post(f"{E}/setup/topic/{w.topic_id}/remove", {}),
        lambda w: f"topic-{w.topic_id}",
    ),
    msg("editor: unknown room", lambda w: w.post(f"{E}/sessions/{w.session_id}/room", {"room": "Keller"})),
    msg("editor: unknown status", lambda w: w.post(f"{E}/sessions/{w.session_id}/status", {"status": "vertagt"})),
    msg(
        "editor: overrun before it started",
        lambda w: w.post(
            f"{E}/sessions/{w.session2_id}/overrun",
            {"step": "5", "at": local(w, -60, w.session2_id).isoformat(timespec="seconds")},
        ),
    ),
    msg(
        "editor: runs over",
        lambda w: w.post(
            f"{E}/sessions/{w.session_id}/overrun",
            {"step": "5", "at": local(w, 10).isoformat(timespec="seconds")},
        ),
    ),
    msg(
        "editor: delay of a running session",
        lambda w: w.post(
            f"{E}/sessions/{w.session_id}/delay",
            {"step": "5", "at": local(w, 10).isoformat(timespec="seconds")},
        ),
    ),
    field("announcement: no text", lambda w: w.post(f"{E}/announcements", {"text": "", "severity": "info"}), "text"),
    field(
        "announcement: text too long",
        lambda w: w.post(f"{E}/announcements", {"text": "D" * 501, "severity": "info"}),
        "text",
    ),
    field(
        "announcement: unknown severity",
        lambda w: w.post(f"{E}/announcements", {"text": "Hallo", "severity": "laut"}),
        "severity",
    ),
    field(
        "announcement: expiry out of range",
        lambda w: w.post(f"{E}/announcements", {"text": "Hallo", "severity": "info", "expires_in_minutes": "0"}),
        "expires_in_minutes",
    ),
    field(
        "announcement: expiry not a number",
        lambda w: w.post(f"{E}/announcements", {"text": "Hallo", "severity": "info", "expires_in_minutes": "bald"}),
        "expires_in_minutes",
    ),
    field("setup: room without name", lambda w: w.post(f"{E}/setup/room", {"name": ""}), "new-room"),
    field("setup: room name taken", lambda w: w.post(f"{E}/setup/room", {"name": w.rooms[0]}), "new-room"),
    field("setup: room name too long", lambda w: w.post(f"{E}/setup/room", {"name": "R" * 101}), "new-room"),
    field(
        "setup: rename room to another's name",
        lambda w: w.post(f"{E}/setup/room/{w.event.rooms[0].id}/rename", {"name": w.rooms[1]}),
        lambda w: f"room-{w.event.rooms[0].id}",
    ),
    field("setup: topic without name", lambda w: w.post(f"{E}/setup/topic", {"name": ""}), "new-topic"),
    field("setup: speaker without name", lambda w: w.post(f"{E}/setup/speaker", {"name": ""}), "new-speaker"),
    field(
        "setup: speaker role too long",
        lambda w: w.post(f"{E}/setup/speaker", {"name": "Neue Person", "role": "F" * 301}),
        "new-speaker",
    ),
    field(
        "setup: board phrase too long",
        lambda w: w.post(f"{E}/setup/topic/{w.topic_id}/phrases", {"phrase": "P" * 201}),
        "phrase",
    ),
    # -- the event's settings, a new event, municipalities --
    field("event: no title", lambda w: w.post(f"{E}/event", event_form(w, title="")), "title"),
    field("event: end before start", lambda w: w.post(f"{E}/event", event_form(w, end="2019-05-03T08:00")), "end"),
    field("event: capacity 0", lambda w: w.post(f"{E}/event", event_form(w, capacity="0")), "capacity"),
    field("event: capacity not a number", lambda w: w.post(f"{E}/event", event_form(w, capacity="viele")), "capacity"),
    field(
        "event: registration closes before it opens",
        lambda w: w.post(
            f"{E}/event",
            event_form(w, registration_opens="2019-05-01T09:00", registration_closes="2019-04-01T09:00"),
        ),
        "registration_closes",
    ),
    field("event: unknown time zone", lambda w: w.post(f"{E}/event", event_form(w, timezone="Mars/Olymp")), "timezone"),
    field("new event: empty form", lambda w: w.post("/staff/events/new", {}), "title"),
    field(
        "new event: bad short name", lambda w: w.post("/staff/events/new", event_form(w, slug="Kein Kurzname!")), "slug"
    ),
    field("new event: short name taken", lambda w: w.post("/staff/events/new", event_form(w, slug=SLUG)), "slug"),
    field(
        "new event: copy from unknown event",
        lambda w: w.post("/staff/events/new", event_form(w, copy_from="gibt-es-nicht")),
        "copy_from",
    ),
    field("municipality: no name", lambda w: w.post(f"{E}/municipalities", {"name": ""}), "name"),
    field(
        "municipality: unknown place without position",
        lambda w: w.post(f"{E}/municipalities", {"name": "Xyzzyhausen am Nirgendwo"}),
        "name",
    ),
    field(
        "municipality: latitude out of range",
        lambda w: w.post(f"{E}/municipalities", {"name": "Xyzzyhausen", "lat": "100", "lon": "7"}),
        "lat",
    ),
    field(
        "municipality: latitude not a number",
        lambda w: w.post(f"{E}/municipalities", {"name": "Xyzzyhausen", "lat": "Norden", "lon": "7"}),
        "lat",
    ),
    field("municipality: already taking part", lambda w: w.post(f"{E}/municipalities", {"name": "Trier"}), "name"),
    # -- guests: by hand, CSV import --
    field("guest: no name", lambda w: w.post(f"{E}/guests/new", {"city": "Trier"}), "name"),
    field("guest: bad e-mail address", lambda w: w.post(f"{E}/guests/new", guest_form(email="kein-at")), "email"),
    field("guest: name too long", lambda w: w.post(f"{E}/guests/new", guest_form(name="N" * 201)), "name"),
    field("guest: notes too long", lambda w: w.post(f"{E}/guests/new", guest_form(notes="N" * 5001)), "notes"),
    msg(
        "guest: maybe there already",
        lambda w: w.post(f"{E}/guests/new", {"name": "Erika Mustermann", "city": "Trier"}),
    ),
    field(
        "guest edit: bad e-mail address",
        lambda w: w.post(f"{E}/guests/{w.guest_id}/edit", guest_form(email="erika.example.org")),
        "email",
    ),
    field("guest import: no file", lambda w: w.post(f"{E}/guests/import", {}), "file"),
    field("guest import: empty file", lambda w: csv_preview(w, b""), "file"),
    field("guest import: not a CSV", lambda w: csv_preview(w, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "file"),
    field("guest import: no name column", lambda w: csv_preview(w, b"Farbe;Zahl\r\nrot;1\r\n"), "file"),
    page("guest import: preview with bad rows", csv_preview, 200),
    # a stale form (the button now always carries skip_bad_rows when rows are bad): the refusal is translated
    msg("guest import: confirm bad rows without skipping", csv_confirm_without_skip),
    msg(
        "guest import: confirm an unknown upload",
        lambda w: w.post(f"{E}/guests/import/confirm", {"upload_id": "x" * 22}),
    ),
    # -- the schedule import: form and files --
    field("schedule import: neither file nor address", lambda w: w.post(f"{E}/import", {}), "file"),
    field(
        "schedule import: file and address",
        lambda w: w.upload(f"{E}/import", "file", b"{}", "schedule.json", {"url": "https://example.org/s.json"}),
        "url",
    ),
    field(
        "schedule import: follow a file",
        lambda w: w.upload(f"{E}/import", "file", b"{}", "s.json", {"follow": "y"}),
        "follow",
    ),
    field("schedule import: not an address", lambda w: w.post(f"{E}/import", {"url": "ftp://example.org/x"}), "url"),
    field("schedule import: empty file", lambda w: schedule(w, b"", "schedule.json"), "file"),
    field("schedule import: not a schedule", lambda w: schedule(w, b"Hallo Welt", "notizen.txt"), "file"),
    field(
        "schedule import: broken JSON", lambda w: schedule(w, b'{"schedule": {"conference": ', "schedule.json"), "file"
    ),
    field("schedule import: JSON list", lambda w: schedule(w, b"[1, 2]", "schedule.json"), "file"),
    field(
        "schedule import: JSON without schedule", lambda w: schedule(w, b'{"version": "1"}', "schedule.json"), "file"
    ),
    field(
        "schedule import: JSON without conference",
        lambda w: schedule(w, b'{"schedule": {"version": "1"}}', "schedule.json"),
        "file",
    ),
    field(
        "schedule import: JSON without days",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"].pop("days")),
        "file",
    ),
    field(
        "schedule import: unknown time zone",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"].update(time_zone_name="Mars/Olymp")),
        "file",
    ),
    page(  # the preview with the button "… übernehmen, 1 fehlerhaften überspringen"
        "schedule import: preview with a faulty session",
        lambda w: broken_json(w, lambda d: (first_event(d).update(duration="eine Stunde"), first_event(d).pop("end"))),
        200,
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: bad duration",
        lambda w: broken_json(w, lambda d: (first_event(d).update(duration="eine Stunde"), first_event(d).pop("end"))),
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: event without start",
        lambda w: broken_json(w, lambda d: [first_event(d).pop(k, None) for k in ("start", "date", "end")]),
    ),
    field(
        "schedule import: bad date of a day",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"]["days"][0].update(date="gestern")),
        "file",
    ),
    field(
        "schedule import: bad start of a day",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"]["days"][0].update(day_start="gestern")),
        "file",
    ),
    field(
        "schedule import: bad start of the conference",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"].update(start="gestern")),
        "file",
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: title not text",
        lambda w: broken_json(w, lambda d: first_event(d).update(title={"de": "Titel"})),
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: event without title",
        lambda w: broken_json(w, lambda d: first_event(d).update(title=None)),
    ),
    field(
        "schedule import: day without rooms",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"]["days"][0].pop("rooms")),
        "file",
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: event not an object",
        lambda w: broken_json(w, lambda d: d["schedule"]["conference"]["days"][0]["rooms"].update({w.rooms[0]: [5]})),
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: event ends before it starts",
        lambda w: broken_json(
            w, lambda d: (first_event(d).pop("duration"), first_event(d).update(end="2018-10-26T09:00:00+02:00"))
        ),
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: persons not a list",
        lambda w: broken_json(w, lambda d: first_event(d).update(persons="alle")),
    ),
    msg(  # a faulty session is skipped, the preview lists it
        "schedule import: a person without name",
        lambda w: broken_json(w, lambda d: first_event(d).update(persons=[7])),
    ),
    field(
        "schedule import: events not a list",
        lambda w: broken_json(
            w, lambda d: d["schedule"]["conference"]["days"][0]["rooms"].update({w.rooms[0]: "keine"})
        ),
        "file",
    ),
    field("schedule import: broken XML", lambda w: broken_xml(w, "</title>", "</titel>"), "file"),
    field(
        "schedule import: XML root",
        lambda w: schedule(w, b"<?xml version='1.0'?><fahrplan/>", "schedule.xml"),
        "file",
    ),
    field(
        "schedule import: XML without conference",
        lambda w: schedule(w, b"<?xml version='1.0'?><schedule><version>1</version></schedule>", "schedule.xml"),
        "file",
    ),
    field(
        "schedule import: XML entity",
        lambda w: schedule(
            w, b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "y">]><schedule>&x;</schedule>', "schedule.xml"
        ),
        "file",
    ),
    msg("schedule import: XML bad start", lambda w: broken_xml(w, "<start>", "<start>x")),
    msg("schedule import: apply an unknown preview", lambda w: w.post(f"{E}/import/apply", {"token": "t" * 22})),
    msg("schedule import: pull without following", lambda w: w.post(f"{E}/import/follow/pull", {})),
    # -- the door: devices, pairing, the kiosk --
    msg("devices: no name", lambda w: w.post(f"{E}/devices", {"name": ""})),
    msg("devices: name taken", lambda w: w.post(f"{E}/devices", {"name": ADMIN})),
    msg("devices: name too long", lambda w: w.post(f"{E}/devices", {"name": "G" * 81})),
    msg(
        "devices: kiosk PIN too short",
        lambda w: w.post(f"{E}/devices", {"name": "Terminal", "kind": "kiosk", "pin": "12"}),
    ),
    msg("devices: unknown kind", lambda w: w.post(f"{E}/devices", {"name": "Gerät X", "kind": "toaster"})),
    msg("pairing: wrong code", lambda w: w.get("/staff/pair/FALSCH123", who="anon")),
    api("kiosk: empty body", lambda w: w.api("POST", f"{E}/kiosk/checkin", {}, who="staff", csrf=True), 400),
    api(
        "kiosk: neither code nor name",
        lambda w: w.api("POST", f"{E}/kiosk/checkin", {"nonce": "n-1"}, who="staff", csrf=True),
        400,
    ),
    api(
        "kiosk: name too long",
        lambda w: w.api(
            "POST", f"{E}/kiosk/checkin", {"nonce": "n-1", "name": "N" * 300, "place": "Trier"}, who="staff", csrf=True
        ),
        400,
    ),
    # -- mail --
    field(
        "mail: test to a bad address",
        lambda w: with_mail(w).post(f"{E}/mail/test", {"address": "kein-at"}),
        "address",
    ),
    field("mail: test without address", lambda w: with_mail(w).post(f"{E}/mail/test", {"address": ""}), "address"),
    field("mail: unknown choice of guests", lambda w: w.post(f"{E}/mail/mailings", {"guests": "manche"}), "guests"),
    msg(
        "mail: ticket for a guest without e-mail",
        lambda w: w.post(f"{E}/guests/{w.guest_id_of('Demo-Delegation Trier')}/ticket-mail", {}),
    ),
    # -- what guests fill in: registration, the board's invitation code, deleting their data --
    field("register: empty form", lambda w: w.post(f"/e/{SLUG}/register", {}, who="anon"), "name"),
    field(
        "register: no consent",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, consent=""), who="anon"),
        "consent",
    ),
    field(
        "register: bad e-mail address",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, email="jana@"), who="anon"),
        "email",
    ),
    field(
        "register: other municipality without name",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, municipality="__other__"), who="anon"),
        "other_city",
    ),
    field(
        "register: wrong invitation code",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, invite_code="FALSCH"), who="anon"),
        "invite_code",
    ),
    field(
        "register: unknown municipality",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, municipality="Atlantis"), who="anon"),
        "municipality",
    ),
    field(
        "register: name too long",
        lambda w: w.post(f"/e/{SLUG}/register", register_form(w, name="N" * 201), who="anon"),
        "name",
    ),
    msg(
        "register: page open too long (no CSRF token)",
        lambda w: w.csrf().post(f"/e/{SLUG}/register", register_form(w), who="anon"),
    ),
    field(
        "board: wrong invitation code",
        lambda w: w.post(f"/t/{w.unconfirmed_token}/board/confirm", {"code": "FALSCH"}, who="anon"),
        "code",
    ),
    field(
        "board: no invitation code",
        lambda w: w.post(f"/t/{w.unconfirmed_token}/board/confirm", {"code": ""}, who="anon"),
        "code",
    ),
    field(
        "my data: delete without confirming",
        lambda w: w.post(f"/t/{w.guest_token}/my-data/delete", {}, who="anon"),
        "confirm",
    ),
    msg(
        "my data: page open too long (no CSRF token)",
        lambda w: w.csrf().post(f"/t/{w.guest_token}/my-data/delete", {"confirm": "y"}, who="anon"),
    ),
    msg("ticket: check-in with a doctored form", lambda w: w.post(f"/t/{w.guest_token}/checkin", {"nonce": ""})),
    msg("report: unknown certificate language", lambda w: checked_in(w).get(f"{E}/report?language=fr")),
    msg("report: bad certificate date", lambda w: checked_in(w).get(f"{E}/report?date=gestern")),
    page("400: certificates with a bad date", lambda w: checked_in(w).get(f"{E}/certificates.pdf?date=gestern"), 400),
    page(
        "404: certificate of a guest not checked in",
        lambda w: checked_in(w).get(f"{E}/certificates/{w.people['Otto Außenstehend']}.pdf"),
        404,
    ),
    # -- API errors, as the pages show them (error.message, with the lang cookie) --
    api(
        "agenda API: end before start",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"planned_end": local(w, -30).isoformat()}),
        400,
    ),
    api(
        "agenda API: delay not a number",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"delay_minutes": "zehn"}),
        400,
    ),
    api(
        "agenda API: delay out of range",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"delay_minutes": 100000}),
        400,
    ),
    api(
        "agenda API: unknown status",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"status": "vertagt"}),
        400,
    ),
    api("agenda API: empty title", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"title": " "}), 400),
    api("agenda API: title not text", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"title": 5}), 400),
    api("agenda API: unknown field", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"42": "rot"}), 400),
    api(
        "agenda API: unknown room", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"room": "Keller"}), 400
    ),
    api("agenda API: room not text", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"room": 3}), 400),
    api(
        "agenda API: unknown speaker",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"speakers": ["Niemand Bekanntes"]}),
        400,
    ),
    api(
        "agenda API: speakers not a list",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"speakers": "alle"}),
        400,
    ),
    api(
        "agenda API: start not a time",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"planned_start": "morgen"}),
        400,
    ),
    api(
        "agenda API: start without zone",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"planned_start": "2018-10-26T14:00:00"}),
        400,
    ),
    api(
        "agenda API: shift not true/false",
        lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", {"shift_following": "ja"}),
        400,
    ),
    api("agenda API: overrun before it started", future_overrun, 409),
    api(
        "agenda API: delay of a running session",
        lambda w: (
            w.api(
                "PATCH", f"{API}/sessions/{w.session_id}", {"planned_start": now_iso(-10), "planned_end": now_iso(50)}
            )
            and w.api("PATCH", f"{API}/sessions/{w.session_id}", {"delay_minutes": 10})
        ),
        409,
    ),
    api("agenda API: unknown session", lambda w: w.api("PATCH", f"{API}/sessions/999999", {"title": "X"}), 404),
    api("agenda API: unknown event", lambda w: w.api("GET", "/api/v1/events/gibt-es-nicht/agenda"), 404),
    api("agenda API: not JSON", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", data="title=X"), 415),
    api(
        "agenda API: broken JSON",
        lambda w: w.api(
            "PATCH", f"{API}/sessions/{w.session_id}", data="{", headers={"Content-Type": "application/json"}
        ),
        400,
    ),
    api("agenda API: JSON not an object", lambda w: w.api("PATCH", f"{API}/sessions/{w.session_id}", [1]), 400),
    api("agenda API: new session without fields", lambda w: w.api("POST", f"{API}/sessions", {}), 400),
    api("agenda API: announcement without text", lambda w: w.api("POST", f"{API}/announcements", {"text": ""}), 400),
    api(
        "agenda API: announcement severity",
        lambda w: w.api("POST", f"{API}/announcements", {"text": "Hallo", "severity": "laut"}),
        400,
    ),
    api("agenda API: room without name", lambda w: w.api("POST", f"{API}/rooms", {"name": ""}), 400),
    api("agenda API: topic without name", lambda w: w.api("POST", f"{API}/topics", {}), 400),
    api("agenda API: no credential", lambda w: w.api("POST", f"{API}/rooms", {"name": "X"}, who="anon"), 401),
    api(
        "agenda API: wrong token",
        lambda w: w.api("POST", f"{API}/rooms", {"name": "X"}, headers={"Authorization": "Bearer falsch"}, who="anon"),
        401,
    ),
    api("agenda API: door account", lambda w: w.api("POST", f"{API}/rooms", {"name": "X"}, who="door", csrf=True), 403),
    api(
        "agenda API: browser without CSRF header",
        lambda w: w.csrf().api("POST", f"{API}/rooms", {"name": "X"}, who="staff"),
        403,
    ),
    api("check-in API: empty scan", lambda w: w.api("POST", f"{API}/checkins", {}), 400),
    api("check-in API: scan without nonce", lambda w: w.api("POST", f"{API}/checkins", {"code": "ABCD1234"}), 400),
    api("check-in API: batch not a list", lambda w: w.api("POST", f"{API}/checkins/batch", {"scans": "alle"}), 400),
    api("check-in API: undo without nonce", lambda w: w.api("POST", f"{API}/checkins/1/undo", {}), 400),
    api("check-in API: undo unknown", lambda w: w.api("POST", f"{API}/checkins/999999/undo", {"nonce": "n-1"}), 404),
    api("check-in API: search too short", lambda w: w.api("GET", f"{API}/guests?q=a", who="door"), 400),
    api(
        "check-in API: door account scans for another event",
        lambda w: w.api(
            "POST", "/api/v1/events/gibt-es-nicht/checkins", {"code": "X", "nonce": "n"}, who="door", csrf=True
        ),
        404,
    ),
    api("guest API: no name", lambda w: w.api("POST", f"{API}/guests", {"name": ""}), 400),
    api(
        "guest API: bad e-mail",
        lambda w: w.api("POST", f"{API}/guests", {"name": "Hanna Test", "email": "kein-at"}),
        400,
    ),
    api(
        "guest API: unknown field",
        lambda w: w.api("POST", f"{API}/guests", {"name": "Hanna Test", "42": "rot"}),
        400,
    ),
    api("guest API: name too long", lambda w: w.api("POST", f"{API}/guests", {"name": "N" * 201}), 400),
    api("guest API: unknown guest", lambda w: w.api("PATCH", f"{API}/guests/999999", {"name": "X"}), 404),
    api(
        "board API: interests not a list",
        lambda w: w.api(
            "PUT", f"/api/v1/t/{w.delegate_token}/interests", {"consent": True, "interests": "alle"}, who="anon"
        ),
        400,
    ),
    api(
        "board API: unknown topic",
        lambda w: w.api(
            "PUT",
            f"/api/v1/t/{w.delegate_token}/interests",
            {"consent": True, "interests": [{"topic": "gibt-es-nicht", "stage": "runs"}]},
            who="anon",
        ),
        400,
    ),
    api(
        "board API: unknown stage",
        lambda w: w.api(
            "PUT",
            f"/api/v1/t/{w.delegate_token}/interests",
            {"consent": True, "interests": [{"topic": delegate_slug(w), "stage": "vielleicht"}]},
            who="anon",
        ),
        400,
    ),
    api(
        "board API: interest not an object",
        lambda w: w.api(
            "PUT", f"/api/v1/t/{w.delegate_token}/interests", {"consent": True, "interests": ["Parken"]}, who="anon"
        ),
        400,
    ),
    api(
        "board API: a topic twice",
        lambda w: w.api(
            "PUT",
            f"/api/v1/t/{w.delegate_token}/interests",
            {"consent": True, "interests": [{"topic": delegate_slug(w), "stage": "runs"}] * 2},
            who="anon",
        ),
        400,
    ),
    api(
        "board API: no consent", lambda w: w.api("PUT", f"/api/v1/t/{w.delegate_token}/interests", {}, who="anon"), 400
    ),
    api(
        "board API: consent not true/false",
        lambda w: w.api("PUT", f"/api/v1/t/{w.delegate_token}/interests", {"consent": "ja"}, who="anon"),
        400,
    ),
    api(
        "board API: bad version",
        lambda w: w.api("PUT", f"/api/v1/t/{w.delegate_token}/interests", {"version": "neu"}, who="anon"),
        400,
    ),
    api(
        "board API: meeting without partner",
        lambda w: w.api("POST", f"/api/v1/t/{w.delegate_token}/meetings", {}, who="anon"),
        400,
    ),
    api(
        "board API: meeting with itself",
        lambda w: w.api(
            "POST", f"/api/v1/t/{w.delegate_token}/meetings", {"with": "Trier", "topic": delegate_slug(w)}, who="anon"
        ),
        400,
    ),
    api(
        "board API: meeting with an unknown town",
        lambda w: w.api(
            "POST",
            f"/api/v1/t/{w.delegate_token}/meetings",
            {"with": "Atlantis", "topic": delegate_slug(w)},
            who="anon",
        ),
        400,
    ),
    api(
        "board API: answer not true/false",
        lambda w: w.api("POST", f"/api/v1/t/{w.delegate_token}/meetings/1", {"accept": "ja"}, who="anon"),
        400,
    ),
    api(
        "board API: answer unknown request",
        lambda w: w.api("POST", f"/api/v1/t/{w.delegate_token}/meetings/999999", {"accept": True}, who="anon"),
        404,
    ),
    api(
        "board API: not a delegate",
        lambda w: w.api("GET", f"/api/v1/t/{w.unconfirmed_token}/interests", who="anon"),
        403,
    ),
    api(
        "board API: town not taking part",
        lambda w: w.api("GET", f"/api/v1/t/{w.outsider_token}/interests", who="anon"),
        409,
    ),
    api("board API: unknown ticket", lambda w: w.api("GET", "/api/v1/t/xyz/interests", who="anon"), 404),
    api("board API: unknown municipality", lambda w: w.api("PUT", f"{API}/municipalities/Atlantis/interests", {}), 404),
    api(
        "favourites: not a list",
        lambda w: w.api("PUT", f"/t/{w.guest_token}/favourites", {"sessions": "alle"}, who="anon"),
        400,
    ),
    api("mail API: unknown choice", lambda w: w.api("POST", f"{API}/mailings", {"guests": "manche"}), 400),
    api("mail API: empty list", lambda w: w.api("POST", f"{API}/mailings", {"guests": []}), 400),
    api("mail API: unknown mailing", lambda w: w.api("GET", f"{API}/mailings/999999"), 404),
    api("mail API: unknown guest", lambda w: w.api("POST", f"{API}/guests/999999/ticket-mail", {}), 404),
    # -- error pages --
    page("400: bad characters in the address", lambda w: w.get(f"/e/{SLUG}/?q=%00"), 400),
    page("400: staff form without CSRF token", lambda w: w.csrf().post(f"{E}/setup/room", {"name": "Ratssaal"}), 400),
    page("403: organiser page for the door account", lambda w: w.get(f"{E}/guests", who="door"), 403),
    page("404: mistyped ticket link", lambda w: w.get("/t/xyz", who="anon"), 404),
    page("404: unknown room screen", lambda w: w.get(f"/e/{SLUG}/screen/keller", who="anon"), 404),
    page("404: unknown event", lambda w: w.get("/e/gibt-es-nicht/", who="anon"), 404),
    page("404: unknown event (staff)", lambda w: w.get("/staff/e/gibt-es-nicht/"), 404),
    page("404: unknown guest (staff)", lambda w: w.get(f"{E}/guests/999999/edit"), 404),
    page("404: unknown page", lambda w: w.get("/gibt-es-nicht", who="anon"), 404),
    page("404: no certificates yet", lambda w: w.get(f"{E}/certificates.pdf"), 404),
    page("404: plan of a guest who is no delegate", lambda w: w.get(f"/t/{w.guest_token}/plan", who="anon"), 404),
    page(
        "403: board of a guest not yet confirmed", lambda w: w.get(f"/t/{w.unconfirmed_token}/board", who="anon"), 403
    ),
    page("409: board of a town not taking part", lambda w: w.get(f"/t/{w.outsider_token}/board", who="anon"), 409),
    page("404: unknown session (staff)", lambda w: w.get(f"{E}/sessions/999999/edit"), 404),
    page(
        "404: renew the code of an unknown municipality", lambda w: w.post(f"{E}/delegations", {"renew": "999999"}), 404
    ),
    page("404: review an unknown conflict", lambda w: w.post(f"{E}/conflicts/999999/reviewed", {}), 404),
    page("404: revoke an unknown device", lambda w: w.post(f"{E}/devices/999999/revoke", {}), 404),
    page("400: retry a message that is no number", lambda w: w.post(f"{E}/mail/retry", {"message": "x"}), 400),
    page(
        "400: delay step that is no button's",
        lambda w: w.post(f"{E}/sessions/{w.session_id}/delay", {"step": "x"}),
        400,
    ),
    page("405: wrong method", lambda w: w.clients["anon"].delete("/"), 405),
    page("410: gone", lambda w: w.get("/i18n-test/gone", who="anon"), 410),
    page("413: too large", too_large, 413),
    page("429: too many logins", rate_limited, 429),
    page("500: unexpected error", lambda w: w.get("/i18n-test/raises", who="anon"), 500),
    # -- what the pages' scripts show (a wrong PIN, an offline scan, a failed save …) --
    script("scripts: scanner", lambda w: w.get(f"{E}/scan")),
    script("scripts: kiosk", lambda w: w.get(f"{E}/kiosk")),
    script("scripts: arrivals dashboard", lambda w: w.get(f"{E}/checkin")),
    script("scripts: agenda", lambda w: w.get(f"/e/{SLUG}/", who="anon")),
    script("scripts: projector", lambda w: w.get(f"/e/{SLUG}/screen", who="anon")),
    script("scripts: board", lambda w: w.get(f"/e/{SLUG}/board", who="anon")),
    script("scripts: board projector", lambda w: w.get(f"/e/{SLUG}/board/screen", who="anon")),
    script("scripts: delegate page", lambda w: w.get(f"/t/{w.delegate_token}/board", who="anon")),
    # -- the change log, and what the editor says after a change --
    page("change log after changes", changes_made, 200),
    msg("editor: delayed", lambda w: w.post(f"{E}/sessions/{w.session2_id}/delay", {"step": "10"})),
    msg("editor: moved", lambda w: w.post(f"{E}/sessions/{w.session2_id}/room", {"room": w.rooms[-1]})),
    msg("editor: cancelled", lambda w: w.post(f"{E}/sessions/{w.session2_id}/status", {"status": "cancelled"})),
    msg("setup: room added", lambda w: w.post(f"{E}/setup/room", {"name": "Ratssaal"})),
]


# ---- the test -----------------------------------------------------------------------------------------


def shown(case, w, response):
    """The texts of the case's message(s), after checking it reached the error path it is about."""
    if case.show == "json":
        assert response.status_code == case.status, (response.status_code, response.get_data(as_text=True)[:500])
        body = response.get_json(silent=True) or {}
        message = (body.get("error") or {}).get("message")
        assert message, f"no error.message in {body}"
        return [message]
    if case.show == "script":
        assert response.status_code == case.status, (response.status_code, page_text(document(response))[-1:])
        raw = re.search(
            r'<script type="application/json" id="i18n">(.*?)</script>', response.get_data(as_text=True), re.S
        )
        assert raw, "the page hands its scripts no texts"
        # The scripts fill in {name}, {time} …: placeholders, not words.
        texts = json.loads(raw.group(1)).values()
        return [re.sub(r"\{\w+\}", "{}", text) for text in texts if isinstance(text, str)]
    doc = document(response)
    if case.show == "page":
        assert response.status_code == case.status, (response.status_code, page_text(doc)[:3])
        return page_text(doc)
    texts = messages(doc)
    assert texts, f"no message shown (status {response.status_code}): {page_text(doc)}"
    if case.show == "field":
        want = case.field(w) if callable(case.field) else case.field
        tied = [(text_of(el), tied_fields(doc, el)) for el in error_elements(doc)]
        assert any(want in fields and text for text, fields in tied), (
            f"no error tied to the field {want!r}; errors shown: {[(t, sorted(f)) for t, f in tied]}"
        )
    return texts


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_untranslated_text(walker_for, case, lang):
    w = walker_for(lang)
    response = case.reach(w)
    texts = shown(case, w, response)
    if os.environ.get("I18N_SHOW") == "1":  # to see what each case read: I18N_SHOW=1 pytest -s …
        print(f"\n[{case.name} | {lang} | {response.status_code}]", *texts, sep="\n    ")
    values = w.known_values()
    found = [(text, problems) for text in texts if (problems := untranslated(text, lang, values))]
    assert not found, "\n".join(f"{text!r}\n    -> {'; '.join(problems)}" for text, problems in found)


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("⟦Zeile ⟧3⟦: ⟧name must not be empty", PSEUDO, "not from a catalogue"),
        ("⟦Zeile ⟧3⟦: ⟧⟦Bitte einen Namen angeben.⟧", PSEUDO, None),
        ("⟦Programmpunkt ⟧7⟦ (⟧⟦Zeile ⟧12⟦)⟧", PSEUDO, None),
        ("⟦Unbekannt: ⟧Keller", PSEUDO, None),
        ("vendredo, la 26-a de Oktobro 2018", PSEUDO, None),
        ("„planned_end“ muss nach dem Beginn liegen", "de", "code"),
        ("name must not be empty", "de", "English in German"),
        ("Bitte einen Namen angeben.", "de", None),
        ("Zeile 3: Bitte einen Namen angeben.", "en", "German in English"),
        ("Please enter a name for Zweibrücken.", "en", None),
        ("Line 3: wieder pünktlich", "en", "German in English"),
        ("session.moved", "en", "code"),
    ],
)
def test_the_rules_can_fail(text, lang, expected):
    """The checks themselves: each catches what it is for, and lets through what people typed."""
    found = untranslated(text, lang, {"Keller", "Zweibrücken"})
    if expected is None:
        assert not found
    else:
        assert any(expected in f for f in found), found
