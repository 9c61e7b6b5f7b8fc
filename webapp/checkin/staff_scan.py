"""Staff pages for the door: the scanner, devices and pairing, the arrivals dashboard, offline conflicts."""

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import db
from ..core.html import json_script
from ..core.models import Event
from ..core.urls import external_url
from ..staff.auth import actor_name, staff_required
from ..staff.forms import ActionForm
from . import devices as device_domain
from .service import UNDO_SECONDS
from .stats import arrival_stats

bp = Blueprint("checkin_scan", __name__, url_prefix="/staff")
LIST_REFRESH_SECONDS = 60


# ---- the scanner ---------------------------------------------------------------------------------


@bp.get("/e/<slug>/scan")
@staff_required(role=None)
def scan(slug):
    event = event_or_404(slug)
    device = device_domain.device_of(current_user)
    if device is not None and device.event_id != event.id:
        abort(403)  # a paired phone scans for its own event only
    api = url_for("checkin_api.check_in", slug=slug).rsplit("/checkins", 1)[0]
    config = {
        "slug": slug,
        "api": api,
        "timezone": event.timezone,
        "device": current_user.name,
        "undo_seconds": UNDO_SECONDS,
        "list_refresh": LIST_REFRESH_SECONDS,
        "login": url_for("staff.login", next=request.path),
    }
    return render_template("checkin/scan.html", event=event, config=json_script(config), is_device=device is not None)


# ---- the arrivals dashboard ----------------------------------------------------------------------


@bp.get("/e/<slug>/checkin")
@staff_required()
def dashboard(slug):
    event = event_or_404(slug)
    tz = ZoneInfo(event.timezone)
    stats = arrival_stats(slug)
    scans = [device_domain.scan_json(s, tz) for s in device_domain.recent_scans(event)]
    return render_template(
        "checkin/dashboard.html",
        event=event,
        stats=stats,
        scans=scans,
        stats_json=json_script(stats),
        conflicts=len(device_domain.conflicts(event)),
        config=json_script({"slug": slug, "timezone": event.timezone, "recent": url_for(".recent", slug=slug)}),
    )


@bp.get("/e/<slug>/checkin/recent.json")
@staff_required()
def recent(slug):
    """The latest audit-log entries, for the dashboard to refresh after each `stats` message."""
    event = event_or_404(slug)
    tz = ZoneInfo(event.timezone)
    return jsonify(
        {
            "scans": [device_domain.scan_json(s, tz) for s in device_domain.recent_scans(event)],
            "conflicts": len(device_domain.conflicts(event)),
        }
    )


# ---- devices and pairing -------------------------------------------------------------------------


def _devices_page(event, pairing=None, status=200):
    tz = ZoneInfo(event.timezone)
    return render_template(
        "checkin/devices.html",
        event=event,
        devices=device_domain.list_devices(event),
        form=ActionForm(),
        pairing=pairing,
        tz=tz,
        minutes=device_domain.PAIRING_MINUTES,
    ), status


def _pairing(device, code):
    url = external_url("checkin_scan.pair", code=code)
    return {"device": device, "url": url, "svg": device_domain.qr_svg(url)}


@bp.route("/e/<slug>/devices", methods=["GET", "POST"])
@staff_required()
def devices(slug):
    event = event_or_404(slug)
    if request.method == "GET":
        return _devices_page(event)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return redirect(url_for(".devices", slug=slug))
    try:
        device, code = device_domain.create_device(
            event,
            request.form.get("name", ""),
            kind=request.form.get("kind", "scanner"),
            pin=request.form.get("pin"),
            prints_badges=request.form.get("prints_badges") == "1",
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _devices_page(event, status=exc.status)
    # The bare code exists only in this answer: the page shows the pairing QR now, the database keeps a hash.
    if device.kind == "kiosk":
        flash(
            _("Check-in-Terminal „%(name)s“ angelegt. Scannen Sie den QR-Code mit dem Tablet.", name=device.name), "ok"
        )
    else:
        flash(_("Gerät „%(name)s“ angelegt. Scannen Sie den QR-Code mit dem Handy.", name=device.name), "ok")
    return _devices_page(event, pairing=_pairing(device, code))


def _device(event, device_id):
    try:
        return device_domain.get_device(event, device_id)
    except DomainError:
        abort(404)


@bp.post("/e/<slug>/devices/<int:device_id>/code")
@staff_required()
def device_code(slug, device_id):
    event = event_or_404(slug)
    device = _device(event, device_id)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return redirect(url_for(".devices", slug=slug))
    try:
        code = device_domain.new_pairing_code(event, device)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".devices", slug=slug))
    return _devices_page(event, pairing=_pairing(device, code))


@bp.post("/e/<slug>/devices/<int:device_id>/revoke")
@staff_required()
def revoke(slug, device_id):
    event = event_or_404(slug)
    device = _device(event, device_id)
    if ActionForm().validate_on_submit():
        device_domain.revoke_device(event, device)
        flash(_("Gerät „%(name)s“ gesperrt: Es ist ab sofort abgemeldet.", name=device.name), "ok")
    else:
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    return redirect(url_for(".devices", slug=slug))


def _bad_code():
    flash(
        _(
            "Dieser Kopplungscode ist ungültig, abgelaufen oder wurde schon benutzt. "
            "Bitte lassen Sie sich einen neuen QR-Code zeigen."
        ),
        "error",
    )
    return redirect(url_for("staff.login"))


@bp.route("/pair/<code>", methods=["GET", "POST"])
def pair(code):
    """GET only shows what will happen (link previews and prefetchers must not use the code up); the POST
    with its CSRF token pairs this browser as the device."""
    device = device_domain.device_for_code(code)
    if device is None:
        return _bad_code()
    event = db.session.get(Event, device.event_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        else:
            device = device_domain.redeem_code(code)
            if device is None:
                return _bad_code()
            login_user(device.staff, remember=True)
            if device.kind == "kiosk":  # a self check-in tablet: its locked page (webapp/checkin/kiosk.py)
                return redirect(url_for("checkin_kiosk.kiosk", slug=event.slug))
            return redirect(url_for(".scan", slug=event.slug))
    # `pair_event`, not `event`: the page is for a phone that is not signed in, without the staff menu.
    response = render_template(
        "checkin/pair.html",
        device=device,
        pair_event=event,
        form=form,
        current=current_user if current_user.is_authenticated else None,
    )
    return response, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


# ---- conflicts -----------------------------------------------------------------------------------


@bp.get("/e/<slug>/conflicts")
@staff_required()
def conflicts(slug):
    event = event_or_404(slug)
    return render_template(
        "checkin/conflicts.html",
        event=event,
        rows=device_domain.conflicts(event),
        form=ActionForm(),
        tz=ZoneInfo(event.timezone),
    )


@bp.post("/e/<slug>/conflicts/<int:scan_id>/reviewed")
@staff_required()
def reviewed(slug, scan_id):
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    else:
        try:
            device_domain.mark_reviewed(event, scan_id, actor_name(current_user), current_user.id)
            flash(_("Als geprüft vermerkt."), "ok")
        except DomainError:
            abort(404)
    return redirect(url_for(".conflicts", slug=slug))
