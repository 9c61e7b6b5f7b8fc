"""The change log: one row per revision of an event."""

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db


class Change(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False)
    revision = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    summary = db.Column(db.String(500), nullable=False, default="")
    actor = db.Column(db.String(120), nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # What clients need to apply the change: {"sessions": [...], "announcements": [...], ...}
    payload = db.Column(db.JSON, nullable=False, default=dict)
    # The typed facts of the change ({"title": …, "from": "15:35", "to": "15:45"}), from which the change log
    # is written in the reader's language (live/change_texts.py); None in rows from before them.
    details = db.Column(db.JSON, nullable=True)
    # The unique pair is what makes "+1 per change" hold even if two writers race.
    __table_args__ = (db.UniqueConstraint("event_id", "revision"),)
