"""Agenda data: events, rooms, sessions, speakers, topics, announcements. Logic lives in domain.py."""
import secrets
import uuid

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

SESSION_KINDS = ("talk", "opening", "pitch", "panel", "workshop", "break", "networking", "arrival", "other")
SESSION_STATUSES = ("scheduled", "cancelled")
SEVERITIES = ("info", "warning", "urgent")

session_speakers = db.Table(
    "session_speaker",
    db.Column("session_id", db.ForeignKey("session.id", ondelete="CASCADE"), primary_key=True),
    db.Column("speaker_id", db.ForeignKey("speaker.id", ondelete="CASCADE"), primary_key=True),
)
session_topics = db.Table(
    "session_topic",
    db.Column("session_id", db.ForeignKey("session.id", ondelete="CASCADE"), primary_key=True),
    db.Column("topic_id", db.ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
)


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

    rooms = db.relationship("Room", back_populates="event", order_by="Room.position",
                            cascade="all, delete-orphan")
    sessions = db.relationship("Session", back_populates="event", cascade="all, delete-orphan",
                               order_by="(Session.planned_start, Session.id)")
    topics = db.relationship("Topic", back_populates="event", cascade="all, delete-orphan",
                             order_by="Topic.name")
    speakers = db.relationship("Speaker", back_populates="event", cascade="all, delete-orphan")
    announcements = db.relationship("Announcement", back_populates="event", cascade="all, delete-orphan",
                                    order_by="Announcement.id")
    municipalities = db.relationship("Municipality", back_populates="event", cascade="all, delete-orphan",
                                     order_by="(Municipality.is_host.desc(), Municipality.name)")


class Room(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(100), nullable=False)
    slug = db.Column(db.String(100), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    event = db.relationship("Event", back_populates="rooms")
    __table_args__ = (db.UniqueConstraint("event_id", "name"), db.UniqueConstraint("event_id", "slug"))


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
    event = db.relationship("Event", back_populates="municipalities")
    __table_args__ = (db.UniqueConstraint("event_id", "name"), db.UniqueConstraint("event_id", "slug"))


class Speaker(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    role = db.Column(db.String(300), nullable=False, default="")
    event = db.relationship("Event", back_populates="speakers")


class Topic(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    slug = db.Column(db.String(100), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    event = db.relationship("Event", back_populates="topics")
    __table_args__ = (db.UniqueConstraint("event_id", "slug"),)


class Session(db.Model):
    """A slot in the agenda. Expected times = planned times + delay; a moved session keeps its
    planned room so pages can say where it was."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    guid = db.Column(db.String(36), nullable=False, unique=True, default=lambda: str(uuid.uuid4()))
    title = db.Column(db.String(300), nullable=False)
    abstract = db.Column(db.Text, nullable=False, default="")
    kind = db.Column(db.String(20), nullable=False, default="talk")
    language = db.Column(db.String(8), nullable=False, default="de")
    room_id = db.Column(db.ForeignKey("room.id"), nullable=True)
    planned_room_id = db.Column(db.ForeignKey("room.id"), nullable=True)
    planned_start = db.Column(UTCDateTime, nullable=False)
    planned_end = db.Column(UTCDateTime, nullable=False)
    delay_minutes = db.Column(db.Integer, nullable=False, default=0)
    status = db.Column(db.String(12), nullable=False, default="scheduled")

    event = db.relationship("Event", back_populates="sessions")
    room = db.relationship("Room", foreign_keys=[room_id])
    planned_room = db.relationship("Room", foreign_keys=[planned_room_id])
    speakers = db.relationship("Speaker", secondary=session_speakers, order_by="Speaker.id")
    topics = db.relationship("Topic", secondary=session_topics, order_by="Topic.name")


class Announcement(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    text = db.Column(db.String(500), nullable=False)
    severity = db.Column(db.String(10), nullable=False, default="info")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=True)
    withdrawn = db.Column(db.Boolean, nullable=False, default=False)
    event = db.relationship("Event", back_populates="announcements")
