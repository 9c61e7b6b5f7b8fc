"""Badges for staff to print: A4 sheets of 2 × 5 badges of 90 × 55 mm for standard badge inserts (with cut
marks), and one badge on its own 90 × 55 mm page (the reprint at the door, and what a kiosk prints on arrival).

A badge carries the guest's badge check-in code (tickets.badge_text), never the ticket link or the typed
code: a photographed badge checks the guest in at the door and opens no page. Every member of the event's
team may print them — organisers and the door (a paired device: at its own event only)."""

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.html import no_store
from ..staff.auth import staff_required
from . import guests, tickets
from .service import may_check_in

BADGE_ENDPOINT = "checkin_badges.badge"  # one guest's badge page, opened by the guest list and the kiosk

bp = Blueprint("checkin_badges", __name__, url_prefix="/staff/e/<slug>")
BADGE_BATCH = 200  # badges per print page (20 A4 sheets): a print job a browser handles well
MAX_CHOSEN = 1000  # ?guest=… given more often than this: refused


@bp.app_template_global("badge_qr")
def badge_qr(guest):
    """The badge's QR for templates (checkin/_sheets.html badge_card)."""
    return tickets.badge_qr(guest, _("QR-Code zum Einchecken"))


def _door_event(slug):
    """The event, for staff of that event; a device paired for another event gets 403."""
    event = event_or_404(slug)
    if not may_check_in(current_user, event):
        abort(403)
    return event


def sort_key(guest):
    """As the printed tickets: by municipality (none last), then name."""
    return (guest.city.casefold() or "\uffff", guest.name.casefold(), guest.id)


def chosen_guests(event, ids):
    """The guests named by ids (each of this event, else 404), or every registered guest; sorted."""
    if ids:
        try:
            chosen = {guest_id: guests.get_guest(event, guest_id) for guest_id in ids}.values()
        except DomainError:
            abort(404)
    else:
        chosen = [g for g in guests.all_guests(event) if g.status == "registered"]
    return sorted(chosen, key=sort_key)


@bp.get("/badges")
@staff_required(role=None)
def sheets(slug):
    """All registered guests' badges (or ?guest=<id>&guest=<id>… for a selection), 10 to an A4 sheet."""
    event = _door_event(slug)
    ids = request.args.getlist("guest", type=int)
    if len(ids) > MAX_CHOSEN or len(ids) != len(request.args.getlist("guest")):
        abort(400)
    chosen = chosen_guests(event, ids)
    parts = [(start + 1, min(start + BADGE_BATCH, len(chosen))) for start in range(0, len(chosen), BADGE_BATCH)]
    part = min(max(request.args.get("part", 1, type=int), 1), max(len(parts), 1))
    batch = chosen[(part - 1) * BADGE_BATCH : part * BADGE_BATCH]
    return no_store(
        Response(
            render_template(
                "checkin/badges.html",
                event=event,
                size="sheet",
                sheets=tickets.badge_sheets(batch),
                marks=tickets.cut_marks(),
                count=len(batch),
                total=len(chosen),
                parts=parts,
                part=part,
                ids=ids,
                batch_size=BADGE_BATCH,
                per_sheet=tickets.BADGES_PER_SHEET,
            )
        )
    )


@bp.get("/guests/<int:guest_id>/badge")
@staff_required(role=None)
def badge(slug, guest_id):
    """One guest's badge on its own 90 × 55 mm page: the reprint (from the guest list or a scan result).
    A kiosk of the event opens it in a frame of its own page and prints it."""
    event = _door_event(slug)
    try:
        guest = guests.get_guest(event, guest_id)
    except DomainError:
        abort(404)
    organiser = current_user.may_organise(event)
    return no_store(
        Response(render_template("checkin/badge.html", event=event, size="badge", guest=guest, organiser=organiser))
    )


@bp.after_app_request
def frame_for_the_kiosk(response):
    """The single badge may be framed by the app's own pages (the kiosk prints it from a frame); every
    other page keeps `frame-ancestors 'none'`. Runs after web.headers set the page's headers (web's
    init_app comes after check-in's, and Flask runs app-wide after_request functions last-registered first)."""
    csp = response.headers.get("Content-Security-Policy")
    if request.endpoint == "checkin_badges.badge" and csp:
        response.headers["Content-Security-Policy"] = csp.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
