"""A guest's starred sessions, kept with her ticket, and her calendar subscription of them.

The favourites live in the browser (static/js/storage.js); a device that knows the guest's ticket also keeps
them here (`PUT /t/<token>/favourites`), so a second phone and a calendar see the same ones. The calendar
feed has its own secret (`Guest.calendar_token`), not the ticket token: calendar services fetch
subscriptions from their servers and log the URLs, and a ticket token opens the guest's personal pages.
The feed is the agenda's iCalendar (webapp/agenda/exports.ical) of those sessions: stable UIDs, SEQUENCE
the event's revision, so a subscribed calendar sees a delay, a move or a cancellation at its next pull."""

import secrets

from flask import Blueprint, Response, abort, jsonify
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..agenda.exports import ical
from ..agenda.models import Session
from ..core.errors import DomainError
from ..core.extensions import csrf, db
from ..core.urls import external_url
from ..core.validation import json_body
from . import guests
from .models import Favourite, Guest

bp = Blueprint("checkin_calendar", __name__)
MAX_FAVOURITES = 500


def favourite_ids(guest):
    return sorted(db.session.execute(select(Favourite.session_id).filter_by(guest_id=guest.id)).scalars())


def set_favourites(guest, session_ids):
    """The guest's starred sessions become exactly these (sessions of other events are refused). Commits."""
    if not isinstance(session_ids, list) or len(session_ids) > MAX_FAVOURITES:
        raise DomainError(
            "invalid",
            _("„sessions“ muss eine Liste von höchstens %(max)d Programmpunkt-IDs sein.", max=MAX_FAVOURITES),
            field="sessions",
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in session_ids):
        raise DomainError("invalid", _("„sessions“ muss eine Liste von Programmpunkt-IDs sein."), field="sessions")
    wanted = set(session_ids)
    known = set(
        db.session.execute(
            select(Session.id).where(Session.event_id == guest.event_id, Session.id.in_(wanted))
        ).scalars()
    )
    if wanted - known:
        raise DomainError(
            "invalid",
            _("Diese Programmpunkte gibt es in dieser Veranstaltung nicht."),
            field="sessions",
            unknown=sorted(wanted - known),
        )
    db.session.execute(delete(Favourite).where(Favourite.guest_id == guest.id))
    db.session.add_all(Favourite(guest_id=guest.id, session_id=i) for i in sorted(wanted))
    try:
        db.session.commit()
    except IntegrityError:  # two phones of the guest sent theirs at the same moment: the other one won
        db.session.rollback()
        raise DomainError(
            "conflict", _("Die Merkliste wurde gleichzeitig woanders geändert. Bitte noch einmal senden."), 409
        ) from None
    return sorted(wanted)


def calendar_urls(guest):
    """The guest's feed (made on first use): https for copying, webcal:// for one-tap subscribing."""
    if guest.calendar_token is None:
        # Only if still none: two first requests at once must end with one feed, not two.
        db.session.execute(
            update(Guest)
            .where(Guest.id == guest.id, Guest.calendar_token.is_(None))
            .values(calendar_token=secrets.token_urlsafe(32))
        )
        db.session.commit()
        db.session.refresh(guest)
    url = external_url("checkin_calendar.feed", calendar_token=guest.calendar_token)
    return {"url": url, "webcal": webcal(url)}


def webcal(url):
    """The same address as a webcal:// link (calendar apps subscribe instead of importing once)."""
    return "webcal://" + url.split("://", 1)[1]


def _guest(token):
    guest = guests.guest_by_token(token)
    if guest is None:
        abort(404)
    return guest


@bp.put("/t/<token>/favourites")
@csrf.exempt  # the ticket token in the path is the credential; nothing in a cookie
def put_favourites(token):
    guest = _guest(token)
    try:
        ids = set_favourites(guest, json_body().get("sessions"))
    except DomainError as exc:
        db.session.rollback()
        return jsonify(exc.as_json()), exc.status
    return jsonify({"sessions": ids, "calendar": calendar_urls(guest)})


@bp.get("/t/<token>/favourites")
def get_favourites(token):
    guest = _guest(token)
    return jsonify({"sessions": favourite_ids(guest), "calendar": calendar_urls(guest)})


@bp.get("/c/<calendar_token>.ics")
def feed(calendar_token):
    guest = db.session.execute(select(Guest).filter_by(calendar_token=calendar_token)).scalar_one_or_none()
    if guest is None:
        abort(404)
    starred = set(favourite_ids(guest))
    body = ical(guest.event, sessions=[s for s in guest.event.sessions if s.id in starred], personal=True)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "no-store"})
