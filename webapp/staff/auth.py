"""Who is asking: staff by session (Flask-Login, CSRF) or by bearer token; one check for HTTP and sockets."""
from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import DomainError
from ..extensions import db, login_manager
from .models import ApiToken, StaffUser, hash_token


@login_manager.user_loader
def load_user(user_id):
    user = db.session.get(StaffUser, int(user_id)) if str(user_id).isdigit() else None
    return user if user is not None and user.active else None


BEARER_KEY = "treffpunkt.bearer_staff"


def bearer_staff():
    """The staff member whose bearer token is in the Authorization header, or None (looked up once per
    request: the rate limiter asks too)."""
    if BEARER_KEY not in request.environ:
        request.environ[BEARER_KEY] = _bearer_lookup()
    return request.environ[BEARER_KEY]


def _bearer_lookup():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    if not token or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken).options(joinedload(ApiToken.staff))
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    return row.staff if row is not None and row.staff.active else None


def _require_role(staff, role):
    if role == "admin" and not staff.is_admin:
        raise DomainError("forbidden", "this needs an admin account", 403)
    return staff


def api_staff(role="admin"):
    """The staff member behind an API request, or DomainError 401/403. A session-authenticated write must
    carry the CSRF token (header X-CSRFToken); a bearer token needs none (it is not sent by browsers)."""
    if "Authorization" in request.headers:
        staff = bearer_staff()
        if staff is None:
            raise DomainError("unauthorized", "invalid or revoked token", 401)
        return _require_role(staff, role)
    if not current_user.is_authenticated:
        raise DomainError("unauthorized", "staff login or bearer token required", 401)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (CSRFError, Exception) as exc:  # ValidationError from wtforms, CSRFError from flask_wtf
            raise DomainError("csrf", f"CSRF token missing or invalid: {exc}", 403) from None
    return _require_role(current_user._get_current_object(), role)


def socket_staff(role="admin"):
    """The logged-in staff member of a Socket.IO connection (cookie session), or DomainError."""
    if not current_user.is_authenticated:
        raise DomainError("unauthorized", "staff login required", 401)
    return _require_role(current_user._get_current_object(), role)


def staff_required(role="admin"):
    """Page decorator: anonymous visitors go to the login page, the wrong role gets 403."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("staff.login", next=request.full_path))
            if role == "admin" and not current_user.is_admin:
                return "forbidden", 403
            return view(*args, **kwargs)

        return wrapped

    return decorate


def actor_name(staff):
    return staff.name if staff is not None else "system"
