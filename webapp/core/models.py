"""The models every area stands on: the event (with its live revision) and the municipalities taking part.
The areas hang their own rows on the event (Room.event, Session.event, …, with backrefs such as
`event.rooms`), so this module knows none of them."""

import secrets

from .db import UTCDateTime
from .extensions import db


class Event(db.Model):
    """One meeting of a series. `revision` counts its live changes (see webapp.live)."""

    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(64), unique=True, nullable=False)
    series = db.Column(db.String(200), nullable=False, default="")
    title = db.Column(db.String(300), nullable=False)
    subtitle = db.Column(db.String(300), nullable=False, default="")
    host = db.Column(db.String(300), nullable=False, default="")
    venue = db.Column(db.String(300), nullable=False, default="")
    description = db.Column(db.Text, nullable=False, default="")
    timezone = db.Column(db.String(64), nullable=False, default="Europe/Berlin")
    starts_at = db.Column(UTCDateTime, nullable=False)
    ends_at = db.Column(UTCDateTime, nullable=False)
    is_demo = db.Column(db.Boolean, nullable=False, default=False)
    tables_per_slot = db.Column(db.Integer, nullable=False, default=6)  # networking tables in each slot
    revision = db.Column(db.Integer, nullable=False, default=0)
    archived = db.Column(db.Boolean, nullable=False, default=False)  # off the staff start page's lists
    # Self-registration: open between these times (None: no bound); at `capacity` registered guests further
    # sign-ups go on the waiting list and move up when someone cancels.
    registration_opens_at = db.Column(UTCDateTime, nullable=True)
    registration_closes_at = db.Column(UTCDateTime, nullable=True)
    capacity = db.Column(db.Integer, nullable=True)
    board_enabled = db.Column(db.Boolean, nullable=False, default=True)  # the matchmaking board is used

    municipalities = db.relationship(
        "Municipality",
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(Municipality.is_host.desc(), Municipality.name)",
    )


INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no look-alikes, as the ticket codes
INVITE_LENGTH = 10  # ~50 bits


def new_invite_code():
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


class Municipality(db.Model):
    """A town taking part (host or guest); guests register for one, the matchmaking board links them.

    Who speaks for it on the board: guests the organisers added or confirmed, and guests who registered with
    its invitation code (`invite_code`, handed out by the organisers). `answers_version` counts changes of
    its board answers, so that a delegate saving over another delegate's newer answers is told, not
    silently overwritten."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(120), nullable=False)
    slug = db.Column(db.String(120), nullable=False)
    is_host = db.Column(db.Boolean, nullable=False, default=False)
    latitude = db.Column(db.Float, nullable=True)
    longitude = db.Column(db.Float, nullable=True)
    note = db.Column(db.String(200), nullable=False, default="")
    # On the public matchmaking board only while a delegate's latest answer agreed to it.
    board_consent = db.Column(db.Boolean, nullable=False, default=False)
    invite_code = db.Column(db.String(INVITE_LENGTH), nullable=False, default=new_invite_code)
    answers_version = db.Column(db.Integer, nullable=False, default=0)
    # The board answers were carried over from this earlier meeting (its title) and wait for a delegate to
    # confirm or change them; empty once they did.
    profile_from = db.Column(db.String(300), nullable=False, default="")
    event = db.relationship("Event", back_populates="municipalities")
    __table_args__ = (db.UniqueConstraint("event_id", "name"), db.UniqueConstraint("event_id", "slug"))
