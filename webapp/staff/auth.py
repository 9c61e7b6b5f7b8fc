"""Who is asking: staff by session (Flask-Login, CSRF) or by bearer token; one check for HTTP and sockets.

Logins are server-side (StaffLogin): login_user starts one, and the session and remember cookies carry its
"<login id>:<secret>" (StaffUser.get_id) instead of the account id, so that logout, a password change or a
disabled account ends them on the server. Socket.IO events reload the user through the same user_loader."""

import hmac
import secrets
from datetime import timedelta
from functools import wraps

from flask import abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_in, user_logged_out
from flask_login.utils import decode_cookie
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.db import utcnow
from ..core.errors import DomainError, not_found
from ..core.events import get_event
from ..core.extensions import db, login_manager
from .models import LOGIN_DAYS_REMEMBERED, ApiToken, StaffEventRole, StaffLogin, StaffUser, hash_token

PASSWORD_MIN = 10
KEEP_ENDED_LOGINS_DAYS = 30
_ALTERNATIVE_ID_MAX = 120


# ---- logins ---------------------------------------------------------------------------------------------


def valid_login(alternative_id, now=None):
    """The StaffLogin named by "<login id>:<secret>" while it is valid and its account active, else None."""
    if not isinstance(alternative_id, str) or len(alternative_id) > _ALTERNATIVE_ID_MAX:
        return None
    login_id, colon, secret = alternative_id.partition(":")
    if not login_id or not colon or not secret:
        return None
    login = db.session.execute(
        select(StaffLogin).options(joinedload(StaffLogin.staff)).where(StaffLogin.id == login_id)
    ).scalar_one_or_none()
    if login is None or not hmac.compare_digest(login.secret_hash, hash_token(secret)):
        return None
    return login if login.is_valid(now) and login.staff.active else None


def _bind(user, login, alternative_id):
    # Plain attributes of this object (not columns): what get_id() answers and which login to end at logout.
    user.current_login, user.alternative_id = login, alternative_id
    return user


def load_user(alternative_id):
    login = valid_login(alternative_id)
    return _bind(login.staff, login, alternative_id) if login is not None else None


def revoke_logins(staff, keep=None, now=None):
    """End every login of the account (but `keep`, the caller's own); returns how many were ended."""
    query = update(StaffLogin).where(StaffLogin.staff_id == staff.id, StaffLogin.revoked_at.is_(None))
    if keep is not None:
        query = query.where(StaffLogin.id != keep.id)
    return db.session.execute(query.values(revoked_at=now or utcnow())).rowcount


def end_other_logins(staff, keep):
    """The account page's "sign out everywhere else": every login of the account but the caller's."""
    ended = revoke_logins(staff, keep=keep)
    db.session.commit()
    return ended


def active_logins(staff, now=None):
    return (
        db.session.execute(
            select(StaffLogin)
            .where(
                StaffLogin.staff_id == staff.id,
                StaffLogin.revoked_at.is_(None),
                StaffLogin.expires_at > (now or utcnow()),
            )
            .order_by(StaffLogin.created_at.desc())
        )
        .scalars()
        .all()
    )


def _browser_logins():
    """The logins named by the cookies this request came with (before login_user changed the session)."""
    before = current_app.session_interface.open_session(current_app, request) or {}
    values = [before.get("_user_id")]
    cookie = request.cookies.get(_remember_cookie_name())
    if cookie:
        values.append(decode_cookie(cookie))
    return [login for login in map(valid_login, values) if login is not None]


def _remember_cookie_name():
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")


def _end(logins, now=None):
    now = now or utcnow()
    for login in logins:
        login.revoked_at = login.revoked_at or now


def _prune(staff, now=None):
    """Logins that ended a while ago are of no use any more (the account page lists the valid ones)."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_ENDED_LOGINS_DAYS)
    db.session.execute(
        delete(StaffLogin)
        .where(StaffLogin.staff_id == staff.id, or_(StaffLogin.expires_at < cutoff, StaffLogin.revoked_at < cutoff))
        .execution_options(synchronize_session=False)
    )


def _start_login(app, user=None, **extra):
    """Every login_user (password form, device pairing) makes a new StaffLogin and puts its id into the
    session; the remember cookie, set after the request, copies it from there."""
    if not isinstance(user, StaffUser):
        return
    remember = session.get("_remember") == "set"
    _end(_browser_logins())  # this browser's earlier login is replaced, not left valid behind its back
    _prune(user)
    login, alternative_id = StaffLogin.start(user, remember=remember, user_agent=request.user_agent.string)
    db.session.commit()
    _bind(user, login, alternative_id)
    session["_user_id"] = alternative_id
    if remember:
        session["_remember_seconds"] = LOGIN_DAYS_REMEMBERED * 24 * 3600  # the cookie ends with the login
    elif request.cookies.get(_remember_cookie_name()):  # an older login's cookie must not outlive this one
        session["_remember"] = "clear"


def _end_login(app, user=None, **extra):
    logins = _browser_logins()
    if isinstance(user, StaffUser) and getattr(user, "current_login", None) is not None:
        logins.append(user.current_login)
    _end(logins)
    db.session.commit()


# ---- passwords and accounts ---------------------------------------------------------------------------

_dummy_hash = None


def _hash_for_unknown():
    """A hash of the same method as real accounts' (set_password's default), made once per process."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def authenticate(name, password):
    """The active account with this name and password, or None. Unknown names and disabled accounts are
    checked against a dummy hash, so the answer takes as long as a wrong password (no user enumeration)."""
    user = db.session.execute(select(StaffUser).filter_by(name=(name or "").strip())).scalar_one_or_none()
    if user is None or not user.active:
        check_password_hash(_hash_for_unknown(), password or "")
        return None
    return user if user.check_password(password or "") else None


def change_password(staff, current, new, keep=None):
    """The account page: needs the current password; ends every other login of the account."""
    if not staff.check_password(current or ""):
        raise DomainError("wrong_password", _("Das aktuelle Passwort ist falsch."), 400)
    if len(new or "") < PASSWORD_MIN:
        raise DomainError(
            "invalid", _("Das neue Passwort muss mindestens %(n)d Zeichen lang sein.", n=PASSWORD_MIN), 400
        )
    staff.set_password(new)
    ended = revoke_logins(staff, keep=keep)
    db.session.commit()
    return ended


def reset_password(staff, password):
    """Set a password without the old one (the CLI): ends every login of the account."""
    staff.set_password(password)
    revoke_logins(staff)


def set_event_roles(staff, events, role):
    """Scope `staff` to `events` with `role` in each; no events makes the account instance-wide."""
    staff.event_roles = [StaffEventRole(event_id=event.id, role=role) for event in events]


def refuse_enabling(app, check):
    """An area's reason why an account must stay disabled: check(staff) -> a message, or None (check-in: the
    account of a revoked scanner device, whose old remember cookie would otherwise work again)."""
    checks = app.extensions.setdefault("staff_enable_checks", [])
    if check not in checks:
        checks.append(check)


def set_active(staff, active):
    """Disable (every login ends; tokens are refused while disabled) or enable an account."""
    if active:
        for check in current_app.extensions.get("staff_enable_checks", ()):
            reason = check(staff)
            if reason:
                raise DomainError("conflict", reason, 409)
    staff.active = active
    if not active:
        revoke_logins(staff)
    db.session.commit()


def tokens_of(staff):
    return (
        db.session.execute(select(ApiToken).where(ApiToken.staff_id == staff.id).order_by(ApiToken.id)).scalars().all()
    )


def revoke_token(staff, token_id, now=None):
    """Revoke one of the account's own bearer tokens (another account's token is not found)."""
    token = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if token is None or token.staff_id != staff.id:
        raise not_found(_l("Diesen Zugangsschlüssel gibt es nicht."))
    token.revoked_at = token.revoked_at or now or utcnow()
    db.session.commit()
    return token


def revoke_tokens(staff, now=None):
    done = db.session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    db.session.commit()
    return done.rowcount


BEARER_KEY = "treffpunkt.bearer_staff"


def install(app):
    """Who is asking, for Flask-Login: the user loader takes only a valid login, and every login_user /
    logout_user starts / ends one (the password form and device pairing alike)."""
    login_manager.user_loader(load_user)
    user_logged_in.connect(_start_login)
    user_logged_out.connect(_end_login)


def bearer_staff():
    """The staff member whose bearer token is in the Authorization header, or None (looked up once per
    request: the rate limiter asks too)."""
    if BEARER_KEY not in request.environ:
        request.environ[BEARER_KEY] = _bearer_lookup()
    return request.environ[BEARER_KEY]


# Built once: every API request, a scan at the door too, runs it. A statement built per call costs about
# twice as much in Python (construction and its cache key) as the query itself.
_STAFF_OF_TOKEN = (
    select(StaffUser)
    .join(ApiToken, ApiToken.staff_id == StaffUser.id)
    .options(joinedload(StaffUser.event_roles))
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def _bearer_lookup():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    if not token or len(token) > 200:
        return None
    # One statement for the account and its event roles.
    staff = db.session.execute(_STAFF_OF_TOKEN, {"token_hash": hash_token(token)}).unique().scalar_one_or_none()
    return staff if staff is not None and staff.active else None


def _event_of_request():
    """The event named by the URL (<slug> in every per-event page and API route), None for a route of the
    instance; DomainError 404 for an unknown slug."""
    slug = (request.view_args or {}).get("slug")
    return get_event(slug) if slug is not None else None


def role_refusal(staff, role, event):
    """Why `staff` may not do what needs `role` ('admin' or None for any staff) on `event` (None: a thing of
    the instance, such as creating events), as a DomainError, or None when it may."""
    if event is not None:
        have = staff.role_in(event)
        if have is None:
            return DomainError("forbidden", _("Dieses Konto hat für diese Veranstaltung keine Rechte."), 403)
    elif role == "admin" and not staff.is_admin:
        return DomainError("forbidden", _("Das dürfen nur Administratorinnen und Administratoren von Treffpunkt."), 403)
    else:
        have = staff.role
    if role == "admin" and have != "admin":
        return DomainError("forbidden", _("Das darf nur das Organisationsteam dieser Veranstaltung."), 403)
    return None


def _require_role(staff, role, event=None):
    refusal = role_refusal(staff, role, event if event is not None else _event_of_request())
    if refusal is not None:
        raise refusal
    return staff


def api_staff(role="admin", event=None):
    """The staff member behind an API request, or DomainError 401/403. A session-authenticated write must
    carry the CSRF token (header X-CSRFToken); a bearer token needs none (it is not sent by browsers)."""
    if "Authorization" in request.headers:
        staff = bearer_staff()
        if staff is None:
            raise DomainError("unauthorized", _("Dieser API-Schlüssel ist ungültig oder widerrufen."), 401)
        return _require_role(staff, role, event)
    if not current_user.is_authenticated:
        raise DomainError("unauthorized", _("Bitte als Teammitglied anmelden oder einen API-Schlüssel mitsenden."), 401)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (CSRFError, Exception):  # ValidationError from wtforms, CSRFError from flask_wtf
            raise DomainError(
                "csrf", _("Die Sitzung ist abgelaufen. Bitte die Seite neu laden und es noch einmal versuchen."), 403
            ) from None
    return _require_role(current_user._get_current_object(), role, event)


def socket_staff(event, role="admin"):
    """The logged-in staff member of a Socket.IO connection (cookie session), or DomainError. Flask-SocketIO
    loads current_user anew for every event, through load_user, from the socket's copy of the session: a
    login ended over HTTP (logout, password change, disabled account) is refused at the next event."""
    if not current_user.is_authenticated:
        raise DomainError("unauthorized", _("Bitte als Teammitglied anmelden."), 401)
    return _require_role(current_user._get_current_object(), role, event)


def staff_required(role="admin"):
    """Page decorator: anonymous visitors go to the login page; the wrong role, or an account of other
    events, gets the 403 page."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("staff.login", next=request.full_path))
            try:
                refusal = role_refusal(current_user, role, _event_of_request())
            except DomainError:
                abort(404)
            if refusal is not None:
                abort(403, refusal.message)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def actor_name(staff):
    return staff.name if staff is not None else "system"
