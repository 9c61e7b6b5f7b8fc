"""Matchmaking data: a municipality's stage per topic, meeting requests, and the planned tables."""

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db

STAGES = ("runs", "plans", "interested")
REQUEST_STATUSES = ("requested", "accepted", "declined")


class Interest(db.Model):
    """One municipality's stage on one topic, as its delegate stated it."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    municipality_id = db.Column(db.ForeignKey("municipality.id", ondelete="CASCADE"), nullable=False)
    topic_id = db.Column(db.ForeignKey("topic.id", ondelete="CASCADE"), nullable=False)
    stage = db.Column(db.String(12), nullable=False)
    note = db.Column(db.String(200), nullable=False, default="")
    # Shown as contact person only if that guest agreed (Guest.consent_contact).
    contact_guest_id = db.Column(db.ForeignKey("guest.id", ondelete="SET NULL"), nullable=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    municipality = db.relationship("Municipality")
    topic = db.relationship("Topic")
    contact = db.relationship("Guest")
    __table_args__ = (db.UniqueConstraint("municipality_id", "topic_id"),)


class MeetingRequest(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    topic_id = db.Column(db.ForeignKey("topic.id", ondelete="CASCADE"), nullable=False)
    from_id = db.Column(db.ForeignKey("municipality.id", ondelete="CASCADE"), nullable=False)
    to_id = db.Column(db.ForeignKey("municipality.id", ondelete="CASCADE"), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="requested")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    answered_at = db.Column(UTCDateTime, nullable=True)
    topic = db.relationship("Topic")
    from_municipality = db.relationship("Municipality", foreign_keys=[from_id])
    to_municipality = db.relationship("Municipality", foreign_keys=[to_id])


class TableAssignment(db.Model):
    """One table in one networking session: a meeting of two municipalities or a topic table of 3–4."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    session_id = db.Column(db.ForeignKey("session.id", ondelete="CASCADE"), nullable=False)
    table = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(10), nullable=False)  # meeting | table
    topic_id = db.Column(db.ForeignKey("topic.id", ondelete="CASCADE"), nullable=False)
    members = db.Column(db.JSON, nullable=False)  # sorted municipality ids
    weight = db.Column(db.Float, nullable=False, default=0)
    session = db.relationship("Session")
    topic = db.relationship("Topic")
    __table_args__ = (db.UniqueConstraint("session_id", "table"),)
