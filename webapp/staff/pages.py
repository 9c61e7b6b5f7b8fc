"""Staff pages: login, own account, agenda editor, announcements, change log. Each handler parses the form,
calls the domain functions, and redirects back with a message."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Event
from . import auth
from .auth import staff_required
from .forms import ActionForm, LoginForm, PasswordForm

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _safe_next(target):
    """Only a local path, else the staff start page. Browsers drop tabs and newlines inside URLs and read a
    backslash as a slash, so "/<tab>/evil.example/" or "/<backslash>evil.example" would lead off the site:
    such characters are removed first, then the rest must be a path without scheme or host."""
    path = "".join(ch for ch in (target or "") if ch.isprintable() and not ch.isspace())
    parts = urlsplit(path)
    if path.startswith("/") and not path.startswith(("//", "/\\")) and not parts.scheme and not parts.netloc:
        return path
    return url_for(".index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = auth.authenticate(form.name.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)  # starts a StaffLogin (staff.auth)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Benutzername oder Passwort falsch."))
    return render_template("staff/login.html", form=form), 200 if request.method == "GET" or form.errors == {} else 401


@bp.post("/logout")
@staff_required(role=None)
def logout():
    if ActionForm().validate_on_submit():
        logout_user()  # revokes this browser's login (staff.auth)
    return redirect(url_for(".login"))


# ---- own account: password, tokens, logins ----------------------------------------------------------


def _account_page(form, status=200):
    user = current_user._get_current_object()
    return render_template(
        "staff/account.html",
        form=form,
        tokens=auth.tokens_of(user),
        logins=auth.active_logins(user),
        current_login=user.current_login,
        password_min=auth.PASSWORD_MIN,
    ), status


def _expired():
    flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    return redirect(url_for(".account"))


@bp.get("/account")
@staff_required(role=None)
def account():
    return _account_page(PasswordForm(formdata=None))


@bp.post("/account/password")
@staff_required(role=None)
def account_password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            auth.change_password(user, form.current_password.data, form.new_password.data, keep=user.current_login)
        except DomainError as exc:
            field = form.current_password if exc.code == "wrong_password" else form.new_password
            field.errors.append(exc.message)
        else:
            flash(_("Passwort geändert. Alle anderen Anmeldungen dieses Kontos sind beendet."), "ok")
            return redirect(url_for(".account"))
    elif "csrf_token" in form.errors:
        return _expired()
    return _account_page(form, 400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@staff_required(role=None)
def account_revoke_token(token_id):
    if not ActionForm().validate_on_submit():
        return _expired()
    try:
        token = auth.revoke_token(current_user._get_current_object(), token_id)
    except DomainError:
        abort(404)
    flash(_("API-Schlüssel „%(label)s“ widerrufen.", label=token.label or token.id), "ok")
    return redirect(url_for(".account") + "#tokens")


@bp.post("/account/logins/revoke-others")
@staff_required(role=None)
def account_revoke_logins():
    if not ActionForm().validate_on_submit():
        return _expired()
    user = current_user._get_current_object()
    ended = auth.end_other_logins(user, keep=user.current_login)
    flash(
        ngettext("%(num)d andere Anmeldung beendet.", "%(num)d andere Anmeldungen beendet.", ended)
        if ended
        else _("Es gab keine anderen Anmeldungen."),
        "ok",
    )
    return redirect(url_for(".account") + "#logins")


@bp.get("/")
@staff_required(role=None)
def index():
    """The series: running, upcoming and past meetings the account acts in (archived ones last)."""
    events = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars().all()
    events = [e for e in events if current_user.role_in(e) is not None]
    now = utcnow()
    groups = {"running": [], "upcoming": [], "past": [], "archived": []}
    for e in events:
        kind = (
            "archived"
            if e.archived
            else "running"
            if e.starts_at <= now < e.ends_at
            else ("upcoming" if e.starts_at > now else "past")
        )
        groups[kind].append(e)
    groups["upcoming"].reverse()  # the next one first
    return render_template("staff/index.html", groups=groups, any_event=bool(events), form=ActionForm())
