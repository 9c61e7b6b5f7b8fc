"""The self check-in kiosk: a tablet at the entrance, paired like a scanner phone (a Device of kind "kiosk",
webapp/checkin/devices.py), that shows one locked page. A guest shows the ticket QR to its camera, types the
8-character code, or types their name and picks their municipality (or organisation) from a short list; only
that exact pair checks in, and the kiosk never lists guests. Every attempt goes through the door's one
check-in function (service.check_in: exactly once, nonce, audit row). Typed attempts are rate-limited per
kiosk, and so is the staff PIN that leaves the kiosk. If the kiosk prints badges, the page prints the badge of
a guest it has just checked in (the only other staff page a kiosk account may open).

Routes (all under /staff/e/<slug>/kiosk; the kiosk device of the event, or a person of its team trying the
page out, optionally with ?device=<id> for that kiosk's settings):
- GET  ""             the page
- GET  "/places.json" {"places": [...]}: the municipalities and organisations to choose from
- POST "/checkin"     {nonce, code} or {nonce, name, place} -> {result, guest, checked_in_at, badge, wait}
- POST "/leave"       {pin} -> {result: "left", next} | {result: "wrong_pin" | "wait", wait}
"""

import math
import threading
import unicodedata
from datetime import timedelta
from time import monotonic

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import select

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.events import event_or_404, get_event
from ..core.extensions import db
from ..core.html import json_script
from ..core.text import fold_umlauts, squash
from ..core.validation import json_body
from ..staff.auth import actor_name, api_staff, staff_required
from . import devices as device_domain
from . import service
from .badges import BADGE_ENDPOINT
from .guests import search_ref
from .models import BADGE_PREFIX, CODE_LENGTH, Guest, Scan

bp = Blueprint("checkin_kiosk", __name__, url_prefix="/staff/e/<slug>/kiosk")

BADGE_MINUTES = 10  # a kiosk may open the badge of a guest it checked in this recently
MISSES = ("unknown", "wrong_event")  # answers that say a typed code or name was wrong
NAME_MISS = "kiosk:name"  # the audit log's input for a name and municipality that named nobody
NAME_MAX = 200
WELCOME_SECONDS = 6  # the welcome stays this long, then the page is back at the start
PLACES_REFRESH_SECONDS = 300
# Typed codes and names: after 5 misses in a row, 30 s before the next try (and after every further miss).
CHECKIN_MISSES, CHECKIN_PAUSE = 5, 30
# The staff PIN: after 5 wrong PINs 30 s, doubling with every further one, up to 15 minutes.
PIN_MISSES, PIN_PAUSE, PIN_LONGEST = 5, 30, 15 * 60
# Where a kiosk's account may go besides its own page (under /staff/ and /api/): everything else is refused.
KIOSK_MAY_OPEN = ("static", "staff.login", "staff.logout", "checkin_scan.pair")


class Throttle:
    """Failed attempts per key (one kiosk): after `misses` failures in a row, the next attempt waits `pause`
    seconds after the latest failure (with `grow`, the pause doubles with each further failure, up to
    `longest`). A success clears the count, and so does a quiet quarter of an hour. Counted in this server
    process (several processes each keep their own count)."""

    FORGET_SECONDS = 15 * 60

    def __init__(self, misses, pause, grow=False, longest=None):
        self.misses, self.pause, self.grow, self.longest = misses, pause, grow, longest or pause
        self._state = {}
        self._lock = threading.Lock()

    def _pause(self, count):
        if count < self.misses:
            return 0
        if not self.grow:
            return self.pause
        return min(self.longest, self.pause * 2 ** (count - self.misses))

    def _count(self, key, now):
        count, last = self._state.get(key, (0, 0.0))
        if count and now - last > max(self.FORGET_SECONDS, self._pause(count)):
            self._state.pop(key, None)
            return 0, 0.0
        return count, last

    def wait(self, key):
        """Seconds until `key` may try again (0: now)."""
        now = monotonic()
        with self._lock:
            count, last = self._count(key, now)
            return max(0, math.ceil(last + self._pause(count) - now))

    def miss(self, key):
        """Count a failure; returns the seconds until the next try (0: at once)."""
        now = monotonic()
        with self._lock:
            count, _last = self._count(key, now)
            self._state[key] = (count + 1, now)
            return math.ceil(self._pause(count + 1))

    def clear(self, key):
        with self._lock:
            self._state.pop(key, None)


def _throttles():
    """This app's counters (made on first use: nothing happens at import)."""
    return current_app.extensions.setdefault(
        "checkin_kiosk_throttles",
        {
            "checkin": Throttle(CHECKIN_MISSES, CHECKIN_PAUSE),
            "pin": Throttle(PIN_MISSES, PIN_PAUSE, grow=True, longest=PIN_LONGEST),
        },
    )


# ---- the guest by name and municipality ----------------------------------------------------------------


def name_key(text):
    """A name as compared at the kiosk: case, spacing, punctuation, accents and umlaut spelling do not matter
    ("Dr. Käthe  Müller" = "dr kaethe mueller"), the letters do."""
    text = unicodedata.normalize("NFKD", fold_umlauts(squash(text)).casefold())
    return "".join(ch for ch in text if ch.isalnum())


def _names_of(guest):
    """What a guest may type as their name: the printed name, with or without its leading titles ("Dr.",
    "Prof."), or given and family name."""
    names = {name_key(guest.name)}
    words = guest.name.split()
    while len(words) > 2 and words[0].endswith("."):
        words = words[1:]
        names.add(name_key(" ".join(words)))
    if guest.given_name and guest.family_name:
        names.add(name_key(f"{guest.given_name} {guest.family_name}"))
    return names - {""}


def places(event):
    """The municipalities (and, for guests without one, organisations) of the event's registered guests,
    sorted: the kiosk's second factor. Names are never listed."""
    rows = db.session.execute(
        select(Guest.city, Guest.organisation).where(Guest.event_id == event.id, Guest.status == "registered")
    ).all()
    found = {squash(city) if city.strip() else squash(organisation) for city, organisation in rows}
    return sorted(found - {""}, key=lambda place: fold_umlauts(place).casefold())


def guests_named(event, name, place):
    """The event's guests (any status) with exactly this name and municipality or organisation."""
    key, place = name_key(name), squash(place)
    if len(key) < 2 or not place:
        return []
    candidates = db.session.execute(
        select(Guest).where(Guest.event_id == event.id, (Guest.city == place) | (Guest.organisation == place))
    ).scalars()
    return [guest for guest in candidates if key in _names_of(guest)]


def guessable(text):
    """Whether a kiosk input could be guessed by trying: a typed code or a name (rate-limited), not a ticket
    link or token (256 random bits) nor a badge code read by the camera."""
    text = text.strip()
    code = service.normalise_code(text)
    if code.startswith(BADGE_PREFIX.rstrip("-")) and len(code) > CODE_LENGTH:
        return False
    return not (service.TOKEN_IN_URL.search(text) or service.TOKEN_ALONE.fullmatch(text))


# ---- who may use it ------------------------------------------------------------------------------------


def kiosk_for(event, staff, wanted=None):
    """The kiosk whose settings apply: the signed-in kiosk itself, or for a person of the event's team who
    tries the page out, the kiosk `wanted` (its id) or None (no PIN, no badges). DomainError 403 for any other
    device (a scanner phone, a kiosk of another event), 404 for an unknown `wanted`."""
    own = device_domain.device_of(staff)
    if own is not None:
        if own.kind != "kiosk" or own.event_id != event.id:
            raise DomainError("forbidden", _("Dieses Gerät ist kein Check-in-Terminal dieser Veranstaltung."), 403)
        return own
    if wanted in (None, ""):
        return None
    try:
        device = device_domain.get_device(event, int(wanted))
    except (TypeError, ValueError, DomainError):  # not a number, or no device of this event
        device = None
    if device is None or device.kind != "kiosk" or device.revoked_at is not None:
        raise DomainError("not_found", _("Dieses Check-in-Terminal gibt es nicht."), 404)
    return device


def _door(slug, wanted=None):
    """(staff, event, kiosk or None) of a kiosk request (with its CSRF header); DomainError 403/404 as JSON."""
    staff = api_staff(role=None)
    event = get_event(slug)
    return staff, event, kiosk_for(event, staff, wanted)


def _just_checked_in(device, guest_id):
    since = utcnow() - timedelta(minutes=BADGE_MINUTES)
    return (
        isinstance(guest_id, int)
        and db.session.execute(
            select(Scan.id)
            .where(
                Scan.event_id == device.event_id,
                Scan.staff_id == device.staff_id,
                Scan.guest_id == guest_id,
                Scan.action == "scan",
                Scan.result == "ok",
                Scan.at >= since,
            )
            .limit(1)
        ).first()
        is not None
    )


@bp.before_app_request
def keep_kiosks_to_their_task():
    """A kiosk's account has the scanner role, which opens the door scanner with its guest search and offline
    list, the guest API and more. Under /staff/ and /api/ it may open its own kiosk page, pairing, login and
    logout, and the badge of a guest it has just checked in, nothing else: pages lead back to the kiosk, other
    requests are refused."""
    if not request.path.startswith(("/staff/", "/api/")) or not current_user.is_authenticated:
        return None
    if current_user.role != "scanner":
        return None
    device = device_domain.kiosk_of(current_user)
    endpoint = request.endpoint or ""
    if device is None or endpoint.startswith(f"{bp.name}.") or endpoint in KIOSK_MAY_OPEN:
        return None
    if endpoint == BADGE_ENDPOINT and _just_checked_in(device, (request.view_args or {}).get("guest_id")):
        return None
    if request.method == "GET" and not request.path.startswith("/api/"):
        return redirect(url_for(f"{bp.name}.kiosk", slug=device.event.slug))
    raise DomainError("forbidden", _("Ein Check-in-Terminal kann nur einchecken."), 403)


# ---- the page ------------------------------------------------------------------------------------------


@bp.get("")
@staff_required(role=None)
def kiosk(slug):
    event = event_or_404(slug)
    try:
        device = kiosk_for(event, current_user, request.args.get("device"))
    except DomainError as exc:
        abort(exc.status, exc.message)
    is_own = device is not None and device.staff_id == current_user.id
    config = {
        "slug": slug,
        "api": url_for(".kiosk", slug=slug),
        "device": None if is_own or device is None else device.id,
        "timezone": event.timezone,
        "pin": bool(device is not None and device.pin_hash),
        "welcome_seconds": WELCOME_SECONDS,
        "places_refresh": PLACES_REFRESH_SECONDS,
        "code_length": CODE_LENGTH,
    }
    body = render_template(
        "checkin/kiosk.html",
        kiosk_event=event,  # not `event`: the page has no staff menu
        device=device,
        is_own=is_own,
        places=places(event),
        config=json_script(config),
    )
    return body, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.get("/places.json")
@staff_required(role=None)  # anonymous: the login page, as every /staff/ route
def places_json(slug):
    _staff, event, _device = _door(slug, request.args.get("device"))
    return jsonify({"places": places(event)})


# ---- checking in ---------------------------------------------------------------------------------------


# What the kiosk form calls its fields, for the messages ("place" is the municipality typed at the door).
_KIOSK_LABELS = {"code": _l("Code"), "name": _l("Name"), "place": _l("Kommune")}


def _text(data, key, limit):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise DomainError(
            "invalid",
            _("„%(field)s“ muss ein Text von höchstens %(max)d Zeichen sein.", field=_KIOSK_LABELS[key], max=limit),
            field=key,
        )
    return squash(value) or None


def _badge_url(event, device, answer):
    if device is None or not device.prints_badges or answer["result"] != "ok" or not answer.get("guest"):
        return None
    if BADGE_ENDPOINT not in current_app.view_functions:  # the badge pages are not part of this version
        return None
    return url_for(BADGE_ENDPOINT, slug=event.slug, guest_id=answer["guest"]["id"])


def _reply(answer, result=None, badge=None, wait=0):
    """What the kiosk shows: the guest only when they are (or were already) checked in."""
    result = result or answer["result"]
    guest = answer.get("guest") if result in ("ok", "already") else None
    return jsonify(
        {
            "result": result,
            "guest": {key: guest[key] for key in ("name", "city", "organisation")} if guest else None,
            "checked_in_at": answer.get("checked_in_at") if result == "already" else None,
            "badge": badge,
            "wait": wait,
        }
    )


@bp.post("/checkin")
@staff_required(role=None)  # anonymous: the login page, as every /staff/ route
def check_in(slug):
    """{nonce, code} (the camera's text or a typed code) or {nonce, name, place} -> the kiosk's answer."""
    data = json_body()
    staff, event, device = _door(slug, data.get("device"))
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= 64:
        raise DomainError(
            "invalid",
            _("„nonce“ muss eine vom Gerät erzeugte Kennung aus 1 bis 64 Zeichen sein (am besten eine UUID)."),
            field="nonce",
        )
    code = _text(data, "code", service.MAX_INPUT)
    name, place = _text(data, "name", NAME_MAX), _text(data, "place", NAME_MAX)
    if not code and not (name and place):
        raise DomainError("invalid", _("Bitte den Code scannen oder Name und Kommune eingeben."), field="code")
    throttle, key = _throttles()["checkin"], f"staff:{staff.id}"
    limited = guessable(code) if code else True
    if limited and (wait := throttle.wait(key)):
        return _reply({"result": "wait"}, wait=wait)
    result = None
    if code:
        text = code
    else:
        found = guests_named(event, name, place)
        text = search_ref(found[0]) if len(found) == 1 else NAME_MISS  # no or several guests: nobody
        result = "ambiguous" if len(found) > 1 else None
    answer = service.check_in(event, text, nonce, device=actor_name(staff), staff_id=staff.id)
    wait = 0
    if limited and answer["result"] in MISSES and result is None:
        wait = throttle.miss(key)
    elif answer["result"] == "ok":
        throttle.clear(key)
    return _reply(answer, result=result, badge=_badge_url(event, device, answer), wait=wait)


# ---- leaving -------------------------------------------------------------------------------------------


@bp.post("/leave")
@staff_required(role=None)  # anonymous: the login page, as every /staff/ route
def leave(slug):
    """The staff PIN ends kiosk mode: the kiosk's own login ends and the tablet shows the staff login (then
    the devices page); a person trying the page out goes back to the devices page."""
    data = json_body()
    staff, event, device = _door(slug, data.get("device"))
    if device is not None and device.pin_hash:
        throttle, key = _throttles()["pin"], f"device:{device.id}"
        if wait := throttle.wait(key):
            return jsonify({"result": "wait", "wait": wait})
        if not device_domain.check_pin(device, data.get("pin")):
            return jsonify({"result": "wrong_pin", "wait": throttle.miss(key)})
        throttle.clear(key)
    devices_page = url_for("checkin_scan.devices", slug=event.slug)
    if device is not None and device.staff_id == staff.id:
        logout_user()  # ends this tablet's login (staff.auth), its session and remember cookie
        return jsonify({"result": "left", "next": url_for("staff.login", next=devices_page)})
    back = devices_page if staff.may_organise(event) else url_for("checkin_scan.scan", slug=event.slug)
    return jsonify({"result": "left", "next": back})
