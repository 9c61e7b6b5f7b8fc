"""Check-in as one function (after pretix's checkin service): given what a scanner read, a nonce and the
scanning device, answer ok / already / unknown / wrong_event / cancelled, admit each guest at most once,
log every scan, and push the new arrival counts after commit."""

import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core.errors import DomainError
from ..core.extensions import db
from ..core.validation import aware_time, expect_object, of_event
from ..live import touch_stats
from ..staff.auth import role_refusal
from .devices import device_of
from .guests import SEARCH_REF, guest_for_search_ref
from .models import BADGE_PREFIX, CODE_ALPHABET, CODE_LENGTH, CheckIn, Guest, Scan

RESULTS = ("ok", "already", "unknown", "wrong_event", "cancelled", "waiting")
DELETED = "gelöscht"  # the input of an audit-log row whose guest asked to be deleted (webapp/privacy.py)
UNDO_SECONDS = 30
MAX_INPUT = 2000
TOKEN_IN_URL = re.compile(r"/t/([A-Za-z0-9_-]{20,64})(?:[/?#]|$)")
TOKEN_ALONE = re.compile(r"[A-Za-z0-9_-]{40,64}")


def normalise_code(text):
    """What a person typed: case, spaces and dashes do not matter ("abcd-efgh" = "ABCDEFGH")."""
    return re.sub(r"[\s-]", "", text).upper()


BADGE_MARK = normalise_code(BADGE_PREFIX)  # "TPB"
BADGE_CODE_LENGTH = 10  # models.new_badge_code


def badge_code_of(text):
    """The badge code in a badge's QR text ("TPB-" + 10 symbols; case, spaces and dashes do not matter),
    or None."""
    code = normalise_code(text)
    if not code.startswith(BADGE_MARK):
        return None
    code = code[len(BADGE_MARK) :]
    return code if len(code) == BADGE_CODE_LENGTH and set(code) <= set(CODE_ALPHABET) else None


def find_guest(text):
    """The guest a scanned text names — a ticket URL (/t/<token>), a bare token, a typed code, or a badge's
    check-in code ("TPB-…") — in any event (so a ticket of another event is recognised as such), or None.
    The guest's check-in comes in the same statement: a second scan of the same ticket then needs no
    failed insert to find out."""
    text = text.strip()
    if text.startswith(SEARCH_REF):
        return guest_for_search_ref(text)
    badge = badge_code_of(text) if len(text) <= 40 else None
    if badge:
        return _guest_with_checkin("badge_code", badge)
    match = TOKEN_IN_URL.search(text)
    token = match.group(1) if match else (text if TOKEN_ALONE.fullmatch(text) else None)
    if token:
        return _guest_with_checkin("token", token)
    code = normalise_code(text)
    if len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET):
        return _guest_with_checkin("code", code)
    return None


# The scan's lookups, built once (a statement built per call costs about as much in Python as the query).
_GUEST_BY = {
    column: select(Guest).where(getattr(Guest, column) == bindparam("value")).options(joinedload(Guest.checkin))
    for column in ("badge_code", "token", "code")
}
_SCAN_BY_NONCE = select(Scan).where(Scan.event_id == bindparam("event_id"), Scan.nonce == bindparam("nonce"))
# The two rows a scan writes, as plain INSERTs: the ORM's unit of work costs more than the statements.
_INSERT_CHECKIN = insert(CheckIn.__table__).returning(CheckIn.__table__.c.id)
_INSERT_SCAN = insert(Scan.__table__)


def _guest_with_checkin(column, value):
    return db.session.execute(_GUEST_BY[column], {"value": value}).scalar_one_or_none()


def may_check_in(staff, event):
    """Whether a logged-in staff member may let guests in at this event's door: any role in the event
    (organiser or door), and a paired device only at the event it was paired for."""
    if staff is None or not getattr(staff, "is_authenticated", False):
        return False
    if role_refusal(staff, None, event) is not None:
        return False
    device = device_of(staff)
    return device is None or device.event_id == event.id


def guest_json(guest):
    return {"id": guest.id, "name": guest.name, "city": guest.city, "organisation": guest.organisation}


def _answer(result, guest=None, checkin=None):
    return {
        "result": result,
        "guest": guest_json(guest) if guest is not None else None,
        "checked_in_at": checkin.at.isoformat() if checkin is not None else None,
        "by": checkin.device if checkin is not None else None,
        "checkin_id": checkin.id if checkin is not None else None,
        "offline": checkin.offline if checkin is not None else False,
    }


def parse_scan(data):
    code, nonce = expect_object(data).get("code"), data.get("nonce")
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_INPUT:
        raise DomainError(
            "invalid",
            _("Bitte den gescannten oder getippten Code senden (1 bis %(max)d Zeichen).", max=MAX_INPUT),
            field="code",
        )
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= 64:
        raise DomainError(
            "invalid",
            _("„nonce“ muss eine vom Gerät erzeugte Kennung aus 1 bis 64 Zeichen sein (am besten eine UUID)."),
            field="nonce",
        )
    scanned_at = aware_time(data, "scanned_at") if data.get("scanned_at") is not None else None
    return code, nonce, scanned_at


CLOCK_SLACK = timedelta(minutes=5)  # a phone's clock may run a little ahead of the server's


def plausible_scan_time(event, scanned_at, now):
    """The device's scan time if it can be true: on the event's days (from the day before, for an early
    badge pick-up, to the day after) and not after the server's clock. Else None, and the server's time
    stands: a phone with a wrong clock must not write a year-9999 check-in that breaks every counter."""
    if scanned_at is None:
        return None
    tz = ZoneInfo(event.timezone)
    first_day = datetime.combine(event.starts_at.astimezone(tz).date() - timedelta(days=1), time.min, tz)
    last_day = datetime.combine(event.ends_at.astimezone(tz).date() + timedelta(days=2), time.min, tz)
    return scanned_at if first_day <= scanned_at <= min(last_day, now + CLOCK_SLACK) else None


def _earlier_scan(event, nonce):
    return db.session.execute(_SCAN_BY_NONCE, {"event_id": event.id, "nonce": nonce}).scalar_one_or_none()


def _earlier_answer(event, nonce):
    scan = _earlier_scan(event, nonce)
    return scan.response if scan is not None else None


def _guest_in(event, guest):
    return guest.id if guest is not None and guest.event_id == event.id else None


def check_in(event, text, nonce, device, staff_id=None, offline=False, scanned_at=None):
    """Apply one scan; returns the answer (a dict). Commits. Safe to call again with the same nonce."""
    guest = find_guest(text)
    earlier = _earlier_scan(event, nonce)
    if earlier is not None:
        # A retry gets the first answer; the same nonce with another guest's ticket is a client's mistake
        # that must not pass for a check-in of that other guest.
        if (
            earlier.action == "scan"
            and guest is not None
            and earlier.guest_id != _guest_in(event, guest)
            and earlier.input != DELETED
        ):
            raise DomainError(
                "nonce_reused",
                _("Diese „nonce“ gehört schon zu einem anderen Scan; bitte für jeden Scan eine neue erzeugen."),
                409,
            )
        return earlier.response
    now = datetime.now(timezone.utc)
    scanned_at = plausible_scan_time(event, scanned_at, now)
    checkin, conflict = None, False
    if guest is None:
        result = "unknown"
    elif guest.event_id != event.id:
        result, guest = "wrong_event", None  # say nothing about another event's guest
    elif guest.status in ("cancelled", "waiting"):
        result = guest.status  # a cancelled registration, or a place on the waiting list: no admission
    elif guest.checkin is not None:  # scanned before (read with the guest)
        checkin, result = guest.checkin, "already"
        conflict = offline and checkin.device != device  # see below
    else:
        row = {
            "event_id": event.id,
            "guest_id": guest.id,
            "device": device,
            "offline": offline,
            "at": scanned_at or now,
            "recorded_at": now,
        }
        # The check-in and its audit row go into ONE transaction (committed below). No savepoint: on SQLite
        # (pysqlite) a SAVEPOINT opened before any write is the outermost transaction, so its RELEASE
        # committed the check-in on its own, and a crash before the audit row's commit left a check-in
        # without its `ok` row (found by tests/hardening/test_crash_safety.py).
        try:
            # The unique guest_id decides here: of racing scans, one insert wins.
            checkin = CheckIn(id=db.session.execute(_INSERT_CHECKIN, row).scalar_one(), **row)  # for the answer
            result = "ok"
            touch_stats(event)
        except IntegrityError:
            db.session.rollback()  # this transaction had read only: nothing else is lost
            earlier = _earlier_answer(event, nonce)  # the same nonce raced in from a retry: its answer wins
            if earlier is not None:
                return earlier
            checkin = db.session.execute(select(CheckIn).filter_by(guest_id=guest.id)).scalar_one()
            result = "already"
            # Two devices admitted the same guest while offline: both people were let in; staff review it.
            conflict = offline and checkin.device != device
    answer = _answer(result, guest, checkin)
    audit = {
        "event_id": event.id,
        "nonce": nonce,
        "device": device,
        "staff_id": staff_id,
        "input": text[:80],
        "result": result,
        "guest_id": guest.id if guest else None,
        "offline": offline,
        "scanned_at": scanned_at,
        "conflict": conflict,
        "response": answer,
    }
    try:
        db.session.execute(_INSERT_SCAN, audit)
        db.session.commit()
    except IntegrityError:  # the same nonce raced in from a retry: its first answer wins
        db.session.rollback()
        earlier = _earlier_answer(event, nonce)
        if earlier is None:
            raise
        return earlier
    return answer


def check_in_batch(event, scans, device, staff_id=None):
    """Offline scans from one device, applied in the order they were scanned."""
    ordered = sorted(
        enumerate(scans), key=lambda item: (item[1][2] or datetime.max.replace(tzinfo=timezone.utc), item[0])
    )
    answers = [None] * len(scans)
    for index, (text, nonce, scanned_at) in ordered:
        answers[index] = check_in(event, text, nonce, device, staff_id, offline=True, scanned_at=scanned_at)
    return answers


def undo_check_in(event, checkin_id, nonce, device, staff_id=None, now=None):
    """Take back a check-in made less than UNDO_SECONDS ago (a wrong guest admitted). Logged."""
    now = now or datetime.now(timezone.utc)
    checkin = of_event(CheckIn, event, checkin_id, _l("Diesen Check-in gibt es nicht."))
    # Measured from when the server stored it: an offline scan's device time says nothing about that.
    if not timedelta(0) <= now - checkin.recorded_at <= timedelta(seconds=UNDO_SECONDS):
        raise DomainError(
            "too_late", _("Ein Check-in lässt sich nur %(n)d Sekunden lang zurücknehmen.", n=UNDO_SECONDS), 409
        )
    guest = checkin.guest
    db.session.delete(checkin)
    db.session.add(
        Scan(
            event_id=event.id,
            nonce=nonce,
            action="undo",
            device=device,
            staff_id=staff_id,
            input=guest.code,
            result="undone",
            guest_id=guest.id,
            response={"result": "undone", "guest": guest_json(guest)},
        )
    )
    touch_stats(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("invalid", _("Diese „nonce“ wurde schon verwendet."), field="nonce") from None
    return {"result": "undone", "guest": guest_json(guest)}
