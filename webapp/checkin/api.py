"""Check-in JSON API under /api/v1 (docs/api.md): guests, check-ins, offline list, stats."""

import hashlib
import hmac

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.events import get_event
from ..core.validation import API_PREFIX, json_body
from ..staff.auth import actor_name, api_staff
from . import guests, service
from .devices import device_of
from .stats import arrival_stats

bp = Blueprint("checkin_api", __name__, url_prefix=API_PREFIX)
MAX_BATCH = 500
DOOR_SEARCH_MIN = 3
DOOR_SEARCH_LIMIT = 10


def door_staff(slug):
    """The staff member scanning at this event's door, and the event. A paired device works for the event
    it was paired for only."""
    staff = api_staff(role=None)
    event = get_event(slug)
    device = device_of(staff)
    if device is not None and device.event_id != event.id:
        raise DomainError("forbidden", _("Dieses Gerät ist für eine andere Veranstaltung gekoppelt."), 403)
    return staff, event


@bp.post("/events/<slug>/guests")
def add_guest(slug):
    api_staff()
    event = get_event(slug)
    guest = guests.create_guest(event, guests.parse_guest(json_body()))
    return jsonify(
        {
            "id": guest.id,
            "name": guest.name,  # as printed; made of title, given and family name when none was sent
            "token": guest.token,
            "code": guest.code,
            "ticket_url": guests.ticket_url(guest, external=True),
        }
    ), 201


@bp.get("/events/<slug>/guests")
def list_guests(slug):
    staff, event = door_staff(slug)
    query = " ".join(request.args.get("q", "").split())
    if staff.may_organise(event):
        found = guests.search_guests(event, query, limit=50)
        return jsonify({"guests": [guests.guest_admin_json(g) for g in found]})
    # Door accounts look people up by name to let them in, not to browse the list.
    if len(query) < DOOR_SEARCH_MIN:
        raise DomainError(
            "invalid", _("Bitte mindestens %(n)d Zeichen des Namens eingeben.", n=DOOR_SEARCH_MIN), field="q"
        )
    found = guests.search_guests(event, query, limit=DOOR_SEARCH_LIMIT)
    return jsonify({"guests": [guests.door_json(g) for g in found]})


@bp.patch("/events/<slug>/guests/<int:guest_id>")
def edit_guest(slug, guest_id):
    api_staff()
    event = get_event(slug)
    guest = guests.get_guest(event, guest_id)
    guests.update_guest(event, guest, guests.parse_guest(json_body(), required=()))
    return jsonify({"guest": guests.guest_admin_json(guest)})


@bp.post("/events/<slug>/checkins")
def check_in(slug):
    staff, event = door_staff(slug)
    code, nonce, scanned_at = service.parse_scan(json_body())
    return jsonify(
        service.check_in(event, code, nonce, device=actor_name(staff), staff_id=staff.id, scanned_at=scanned_at)
    )


@bp.post("/events/<slug>/checkins/batch")
def check_in_batch(slug):
    """Offline scans of one device: {"scans": [{code, nonce, scanned_at}, …]} -> {"answers": […]}."""
    staff, event = door_staff(slug)
    scans = json_body().get("scans")
    if not isinstance(scans, list) or not 1 <= len(scans) <= MAX_BATCH:
        raise DomainError(
            "invalid", _("„scans“ muss eine Liste von 1 bis %(max)d Scans sein.", max=MAX_BATCH), field="scans"
        )
    parsed = [service.parse_scan(scan) for scan in scans]  # all valid, or none applied
    answers = service.check_in_batch(event, parsed, device=actor_name(staff), staff_id=staff.id)
    return jsonify({"answers": answers})


@bp.post("/events/<slug>/checkins/<int:checkin_id>/undo")
def undo(slug, checkin_id):
    staff, event = door_staff(slug)
    nonce = json_body().get("nonce")
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= 64:
        raise DomainError(
            "invalid",
            _("„nonce“ muss eine vom Gerät erzeugte Kennung aus 1 bis 64 Zeichen sein (am besten eine UUID)."),
            field="nonce",
        )
    return jsonify(service.undo_check_in(event, checkin_id, nonce, device=actor_name(staff), staff_id=staff.id))


def _hash(salt, value):
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:32]


@bp.get("/events/<slug>/checkin-list")
def offline_list(slug):
    """What a scanner keeps for offline use: salted hashes of each ticket's token and code with the least
    needed to show a result (name, municipality, status). No e-mail, no organisation, no token."""
    _, event = door_staff(slug)
    # Stable per event (derived from the secret key), so a phone can keep the hash of a guest it admitted
    # offline instead of the code itself and still find that guest in the next list.
    salt = hmac.new(current_app.secret_key.encode(), f"checkin-list:{slug}".encode(), "sha256").hexdigest()[:16]
    rows = guests.all_guests(event)
    return jsonify(
        {
            "salt": salt,
            "event": slug,
            "guests": [
                {
                    "t": _hash(salt, g.token),
                    "c": _hash(salt, g.code),
                    "b": _hash(salt, g.badge_code),  # the badge QR checks in offline too
                    "name": g.name,
                    "city": g.city,
                    "status": g.status,
                    "checked_in": g.checkin is not None,
                }
                for g in rows
            ],
        }
    )


@bp.get("/events/<slug>/stats")
def stats(slug):
    get_event(slug)
    return jsonify(arrival_stats(slug))
