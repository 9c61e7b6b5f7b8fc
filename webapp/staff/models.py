"""Staff accounts, their bearer tokens and their logins (only hashes of secrets are stored)."""

import hashlib
import secrets
from datetime import timedelta

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.db import UTCDateTime, utcnow
from ..core.extensions import db

ROLES = ("admin", "scanner")


class StaffUser(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False, default="admin")
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    @property
    def is_instance_wide(self):
        """Without event grants an account acts on every event in its role; with them, only there."""
        return not self.event_roles

    @property
    def is_admin(self):
        """An instance admin: everything, including creating events and managing accounts."""
        return self.role == "admin" and self.is_instance_wide

    def role_in(self, event):
        """'admin' (organiser), 'scanner' (door) or None (no access) for this account on `event`."""
        if self.is_instance_wide:
            return self.role
        return next((grant.role for grant in self.event_roles if grant.event_id == event.id), None)

    def may_organise(self, event):
        return self.role_in(event) == "admin"

    def get_id(self):
        """Flask-Login's id (kept in the session and the remember cookie): "<login id>:<secret>" of the
        login this object was loaded or signed in through (staff.auth), so that revoking the login ends
        both cookies. Empty, and so refused by the user_loader, when there is none."""
        return self.__dict__.get("alternative_id", "")

    # UserMixin compares users by get_id(); the same account must stay equal whichever login it came by.
    def __eq__(self, other):
        if not isinstance(other, StaffUser):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__


class StaffEventRole(db.Model):
    """An account scoped to one event: its role there ('admin' = organiser of the event, 'scanner' = door)."""

    staff_id = db.Column(db.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    event_id = db.Column(db.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True, index=True)
    role = db.Column(db.String(20), nullable=False)
    event = db.relationship("Event")


StaffUser.event_roles = db.relationship(
    StaffEventRole, cascade="all, delete-orphan", lazy="selectin", backref=db.backref("staff")
)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    staff_id = db.Column(db.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), unique=True, nullable=False)
    label = db.Column(db.String(120), nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = db.Column(UTCDateTime, nullable=True)
    staff = db.relationship("StaffUser")

    @classmethod
    def issue(cls, staff, label=""):
        """Create a token; returns (row, bare token). The bare token is shown once and never stored."""
        bare = secrets.token_urlsafe(32)
        row = cls(staff=staff, token_hash=hash_token(bare), label=label)
        db.session.add(row)
        return row, bare


LOGIN_DAYS_REMEMBERED = 30
LOGIN_HOURS_SESSION = 24


class StaffLogin(db.Model):
    """One sign-in (a browser or a paired phone). Its session and remember cookies carry "<id>:<secret>";
    only the secret's hash is stored. Valid until expires_at, unless revoked (logout, password change,
    disabled account)."""

    id = db.Column(db.String(32), primary_key=True)  # random, so that ids say nothing about other logins
    staff_id = db.Column(db.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True)
    secret_hash = db.Column(db.String(64), nullable=False)
    remember = db.Column(db.Boolean, nullable=False, default=False)
    user_agent = db.Column(db.String(200), nullable=False, default="")  # to tell one's logins apart
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    revoked_at = db.Column(UTCDateTime, nullable=True)
    staff = db.relationship("StaffUser")

    @classmethod
    def start(cls, staff, remember=False, user_agent="", now=None):
        """A new login; returns (row, alternative id). The alternative id holds the bare secret and is
        only ever in the signed cookies."""
        now = now or utcnow()
        secret = secrets.token_urlsafe(32)
        lifetime = timedelta(days=LOGIN_DAYS_REMEMBERED) if remember else timedelta(hours=LOGIN_HOURS_SESSION)
        row = cls(
            id=secrets.token_urlsafe(16),
            staff=staff,
            secret_hash=hash_token(secret),
            remember=remember,
            user_agent="".join(ch for ch in user_agent or "" if ch.isprintable())[:200],
            created_at=now,
            expires_at=now + lifetime,
        )
        db.session.add(row)
        return row, f"{row.id}:{secret}"

    def is_valid(self, now=None):
        return self.revoked_at is None and self.expires_at > (now or utcnow())
