"""Guests: validating input, creating, editing, cancelling, searching. Used by the API, the registration
page, the staff pages, the CSV import and the CLI."""

import hmac

from flask import current_app, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Event, new_invite_code
from ..core.text import compact_key
from ..core.urls import external_url
from ..core.validation import boolean, choice, of_event, refuse_unknown, text
from ..live import touch_stats
from .models import GUEST_STATUSES, Guest, new_code, new_token
from .signals import guests_changed

FIELDS = {"name": 200, "city": 120, "organisation": 200, "role": 200, "email": 254}


def parse_guest(data, required=("name",)):
    """Clean guest fields from a JSON object or form; unknown keys are refused."""
    refuse_unknown(data, set(FIELDS) | {"consent_contact", "status", "delegate"})
    clean = {
        key: text(data, key, max_len, allow_empty=True, squash_spaces=True)
        for key, max_len in FIELDS.items()
        if key in data
    }
    for key in required:
        if not clean.get(key):
            raise DomainError("invalid", f"{key} must not be empty")
    if clean.get("email") and ("@" not in clean["email"] or " " in clean["email"]):
        raise DomainError("invalid", "email is not an e-mail address")
    for key in ("consent_contact", "delegate"):
        if key in data:
            clean[key] = boolean(data, key)
    if "status" in data:
        clean["status"] = choice(data, "status", GUEST_STATUSES)
    return clean


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
    """Rows for one INSERT of many guests (the CSV import): every row with every column, typed codes
    unique against the installation's and each other."""

    def __init__(self, event, source):
        self.event, self.source = event, source
        self.taken = set(db.session.execute(select(Guest.code)).scalars())
        self.now = utcnow()
        self.rows = []

    def add(self, fields):
        row = {key: "" for key in FIELDS}
        row.update(consent_contact=False, status="registered")
        row.update(guest_values(self.event, fields, self.source))
        code = new_code()
        while code in self.taken:
            code = new_code()
        self.taken.add(code)
        row.update(code=code, token=new_token(), created_at=self.now)
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
    return moved


def update_guest(event, guest, fields):
    """Change a guest (clean fields); a cancelled or removed registration moves the waiting list up."""
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
    return of_event(Guest, event, guest_id, "guest")


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
        "city": guest.city,
        "organisation": guest.organisation,
        "role": guest.role,
        "code": guest.code,
        "status": guest.status,
        "delegate": guest.is_delegate,
        "checked_in_at": guest.checkin.at.isoformat() if guest.checkin else None,
        "checked_in_by": guest.checkin.device if guest.checkin else None,
    }


def all_guests(event):
    return (
        db.session.execute(
            select(Guest).where(Guest.event_id == event.id).options(selectinload(Guest.checkin)).order_by(Guest.name)
        )
        .scalars()
        .all()
    )
