"""Guests: validating input, creating, editing, cancelling, searching. Used by the API, the registration
page, the staff pages, the CSV import and the CLI."""

import hmac
import unicodedata

from flask import current_app, has_request_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Event, new_invite_code
from ..core.text import compact_key, fold_umlauts
from ..core.urls import external_url
from ..core.validation import boolean, choice, field_label, of_event, refuse_unknown, text
from ..live import touch_stats
from ..mail.models import OutboxMessage
from .models import GUEST_STATUSES, Guest, new_badge_code, new_code, new_token
from .signals import guest_registered, guests_changed, guests_moved_up

FIELDS = {
    "name": 200,  # as printed: "Dr. Käthe Muster"
    "salutation": 20,  # Anrede
    "title": 40,
    "given_name": 100,
    "family_name": 100,
    "city": 120,
    "organisation": 200,
    "role": 200,
    "email": 254,
}
NOTES_MAX = 2000  # staff notes: a few lines, never shown to the guest
NAME_PARTS = ("title", "given_name", "family_name")
SALUTATIONS = ("Frau", "Herr", "Divers")  # what the staff form offers; "" = not given
# How lists spell an Anrede (compact_key of the cell) -> the stored one; anything else is kept as written.
_SALUTATION_SPELLINGS = {
    "frau": "Frau",
    "fr": "Frau",
    "ms": "Frau",
    "mrs": "Frau",
    "miss": "Frau",
    "herr": "Herr",
    "hr": "Herr",
    "hrn": "Herr",
    "herrn": "Herr",
    "mr": "Herr",
    "divers": "Divers",
    "keine": "Divers",
    "keineanrede": "Divers",
    "none": "Divers",
    "mx": "Divers",
}


def normalise_salutation(value):
    """ "frau", "Fr." and "Mrs" are "Frau"; "Hr." and "Mr" are "Herr"; "-" is none; others as written."""
    key = compact_key(value or "")
    if not key:
        return ""
    return _SALUTATION_SPELLINGS.get(key, value)


def compose_name(title="", given_name="", family_name=""):
    """The printed name from its parts: "Dr." + "Käthe" + "Muster" -> "Dr. Käthe Muster"."""
    return " ".join(part for part in (title, given_name, family_name) if part)


# What the guest forms, the API and the CSV import call each field (messages name it: "Bitte „Ort“ ausfüllen.").
FIELD_LABELS = {
    "name": _l("Name"),
    "salutation": _l("Anrede"),
    "title": _l("Titel"),
    "given_name": _l("Vorname"),
    "family_name": _l("Nachname"),
    "city": _l("Kommune"),
    "organisation": _l("Organisation"),
    "role": _l("Funktion"),
    "email": _l("E-Mail"),
    "notes": _l("Notizen"),
    "language": _l("Sprache"),
    "consent_contact": _l("Kontakt erlaubt"),
    "delegate": _l("Delegierte/r"),
    "status": _l("Status"),
}


def _name_missing():
    return DomainError("invalid", _("Bitte einen Namen angeben (oder Vor- und Nachname)."), field="name")


def _name_too_long():
    return DomainError(
        "invalid", _("Der Name darf höchstens %(max)d Zeichen lang sein.", max=FIELDS["name"]), field="name"
    )


def parse_guest(data, required=("name",)):
    """Clean guest fields from a JSON object or form; unknown keys are refused. A new guest's name left out
    (or empty) is composed of title, given and family name; a name alone keeps the parts empty. A change
    (`required` without "name") that empties the name leaves it to update_guest to compose from the parts."""
    refuse_unknown(data, set(FIELDS) | {"notes", "language", "consent_contact", "status", "delegate"})
    clean = {
        key: text(data, key, max_len, allow_empty=True, squash_spaces=True)
        for key, max_len in FIELDS.items()
        if key in data
    }
    if "salutation" in clean:
        clean["salutation"] = normalise_salutation(clean["salutation"])
    if "notes" in data:
        clean["notes"] = text(data, "notes", NOTES_MAX, allow_empty=True)
    if "language" in data:
        clean["language"] = choice(data, "language", current_app.config["LANGUAGES"])
    if not clean.get("name") and (clean.get("given_name") or clean.get("family_name")):
        if "name" in required:
            clean["name"] = compose_name(*(clean.get(key, "") for key in NAME_PARTS))
            if len(clean["name"]) > FIELDS["name"]:
                raise _name_too_long()
        # else: an emptied name stays "", and update_guest makes it of the guest's parts with these
    for key in required:
        if not clean.get(key):
            if key == "name":
                raise _name_missing()
            raise DomainError("invalid", _("Bitte „%(field)s“ ausfüllen.", field=field_label(key)), field=key)
    if "name" in clean and not clean["name"] and not (clean.get("given_name") or clean.get("family_name")):
        raise _name_missing()
    if clean.get("email") and ("@" not in clean["email"] or " " in clean["email"]):
        raise DomainError(
            "invalid", _("„%(email)s“ ist keine E-Mail-Adresse.", email=clean["email"][:60]), field="email"
        )
    for key in ("consent_contact", "delegate"):
        if key in data:
            clean[key] = boolean(data, key)
    if "status" in data:
        clean["status"] = choice(data, "status", GUEST_STATUSES)
    return clean


# ---- sorting by family name ----------------------------------------------------------------------------

# Words before a name that are no part of it: academic titles and degrees, the Anrede. Any word ending in
# a full stop counts too ("Dr.", "Dipl.-Ing.", "h.c.", an initial "H.").
_TITLE_WORDS = set("prof professor professorin dr doktor dipl ing med phil mba ma ba msc bsc llm".split())
_TITLE_WORDS |= {"frau", "herr", "mr", "mrs", "ms"}
# Name particles sort under the word after them (DIN 5007-2): "Hans von Berg" under B.
_PARTICLES = set("von vom van de der den del della di da du zu zum zur ten ter".split())


def _is_title(word):
    return word.endswith(".") or compact_key(word) in _TITLE_WORDS


def _without_titles(words):
    start = 0
    while start < len(words) - 1 and _is_title(words[start]):
        start += 1
    return words[start:]


def _main_part(words):
    """A family name without its leading particles ("von der Heide" -> "Heide")."""
    start = 0
    while start < len(words) - 1 and words[start].casefold() in _PARTICLES:
        start += 1
    return words[start:]


def _sortable(value):
    """Umlauts as in a German telephone book (ä = ae), other accents dropped, case ignored."""
    value = fold_umlauts(value)
    if not value.isascii():  # rare in a German list once the umlauts are folded: "Élodie", "Łukasz"
        value = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return value.casefold()


def name_for_sorting(name, given_name="", family_name=""):
    """(family, given) as a list sorts them: the family name if known, else taken from the printed name
    without academic titles ("Prof. Dr. Hans von Berg" -> ("Berg", "Hans"); "Müller, Hans" -> ("Müller",
    "Hans"))."""
    if family_name:
        return " ".join(_main_part(family_name.split())), given_name
    name = name or ""
    if "," in name:
        before, after = name.split(",", 1)
        rest = [w for w in after.split() if not _is_title(w)]
        if before.split() and rest:  # "Muster, Käthe" (not "Käthe Muster, M.A.")
            return " ".join(_main_part(_without_titles(before.split()))), given_name or " ".join(rest)
        name = before
    words = _without_titles(name.split())
    if not words:
        return "", given_name
    family = [words[-1]]
    given = words[:-1]
    while given and given[-1].casefold() in _PARTICLES:
        given.pop()  # the particle belongs to the family name, which sorts under its main word
    return family[0], given_name or " ".join(given)


def sort_key(guest):
    """Guests in a list: by family name, then given name, then the printed name."""
    family, given = name_for_sorting(guest.name, guest.given_name, guest.family_name)
    return (_sortable(family), _sortable(given), _sortable(guest.name or ""), guest.id or 0)


def letter_salutation(guest):
    """The opening of a letter (mail merge): "Sehr geehrte Frau Dr. Muster", "Dear Mr Berg", else by name."""
    family = guest.family_name or name_for_sorting(guest.name)[0]
    title = " ".join((guest.title or "").split())
    if guest.language == "en":
        honorific = {"Frau": "Ms", "Herr": "Mr"}.get(guest.salutation)
        if honorific and family:
            if "prof" in title.casefold():
                honorific = "Professor"
            elif "dr" in title.casefold():
                honorific = "Dr"
            return f"Dear {honorific} {family}"
        return f"Dear {guest.name}"
    if guest.salutation in ("Frau", "Herr") and family:
        opening = "Sehr geehrte Frau" if guest.salutation == "Frau" else "Sehr geehrter Herr"
        return " ".join(part for part in (opening, title, family) if part)
    return f"Guten Tag {guest.name}"


def municipality_for(event, city):
    """The event's municipality of that name (case-insensitive), or None for "other". Looks in the
    event's list already loaded, so an import of thousands of rows makes no query per row."""
    wanted = compact_key(city or "")  # "Zweibruecken", "zweibrücken" and "Zweibrücken" are one town
    if not wanted:
        return None
    by_name = event.__dict__.get("_municipalities_by_name")  # kept on the object for one import's rows
    if by_name is None:
        by_name = event.__dict__["_municipalities_by_name"] = {compact_key(m.name): m for m in event.municipalities}
    return by_name.get(wanted)


def _without_municipality(event):
    return db.session.execute(
        select(Guest).where(Guest.event_id == event.id, Guest.municipality_id.is_(None), Guest.city != "")
    ).scalars()


def towns_not_taking_part(event, cities=None):
    """Towns named (by the event's guests, or in `cities`, e.g. an upload's rows) that take no part yet:
    [(name, how often)], most first."""
    if cities is None:
        cities = [guest.city for guest in _without_municipality(event)]
    counts = {}
    for city in cities:
        city = (city or "").strip()
        if city and municipality_for(event, city) is None:
            name, n = counts.get(compact_key(city), (city, 0))
            counts[compact_key(city)] = (name, n + 1)
    return sorted(counts.values(), key=lambda item: (-item[1], item[0]))


def guests_per_municipality(event):
    """{municipality id: number of the event's guests registered for it}."""
    rows = db.session.execute(
        select(Guest.municipality_id, func.count(Guest.id))
        .where(Guest.event_id == event.id, Guest.municipality_id.is_not(None))
        .group_by(Guest.municipality_id)
    ).all()
    return dict(rows)


def adopt_guests(event, municipality):
    """The guests who named this newly added municipality as their town belong to it now (in the caller's
    transaction; counters and the table plan follow). Returns how many."""
    event.__dict__.pop("_municipalities_by_name", None)
    adopted = 0
    for guest in _without_municipality(event):
        if compact_key(guest.city) == compact_key(municipality.name):
            guest.municipality, guest.city = municipality, municipality.name
            adopted += 1
    if adopted:
        db.session.flush()
        touch_stats(event)
        guests_changed.send(event)
    return adopted


def invite_matches(municipality, typed):
    """Whether `typed` is the municipality's invitation code (case, spaces and dashes do not matter)."""
    code = "".join((typed or "").split()).replace("-", "").upper()
    return hmac.compare_digest(code.encode(), municipality.invite_code.encode())


def renew_invite_code(municipality):
    """A new invitation code (the old one stops working; delegates confirmed with it stay). Commits."""
    municipality.invite_code = new_invite_code()
    db.session.commit()
    return municipality.invite_code


def guest_values(event, fields, source="staff"):
    """The columns of a new guest from clean fields. Guests the organisers add speak for their
    municipality unless `delegate` says otherwise; self-registered ones only with `delegate` (the
    registration page sets it for a matching invitation code)."""
    municipality = municipality_for(event, fields.get("city", ""))
    values = {k: v for k, v in fields.items() if k not in ("city", "delegate")}
    values.update(
        event_id=event.id,
        source=source,
        is_delegate=fields.get("delegate", source != "self"),
        city=municipality.name if municipality else fields.get("city", ""),
        municipality_id=municipality.id if municipality else None,
    )
    return values


class BulkGuests:
    """Rows for one INSERT of many guests (the CSV import): every row with every column, so the INSERT
    computes no default per row while it holds the write lock; typed and badge codes unique against the
    installation's and each other."""

    def __init__(self, event, source):
        self.event, self.source = event, source
        self.taken = set(db.session.execute(select(Guest.code)).scalars())
        self.badges = set(db.session.execute(select(Guest.badge_code)).scalars())
        self.now = utcnow()
        self.rows = []

    def add(self, fields):
        row = {key: "" for key in FIELDS}
        row.update(notes="", language="de", consent_contact=False, status="registered")
        row.update(guest_values(self.event, fields, self.source))
        code = new_code()
        while code in self.taken:
            code = new_code()
        self.taken.add(code)
        badge = new_badge_code()
        while badge in self.badges:
            badge = new_badge_code()
        self.badges.add(badge)
        row.update(code=code, badge_code=badge, token=new_token(), created_at=self.now)
        self.rows.append(row)


def new_guest(event, fields, source="staff"):
    """A guest object, added to the session but not committed."""
    guest = Guest(**guest_values(event, fields, source))
    db.session.add(guest)
    return guest


def commit_guest_change(event):
    """The end of every change to an event's guest list, in its transaction: the counters go out after the
    commit, and the areas that listen (the board re-plans its tables) add their part before it."""
    db.session.flush()
    touch_stats(event)
    guests_changed.send(event)
    db.session.commit()


def create_guest(event, fields, source="staff"):
    """A new guest; one who registers herself when the event is full goes on the waiting list. Commits."""
    if source == "self" and event.capacity is not None:
        lock_places(event)
    full = source == "self" and event.capacity is not None and "status" not in fields and places_left(event) <= 0
    guest = new_guest(event, fields, source)
    if full:
        guest.status = "waiting"
    if source == "self":
        if has_request_context():
            guest.language = (
                get_locale().language if get_locale() else "de"
            )  # her mails come in the language she registered in
        db.session.flush()
        guest_registered.send(event, guest=guest)  # e.g. the ticket mail, queued in this transaction
    commit_guest_change(event)
    return guest


# ---- registration window, capacity, waiting list -----------------------------------------------------


def registration_state(event, now=None):
    """'open', 'not_yet' or 'closed' for self-registration (within its window; without bounds always open,
    so that a demo or a late guest at the door can still sign up)."""
    now = now or utcnow()
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return "not_yet"
    closes = event.registration_closes_at
    return "closed" if closes is not None and now >= closes else "open"


def _registered_count(event):
    return db.session.scalar(
        select(func.count(Guest.id)).where(Guest.event_id == event.id, Guest.status == "registered")
    )


def lock_places(event):
    """Take the event's row lock (PostgreSQL) or the write lock (SQLite) before counting places, so that
    two sign-ups at the same moment cannot both take the last one."""
    db.session.execute(update(Event).where(Event.id == event.id).values(capacity=Event.capacity))


def places_left(event):
    """Free places (None without a capacity); the guests the organisers added count too."""
    if event.capacity is None:
        return None
    return event.capacity - _registered_count(event)


def waiting_list(event):
    return (
        db.session.execute(
            select(Guest)
            .where(Guest.event_id == event.id, Guest.status == "waiting")
            .order_by(Guest.created_at, Guest.id)
        )
        .scalars()
        .all()
    )


def waiting_position(guest):
    return next((i for i, g in enumerate(waiting_list(guest.event), 1) if g.id == guest.id), None)


def move_up(event):
    """As many of the waiting list as there are free places, first come first, become registered (in the
    caller's transaction). Returns them (they are told by their ticket page, and by mail where there is)."""
    lock_places(event)
    left = places_left(event)
    waiting = waiting_list(event)
    moved = waiting if left is None else waiting[: max(0, left)]
    for guest in moved:
        guest.status = "registered"
    if moved:
        db.session.flush()
        touch_stats(event)
        guests_changed.send(event)
        guests_moved_up.send(event, guests=moved)
    return moved


def _follow_name_parts(guest, fields):
    """Changed name parts change the printed name too while it is the one they made (unchanged or left
    out) or when it is emptied; a name written in another form ("Käthe Muster-Groß, MdL") stays."""
    if not any(key in fields for key in NAME_PARTS):
        return fields
    new = compose_name(*(fields.get(key, getattr(guest, key)) for key in NAME_PARTS))
    old = compose_name(*(getattr(guest, key) for key in NAME_PARTS))
    submitted = fields.get("name")
    derived = submitted == "" or (old and (submitted if submitted is not None else guest.name) == old)
    if not derived:
        return fields
    if not new:
        raise _name_missing()
    if len(new) > FIELDS["name"]:
        raise _name_too_long()
    return {**fields, "name": new}


def update_guest(event, guest, fields):
    """Change a guest (clean fields); a cancelled or removed registration moves the waiting list up."""
    fields = _follow_name_parts(guest, fields)
    freed = guest.status == "registered" and fields.get("status", "registered") != "registered"
    if "city" in fields:
        municipality = municipality_for(event, fields["city"])
        guest.municipality = municipality
        guest.city = municipality.name if municipality else fields["city"]
    for key, value in fields.items():
        if key == "delegate":
            guest.is_delegate = value
        elif key != "city":
            setattr(guest, key, value)
    if freed:
        db.session.flush()
        move_up(event)
    commit_guest_change(event)
    return guest


def get_guest(event, guest_id):
    return of_event(Guest, event, guest_id, _l("Diesen Gast gibt es in dieser Veranstaltung nicht."))


def guest_by_token(token):
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    return db.session.execute(select(Guest).filter_by(token=token)).scalar_one_or_none()


def search_guests(event, query, limit=20):
    """By name, organisation, city or code (for the scanner's manual search)."""
    query = " ".join((query or "").split())[:100]
    stmt = select(Guest).where(Guest.event_id == event.id)
    if query:
        # % and _ are searched for as themselves: "%" must not list everyone.
        like = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(Guest.name).like(like, escape="\\"),
                func.lower(Guest.organisation).like(like, escape="\\"),
                func.lower(Guest.city).like(like, escape="\\"),
                Guest.code == query.upper().replace("-", ""),
            )
        )
    return db.session.execute(stmt.order_by(Guest.name).limit(limit)).scalars().all()


SEARCH_REF = "guest:"  # what the scanner sends to check in a guest found by name (service.find_guest)
SEARCH_REF_HOURS = 12


def _search_signer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="treffpunkt-guest-search")


def search_ref(guest):
    """A signed, expiring reference to a guest found by the door's search: it checks that guest in like
    their code, without handing the code (which admits the guest) to every door phone."""
    return SEARCH_REF + _search_signer().dumps(guest.id)


def guest_for_search_ref(text):
    try:
        guest_id = _search_signer().loads(text[len(SEARCH_REF) :], max_age=SEARCH_REF_HOURS * 3600)
    except BadData:
        return None
    return db.session.get(Guest, guest_id) if isinstance(guest_id, int) else None


def ticket_url(guest, external=False):
    if external:
        return external_url("checkin_pages.ticket", token=guest.token)
    return url_for("checkin_pages.ticket", token=guest.token)


def door_json(guest):
    """What door staff see of a guest found by name: no typed code (it would admit the guest; a door phone
    searching for "a" must not collect them), a search reference to check them in instead."""
    return {
        "id": guest.id,
        "name": guest.name,
        "city": guest.city,
        "organisation": guest.organisation,
        "role": guest.role,
        "status": guest.status,
        "ref": search_ref(guest),
        "code": None,
        "checked_in_at": guest.checkin.at.isoformat() if guest.checkin else None,
        "checked_in_by": guest.checkin.device if guest.checkin else None,
    }


def guest_admin_json(guest):
    """What organisers see of a guest (never the token: it is the guest's key to their own page)."""
    return {
        "ref": search_ref(guest),
        "id": guest.id,
        "name": guest.name,
        "salutation": guest.salutation,
        "title": guest.title,
        "given_name": guest.given_name,
        "family_name": guest.family_name,
        "city": guest.city,
        "organisation": guest.organisation,
        "role": guest.role,
        "email": guest.email,
        "language": guest.language,
        "notes": guest.notes,  # the organisers' own; never in what the guest or the door sees
        "code": guest.code,
        "status": guest.status,
        "delegate": guest.is_delegate,
        "checked_in_at": guest.checkin.at.isoformat() if guest.checkin else None,
        "checked_in_by": guest.checkin.device if guest.checkin else None,
    }


def all_guests(event):
    """The event's guests by family name, then given name (sort_key)."""
    rows = (
        db.session.execute(select(Guest).where(Guest.event_id == event.id).options(selectinload(Guest.checkin)))
        .scalars()
        .all()
    )
    return sorted(rows, key=sort_key)


def find_duplicates(event, fields):
    """The event's guests a new one (clean fields) may be the same person as: [(guest, "email" | "name")],
    by the same e-mail address (case-insensitive) or the same name and municipality (compact_key: case,
    spaces and punctuation do not matter). For the warning before a guest is added by hand."""
    email = (fields.get("email") or "").casefold()
    name = compact_key(fields.get("name") or "")
    municipality = municipality_for(event, fields.get("city", ""))
    city = compact_key(municipality.name if municipality else fields.get("city", ""))
    rows = db.session.execute(
        select(Guest.id, Guest.name, Guest.city, Guest.email).where(Guest.event_id == event.id)
    ).all()
    found = []
    for guest_id, other_name, other_city, other_email in rows:
        if email and (other_email or "").casefold() == email:
            found.append((guest_id, "email"))
        elif name and compact_key(other_name) == name and compact_key(other_city) == city:
            found.append((guest_id, "name"))
    return [(db.session.get(Guest, guest_id), reason) for guest_id, reason in found]


# ---- mail state per guest (read from the outbox, which webapp/mail sends) ----------------------------

MAIL_KINDS = ("ticket", "moved_up")  # the messages that carry the ticket
MAIL_STATES = ("none", "pending", "sent", "failed")  # none: no such message queued for the guest
_MAIL_STATE_OF_STATUS = {"pending": "pending", "sending": "pending", "sent": "sent", "failed": "failed"}


def mail_states(event):
    """{guest id: "pending" | "sent" | "failed"}: the state of each guest's latest ticket message (of
    MAIL_KINDS, by id). Guests without one are not in it: their state is "none"."""
    latest = (
        select(func.max(OutboxMessage.id))
        .where(
            OutboxMessage.event_id == event.id,
            OutboxMessage.kind.in_(MAIL_KINDS),
            OutboxMessage.guest_id.is_not(None),
        )
        .group_by(OutboxMessage.guest_id)
    )
    rows = db.session.execute(
        select(OutboxMessage.guest_id, OutboxMessage.status).where(OutboxMessage.id.in_(latest))
    ).all()
    return {guest_id: _MAIL_STATE_OF_STATUS.get(status, "pending") for guest_id, status in rows}
