"""Staff accounts and their bearer tokens (only hashes are stored)."""
import hashlib
import secrets

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

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
    def is_admin(self):
        return self.role == "admin"


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
