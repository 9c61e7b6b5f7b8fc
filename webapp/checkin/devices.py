"""Scanner devices: a phone paired by a one-time code logs in as its own scanner-role staff account, so its
name is the `by` of every answer and audit-log row, and revoking it ends its session and tokens at once.
A device is a door scanner (kind "scanner") or a self check-in kiosk (kind "kiosk", a tablet at the entrance,
webapp/checkin/kiosk.py) with a staff PIN to leave it and, if wanted, badge printing on arrival."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import qrcode
import qrcode.image.svg
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.db import utcnow
from ..core.errors import DomainError, not_found
from ..core.extensions import db
from ..core.validation import of_event
from ..staff.auth import revoke_logins
from ..staff.models import ApiToken, StaffEventRole, StaffUser
from .models import Device, Scan

PAIRING_MINUTES = 15
PAIRING_BYTES = 20  # 160 random bits
NAME_MAX = 80
KINDS = ("scanner", "kiosk")
PIN_PATTERN = re.compile(r"[0-9]{4,8}")  # a kiosk's staff PIN: 4 to 8 digits, stored as a password hash


def _hash(code):
    return hashlib.sha256(code.encode()).hexdigest()


def parse_name(value):
    name = " ".join((value or "").split()) if isinstance(value, str) else ""
    if not name:
        raise DomainError("invalid", _("Bitte einen Namen für das Gerät angeben."))
    if len(name) > NAME_MAX:
        raise DomainError("invalid", _("Der Name darf höchstens %(n)d Zeichen lang sein.", n=NAME_MAX))
    return name


def _new_code(device, now=None):
    """A fresh one-time pairing code for the device; only its hash is stored. Returns the bare code."""
    code = secrets.token_urlsafe(PAIRING_BYTES)
    device.pairing_hash = _hash(code)
    device.pairing_expires_at = (now or utcnow()) + timedelta(minutes=PAIRING_MINUTES)
    return code


def parse_kind(value):
    kind = value if isinstance(value, str) and value else "scanner"
    if kind not in KINDS:
        raise DomainError("invalid", _("Unbekannte Geräteart."))
    return kind


def parse_pin(value):
    """A kiosk's staff PIN: 4 to 8 digits (ASCII digits only: a tablet's keypad types them)."""
    pin = value.strip() if isinstance(value, str) else ""
    if not PIN_PATTERN.fullmatch(pin):
        raise DomainError("invalid", _("Die PIN muss aus 4 bis 8 Ziffern bestehen."))
    return pin


def check_pin(device, pin):
    """Whether `pin` is the kiosk's staff PIN (False for a device without one)."""
    if not device.pin_hash or not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin.strip()):
        return False
    return check_password_hash(device.pin_hash, pin.strip())


def create_device(event, name, now=None, kind="scanner", pin=None, prints_badges=False):
    """A Device with its scanner account (named like the device, without a usable password) and a pairing
    code. Returns (device, bare code). DomainError when the name is taken by any staff account. A kiosk
    needs its staff PIN (stored hashed); only a kiosk prints badges."""
    name = parse_name(name)
    kind = parse_kind(kind)
    pin_hash = generate_password_hash(parse_pin(pin)) if kind == "kiosk" else None
    taken = db.session.execute(select(StaffUser.id).where(func.lower(StaffUser.name) == name.lower())).first()
    if taken:
        raise DomainError("conflict", _("Diesen Namen trägt schon ein Gerät oder Teammitglied."), 409)
    staff = StaffUser(name=name, role="scanner", active=True)
    staff.event_roles.append(StaffEventRole(event_id=event.id, role="scanner"))  # this event's door only
    staff.set_password(secrets.token_urlsafe(32))  # never shown: a device signs in by pairing only
    device = Device(
        event_id=event.id,
        name=name,
        staff=staff,
        kind=kind,
        pin_hash=pin_hash,
        prints_badges=bool(prints_badges) and kind == "kiosk",
    )
    code = _new_code(device, now)
    db.session.add_all([staff, device])
    db.session.commit()
    return device, code


def new_pairing_code(event, device, now=None):
    """Pair another phone (or the same one again, e.g. after its cookies were cleared) as this device."""
    if device.revoked_at is not None:
        raise DomainError("revoked", _("Das Gerät ist gesperrt."), 409)
    code = _new_code(device, now)
    db.session.commit()
    return code


def get_device(event, device_id):
    return of_event(Device, event, device_id, _l("Dieses Gerät gibt es nicht."))


def device_for_code(code, now=None):
    """The device a pairing code belongs to while it is valid (unused, not expired, not revoked), or None."""
    if not isinstance(code, str) or not 16 <= len(code) <= 100:
        return None
    device = db.session.execute(select(Device).filter_by(pairing_hash=_hash(code))).scalar_one_or_none()
    if device is None or device.revoked_at is not None or not device.staff.active:
        return None
    if device.pairing_expires_at is None or device.pairing_expires_at <= (now or utcnow()):
        return None
    return device


def redeem_code(code, now=None):
    """Use a pairing code once: returns the device (now paired) or None. The conditional UPDATE makes two
    phones racing with the same code end with one pairing."""
    device = device_for_code(code, now)
    if device is None:
        return None
    now = now or utcnow()
    done = db.session.execute(
        update(Device)
        .where(
            Device.id == device.id,
            Device.pairing_hash == _hash(code),
            Device.pairing_expires_at > now,
            Device.revoked_at.is_(None),
        )
        .values(pairing_hash=None, pairing_expires_at=None, paired_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    db.session.refresh(device)
    return device


def revoke_device(event, device, now=None):
    """Block the device: its account is deactivated (the session and remember cookie stop working with the
    next request) and its tokens revoked. Its name is freed for a replacement; the audit log keeps the old
    name, which is stored with every scan."""
    if device.revoked_at is not None:
        return device
    now = now or utcnow()
    device.revoked_at = now
    device.pairing_hash = None
    device.pairing_expires_at = None
    staff = device.staff
    staff.active = False
    staff.name = f"{device.name[: NAME_MAX - 20]} (gesperrt {device.id})"
    revoke_logins(staff, now=now)  # its session and remember cookie end too, not only while it stays disabled
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return device


def revoked_device_reason(staff):
    """The account of a revoked device stays disabled (staff.auth.refuse_enabling)."""
    device = device_of(staff)
    if device is not None and device.revoked_at is not None:
        return f"{staff.name} is a revoked scanner device: add a new device instead"
    return None


def device_label(staff):
    """For the team page: the device this account belongs to, or None for a person's account."""
    device = device_of(staff)
    if device is None:
        return None
    title = device.event.title if device.event else ""
    if device.kind == "kiosk":
        return _("Check-in-Terminal für %(event)s", event=title)
    return _("Scanner-Gerät für %(event)s", event=title)


def list_devices(event):
    """[(device, last seen, number of scans)]: last seen is the device's latest entry in the audit log."""
    stats = dict(
        (staff_id, (last, n))
        for staff_id, last, n in db.session.execute(
            select(Scan.staff_id, func.max(Scan.at), func.count(Scan.id))
            .where(Scan.event_id == event.id, Scan.staff_id.is_not(None))
            .group_by(Scan.staff_id)
        ).all()
    )
    devices = (
        db.session.execute(
            select(Device).where(Device.event_id == event.id).order_by(Device.revoked_at.is_not(None), Device.name)
        )
        .scalars()
        .all()
    )
    return [(d, *stats.get(d.staff_id, (None, 0))) for d in devices]


_DEVICE_OF_STAFF = select(Device).where(Device.staff_id == bindparam("staff_id"))  # built once: every scan asks


def device_of(staff):
    """The device a staff account belongs to, or None for a person's account."""
    if staff is None or not getattr(staff, "id", None):
        return None
    return db.session.execute(_DEVICE_OF_STAFF, {"staff_id": staff.id}).scalar_one_or_none()


def kiosk_of(staff):
    """The kiosk a staff account belongs to, or None (a person, or a scanner phone)."""
    device = device_of(staff)
    return device if device is not None and device.kind == "kiosk" else None


def qr_svg(text):
    """An inline SVG of a QR code (no style attributes: the CSP allows none); size it with CSS."""
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathImage, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg class="qr" role="img" focusable="false" ', 1)


# ---- offline conflicts and the audit log -----------------------------------------------------------

REVIEW_PREFIX = "review:"


def conflicts(event):
    """Offline double admissions: [{scan, first_by, first_at, reviewed}] newest first."""
    rows = (
        db.session.execute(
            select(Scan).where(Scan.event_id == event.id, Scan.conflict.is_(True)).order_by(Scan.at.desc())
        )
        .scalars()
        .all()
    )
    reviewed = dict(
        db.session.execute(
            select(Scan.nonce, Scan.device).where(Scan.event_id == event.id, Scan.action == "review")
        ).all()
    )
    out = []
    for scan in rows:
        answer = scan.response or {}
        try:
            first_at = datetime.fromisoformat(answer["checked_in_at"])
        except (KeyError, TypeError, ValueError):
            first_at = None
        out.append(
            {
                "scan": scan,
                "first_by": answer.get("by"),
                "first_at": first_at,
                "reviewed_by": reviewed.get(f"{REVIEW_PREFIX}{scan.id}"),
            }
        )
    return out


def mark_reviewed(event, scan_id, actor, staff_id=None):
    """Note in the audit log that staff looked at a conflict (idempotent: one review row per conflict)."""
    scan = of_event(Scan, event, scan_id, _l("Diesen Konflikt gibt es nicht."))
    if not scan.conflict:
        raise not_found(_l("Diesen Konflikt gibt es nicht."))
    nonce = f"{REVIEW_PREFIX}{scan.id}"
    if db.session.execute(select(Scan.id).filter_by(event_id=event.id, nonce=nonce)).first():
        return False
    db.session.add(
        Scan(
            event_id=event.id,
            nonce=nonce,
            action="review",
            device=actor,
            staff_id=staff_id,
            input=scan.input,
            result="reviewed",
            guest_id=scan.guest_id,
            response={"result": "reviewed", "scan_id": scan.id},
        )
    )
    db.session.commit()
    return True


def recent_scans(event, limit=30):
    """The latest entries of the audit log (scans and undos), newest first."""
    return (
        db.session.execute(
            select(Scan)
            .where(Scan.event_id == event.id, Scan.action != "review")
            .order_by(Scan.at.desc(), Scan.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def scan_json(scan, tz=None):
    at = scan.at.astimezone(tz) if tz else scan.at
    return {
        "id": scan.id,
        "at": at.isoformat(),
        "action": scan.action,
        "result": scan.result,
        "device": scan.device,
        "offline": scan.offline,
        "conflict": scan.conflict,
        "guest": scan.guest.name if scan.guest is not None else None,
        "city": scan.guest.city if scan.guest is not None else None,
    }
