"""Guests: validating input, creating, editing, cancelling, searching. Used by the API, the registration
page, the staff pages, the CSV import and the CLI."""
from flask import url_for
from sqlalchemy import func, or_, select

from ..agenda.models import Municipality
from ..errors import DomainError, not_found
from ..extensions import db
from ..live import touch_stats
from .models import GUEST_STATUSES, Guest
from .signals import guests_changed

FIELDS = {"name": 200, "city": 120, "organisation": 200, "role": 200, "email": 254}


def parse_guest(data, required=("name",)):
    """Clean guest fields from a JSON object or form; unknown keys are refused."""
    if not isinstance(data, dict):
        raise DomainError("invalid", "expected a JSON object")
    unknown = set(data) - set(FIELDS) - {"consent_contact", "status"}
    if unknown:
        raise DomainError("invalid", "unknown fields: " + ", ".join(sorted(map(str, unknown))[:10]))
    clean = {}
    for key, max_len in FIELDS.items():
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise DomainError("invalid", f"{key} must be text")
            value = " ".join(value.split())
            if len(value) > max_len:
                raise DomainError("invalid", f"{key} is longer than {max_len} characters")
            clean[key] = value
    for key in required:
        if not clean.get(key):
            raise DomainError("invalid", f"{key} must not be empty")
    if clean.get("email") and ("@" not in clean["email"] or " " in clean["email"]):
        raise DomainError("invalid", "email is not an e-mail address")
    if "consent_contact" in data:
        if not isinstance(data["consent_contact"], bool):
            raise DomainError("invalid", "consent_contact must be true or false")
        clean["consent_contact"] = data["consent_contact"]
    if "status" in data:
        if data["status"] not in GUEST_STATUSES:
            raise DomainError("invalid", "status must be one of: " + ", ".join(GUEST_STATUSES))
        clean["status"] = data["status"]
    return clean


def municipality_for(event, city):
    """The event's municipality of that name (case-insensitive), or None for "other". Looks in the
    event's list already loaded, so an import of thousands of rows makes no query per row."""
    wanted = (city or "").casefold()
    return next((m for m in event.municipalities if m.name.casefold() == wanted), None) if wanted else None


def new_guest(event, fields, source="staff"):
    """A guest object, added to the session but not committed (the CSV import adds many at once)."""
    municipality = municipality_for(event, fields.get("city", ""))
    guest = Guest(event=event, source=source, **{k: v for k, v in fields.items() if k != "city"},
                  city=municipality.name if municipality else fields.get("city", ""),
                  municipality=municipality)
    db.session.add(guest)
    return guest


def create_guest(event, fields, source="staff"):
    guest = new_guest(event, fields, source)
    db.session.flush()
    touch_stats(event)
    guests_changed.send(event)
    db.session.commit()
    return guest


def update_guest(event, guest, fields):
    if "city" in fields:
        municipality = municipality_for(event, fields["city"])
        guest.municipality = municipality
        guest.city = municipality.name if municipality else fields["city"]
    for key, value in fields.items():
        if key != "city":
            setattr(guest, key, value)
    db.session.flush()
    touch_stats(event)
    guests_changed.send(event)
    db.session.commit()
    return guest


def get_guest(event, guest_id):
    guest = db.session.get(Guest, guest_id) if isinstance(guest_id, int) else None
    if guest is None or guest.event_id != event.id:
        raise not_found("guest")
    return guest


def guest_by_token(token):
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    return db.session.execute(select(Guest).filter_by(token=token)).scalar_one_or_none()


def search_guests(event, query, limit=20):
    """By name, organisation, city or code (for the scanner's manual search)."""
    query = " ".join((query or "").split())[:100]
    stmt = select(Guest).where(Guest.event_id == event.id)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(Guest.name).like(like), func.lower(Guest.organisation).like(like),
                              func.lower(Guest.city).like(like), Guest.code == query.upper().replace("-", "")))
    return db.session.execute(stmt.order_by(Guest.name).limit(limit)).scalars().all()


def ticket_url(guest, external=False):
    return url_for("checkin_pages.ticket", token=guest.token, _external=external)


def guest_admin_json(guest):
    """What staff see of a guest (never the token: it is the guest's key to their own page)."""
    return {"id": guest.id, "name": guest.name, "city": guest.city, "organisation": guest.organisation,
            "role": guest.role, "code": guest.code, "status": guest.status,
            "checked_in_at": guest.checkin.at.isoformat() if guest.checkin else None,
            "checked_in_by": guest.checkin.device if guest.checkin else None}


def all_guests(event):
    from sqlalchemy.orm import selectinload

    return db.session.execute(select(Guest).where(Guest.event_id == event.id)
                              .options(selectinload(Guest.checkin)).order_by(Guest.name)).scalars().all()
