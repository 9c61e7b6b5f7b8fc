"""Check-in data: guests with their tickets, the one check-in per guest, the scan audit log, devices."""

import secrets

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db

GUEST_STATUSES = ("registered", "waiting", "cancelled")  # waiting: on the waiting list, no admission
# Short typed codes: 8 characters without the look-alikes 0/O/1/I/L (31 symbols, ~40 bits).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_token():
    """The ticket token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


BADGE_PREFIX = "TPB-"  # a badge's QR: "TPB-" + its own code; checks the guest in and opens no page


BADGE_LENGTH = 10


def _random_symbols(length):
    """One random number read as `length` digits in base 31 (one call to the random source: an import of
    45,000 guests makes that many, and ten calls each stalled the door for a second longer)."""
    n = secrets.randbelow(len(CODE_ALPHABET) ** length)
    digits = []
    for _ in range(length):
        n, digit = divmod(n, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    return "".join(digits)


def new_badge_code():
    """The badge's check-in code: another 10 random symbols (~50 bits), unrelated to the ticket code, so a
    photographed badge leads to no personal page."""
    return _random_symbols(BADGE_LENGTH)


def new_code():
    return _random_symbols(CODE_LENGTH)


class Guest(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)  # as printed: "Dr. Käthe Muster" (title, given, family)
    salutation = db.Column(db.String(20), nullable=False, default="")  # Anrede: "Frau", "Herr", "" …
    title = db.Column(db.String(40), nullable=False, default="")  # "Dr.", "Prof. Dr." …
    given_name = db.Column(db.String(100), nullable=False, default="")
    family_name = db.Column(db.String(100), nullable=False, default="")  # sorts the lists; "" = last word of name
    notes = db.Column(db.Text, nullable=False, default="")  # staff only, never shown to the guest
    language = db.Column(db.String(5), nullable=False, default="de")  # of the guest's mails
    city = db.Column(db.String(120), nullable=False, default="")
    municipality_id = db.Column(db.ForeignKey("municipality.id", ondelete="SET NULL"), nullable=True)
    organisation = db.Column(db.String(200), nullable=False, default="")
    role = db.Column(db.String(200), nullable=False, default="")
    email = db.Column(db.String(254), nullable=False, default="")
    # Consent to be named to other delegates (e.g. as a matchmaking contact); never needed to attend.
    consent_contact = db.Column(db.Boolean, nullable=False, default=False)
    status = db.Column(db.String(12), nullable=False, default="registered")
    source = db.Column(db.String(12), nullable=False, default="staff")  # self | staff | import
    # Speaks for its municipality on the matchmaking board: added by the organisers (page, API, import),
    # confirmed by them, or registered with the municipality's invitation code. A stranger who merely
    # signs up for a town does not.
    is_delegate = db.Column(db.Boolean, nullable=False, default=False)
    token = db.Column(db.String(64), nullable=False, unique=True, default=new_token)
    code = db.Column(db.String(CODE_LENGTH), nullable=False, unique=True, default=new_code)
    badge_code = db.Column(db.String(16), nullable=False, unique=True, default=new_badge_code)
    # The guest's calendar subscription (webcal) of her starred sessions: its own secret, not the ticket
    # token, because calendar services fetch it from their servers. Made on first use.
    calendar_token = db.Column(db.String(64), nullable=True, unique=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    event = db.relationship("Event")
    municipality = db.relationship("Municipality")
    checkin = db.relationship("CheckIn", uselist=False, back_populates="guest", cascade="all, delete-orphan")


class Favourite(db.Model):
    """A session a guest starred, kept with her ticket (the page also keeps them in the browser)."""

    guest_id = db.Column(db.ForeignKey("guest.id", ondelete="CASCADE"), primary_key=True)
    session_id = db.Column(db.ForeignKey("session.id", ondelete="CASCADE"), primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class CheckIn(db.Model):
    """At most one per guest: the unique guest_id is what makes check-in exactly-once, on SQLite and
    PostgreSQL, across devices and processes."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    guest_id = db.Column(db.ForeignKey("guest.id", ondelete="CASCADE"), nullable=False, unique=True)
    at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # when the guest came in (device time offline)
    recorded_at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # when the server stored it
    device = db.Column(db.String(120), nullable=False, default="")
    offline = db.Column(db.Boolean, nullable=False, default=False)
    guest = db.relationship("Guest", back_populates="checkin")


class Scan(db.Model):
    """The audit log: every scan and every undo, successful or not. The stored answer makes a retry with
    the same nonce return the first answer."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    nonce = db.Column(db.String(64), nullable=False)
    action = db.Column(db.String(10), nullable=False, default="scan")  # scan | undo
    at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # when the server applied it
    scanned_at = db.Column(UTCDateTime, nullable=True)  # when the device scanned it (offline scans)
    device = db.Column(db.String(120), nullable=False, default="")
    staff_id = db.Column(db.ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    input = db.Column(db.String(80), nullable=False, default="")  # what was scanned, cut short
    result = db.Column(db.String(20), nullable=False)
    guest_id = db.Column(db.ForeignKey("guest.id", ondelete="SET NULL"), nullable=True)
    offline = db.Column(db.Boolean, nullable=False, default=False)
    # An offline admission of a guest whom another device had already admitted: for staff review.
    conflict = db.Column(db.Boolean, nullable=False, default=False)
    response = db.Column(db.JSON, nullable=False, default=dict)
    guest = db.relationship("Guest")
    __table_args__ = (db.UniqueConstraint("event_id", "nonce"),)


class Device(db.Model):
    """A phone paired as a scanner: it logs in as its own scanner-role staff account, so revoking the
    device (deactivating that account) ends its session and tokens at once."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    kind = db.Column(db.String(10), nullable=False, default="scanner")  # scanner | kiosk (self check-in)
    pin_hash = db.Column(db.String(200), nullable=True)  # a kiosk's staff PIN (werkzeug hash) to leave it
    prints_badges = db.Column(db.Boolean, nullable=False, default=False)  # a kiosk prints the badge on arrival
    staff_id = db.Column(db.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, unique=True)
    pairing_hash = db.Column(db.String(64), nullable=True, unique=True)
    pairing_expires_at = db.Column(UTCDateTime, nullable=True)
    paired_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = db.Column(UTCDateTime, nullable=True)
    staff = db.relationship("StaffUser")
    event = db.relationship("Event")
