"""Public agenda pages (phone, projector, door screen) and the standard exports."""

import json

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from flask_babel import gettext as _

from ..core import qr
from ..core.events import event_or_404
from ..core.html import json_script
from ..core.urls import external_url
from ..live import snapshot
from . import exports

bp = Blueprint("agenda_pages", __name__)


def _page(template, event, **extra):
    # The state is embedded as JSON (not executed, so the CSP needs no inline script): the page shows the
    # agenda at once and the live connection continues from this revision.
    return render_template(template, event=event, state=json_script(snapshot(event)), **extra)


@bp.get("/e/<slug>/")
def agenda(slug):
    return _page("agenda/agenda.html", event_or_404(slug))


def _screen(event, room):
    # The QR opens the phone agenda at the address phones reach (PUBLIC_URL when it is set).
    phone_url = external_url("agenda_pages.agenda", slug=event.slug)
    code = qr.inline_svg(phone_url, _("QR-Code: das Programm auf dem Handy öffnen"), "qr")
    return _page("agenda/screen.html", event, room=room, phone_url=phone_url, qr=code)


@bp.get("/e/<slug>/screen")
def screen(slug):
    return _screen(event_or_404(slug), None)


@bp.get("/e/<slug>/screen/<room_slug>")
def door_screen(slug, room_slug):
    event = event_or_404(slug)
    room = next((r for r in event.rooms if r.slug == room_slug or r.name == room_slug), None)
    if room is None:
        abort(404)
    return _screen(event, room)


@bp.get("/e/<slug>/manifest.webmanifest")
def manifest(slug):
    event = event_or_404(slug)
    body = {
        "name": event.title,
        "short_name": "Treffpunkt",
        "lang": "de",
        "start_url": url_for(".agenda", slug=slug),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#a0002a",
        "description": _("Live-Programm"),
        "icons": [{"src": url_for("static", filename="img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get("/e/<slug>/agenda.ics")
def ical(slug):
    event = event_or_404(slug)
    return Response(
        exports.ical(event), mimetype="text/calendar", headers={"Content-Disposition": f'inline; filename="{slug}.ics"'}
    )


@bp.get("/e/<slug>/schedule.xml")
def frab_xml(slug):
    return Response(exports.frab_xml(event_or_404(slug)), mimetype="application/xml")


@bp.get("/e/<slug>/schedule.json")
def c3voc_json(slug):
    return jsonify(exports.c3voc_json(event_or_404(slug)))
