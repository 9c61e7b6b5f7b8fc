"""The outbox: every message to be sent is a row first, committed with the change that caused it, and sent
by the delivery task afterwards (webapp/mail/outbox.py). A mailing is a batch of such rows for its progress."""

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db


class Mailing(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False)  # what each message is, e.g. "ticket"
    label = db.Column(db.String(200), nullable=False, default="")  # who asked for it, for the staff page
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class OutboxMessage(db.Model):
    """One message to one address. The area that queued it builds the MIME message when it is sent (from
    `kind` and `guest_id`, see outbox.register_builder), so queueing 500 is one cheap INSERT each; the
    Message-ID is fixed at queueing, so a retry is recognisably the same message."""

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), nullable=False, index=True)
    mailing_id = db.Column(db.ForeignKey("mailing.id", ondelete="CASCADE"), nullable=True, index=True)
    # A guest's data deletion deletes their messages too (webapp/privacy).
    guest_id = db.Column(db.ForeignKey("guest.id", ondelete="CASCADE"), nullable=True, index=True)
    kind = db.Column(db.String(20), nullable=False)  # ticket | waiting | moved_up | test …
    to_address = db.Column(db.String(254), nullable=False)
    message_id = db.Column(db.String(200), nullable=False, unique=True)
    status = db.Column(db.String(10), nullable=False, default="pending", index=True)  # pending|sending|sent|failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = db.Column(UTCDateTime, nullable=True)
    sent_at = db.Column(UTCDateTime, nullable=True)
    last_error = db.Column(db.String(500), nullable=False, default="")  # the SMTP server's answer
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # At most one message per guest in a mailing.
    __table_args__ = (db.UniqueConstraint("mailing_id", "guest_id"),)
