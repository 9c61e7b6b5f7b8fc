"""Agenda data: rooms, sessions, speakers, topics, announcements of an event (webapp/core/models.py). Logic
lives in domain.py."""

import uuid

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db

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


class Room(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(100), nullable=False)
    slug = db.Column(db.String(100), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    event = db.relationship(
        "Event", backref=db.backref("rooms", order_by="Room.position", cascade="all, delete-orphan")
    )
    __table_args__ = (db.UniqueConstraint("event_id", "name"), db.UniqueConstraint("event_id", "slug"))


class Speaker(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    role = db.Column(db.String(300), nullable=False, default="")
    event = db.relationship("Event", backref=db.backref("speakers", cascade="all, delete-orphan"))


class Topic(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    slug = db.Column(db.String(100), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    # How the board's sentences name the topic (organisers may edit; empty = derived from the name):
    # German accusative with the definite and the indefinite article, and English.
    phrase = db.Column(db.String(200), nullable=False, default="")  # "die Park App"
    phrase_indefinite = db.Column(db.String(200), nullable=False, default="")  # "eine Park App"
    phrase_en = db.Column(db.String(200), nullable=False, default="")  # "the Park App"
    event = db.relationship("Event", backref=db.backref("topics", order_by="Topic.name", cascade="all, delete-orphan"))
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
    # A running session that takes longer (or ends early, negative): moves its end only, never its start.
    overrun_minutes = db.Column(db.Integer, nullable=False, default=0)
    # Raised with every change of its time, room or state: the SEQUENCE of its calendar entry.
    sequence = db.Column(db.Integer, nullable=False, default=0)
    status = db.Column(db.String(12), nullable=False, default="scheduled")

    event = db.relationship(
        "Event",
        backref=db.backref("sessions", cascade="all, delete-orphan", order_by="(Session.planned_start, Session.id)"),
    )
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
    event = db.relationship(
        "Event", backref=db.backref("announcements", cascade="all, delete-orphan", order_by="Announcement.id")
    )
