"""Staff pages: login, own account, agenda editor, announcements, change log. Each handler parses the form,
calls the domain functions, and redirects back with a message."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from wtforms.fields import SelectChoice

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Event
from ..core.urls import local_path
from . import auth, team
from .auth import staff_required
from .forms import AccountForm, ActionForm, LoginForm, PasswordForm
from .models import StaffUser

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _safe_next(target):
    """Only a local path (core.urls.local_path), else the staff start page."""
    return local_path(target) or url_for(".index")


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


# ---- the team (instance admins) ----------------------------------------------------------------------


def _account_form(prefix="", **kwargs):
    form = AccountForm(prefix=prefix, **kwargs)
    events = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars()
    form.events.choices = [SelectChoice(e.slug, e.title) for e in events]
    return form


def _team_page(new_form=None, errors=None, shown_password=None, status=200):
    rows = team.accounts()
    forms = {}
    for user, owner in rows:
        if owner is None and user.id not in forms:
            form = _account_form(prefix=f"a{user.id}", formdata=None)
            form.role.data = user.role
            form.events.data = [grant.event.slug for grant in user.event_roles]
            forms[user.id] = form
    return render_template(
        "staff/team.html",
        rows=rows,
        forms=forms,
        new_form=new_form or _account_form(formdata=None),
        action=ActionForm(),
        errors=errors or {},
        shown_password=shown_password,
    ), status


@bp.get("/team")
@staff_required()
def team_page():
    """Accounts of the team: add, re-role, disable and enable, a new password (shown once)."""
    return _team_page()


def _account_data(form, creating):
    data = {"role": form.role.data, "events": form.events.data or []}
    if creating:
        data["name"] = form.name.data
    return team.parse_account(data, creating)


@bp.post("/team")
@staff_required()
def team_add():
    form = _account_form()
    if not form.validate_on_submit():
        return _team_page(new_form=form, status=400)
    try:
        fields = _account_data(form, creating=True)
        if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.name) == fields["name"].lower())):
            raise DomainError("conflict", _("Diesen Namen trägt schon ein Konto."), 409, field="name")
        user, _created, password = team.save_account(fields["name"], fields["role"], fields["events"])
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.details.get("field", "name")).errors.append(exc.message)
        return _team_page(new_form=form, status=400)
    return _team_page(shown_password=(user.name, password))


def _account_or_404(account_id):
    user = db.session.get(StaffUser, account_id) if 0 < account_id < 2**63 else None
    if user is None:
        abort(404)
    return user


@bp.post("/team/<int:account_id>/<any(role, disable, enable, password):action>")
@staff_required()
def team_action(account_id, action):
    user = _account_or_404(account_id)
    shown = None
    try:
        if action == "role":
            form = _account_form(prefix=f"a{user.id}")
            del form.name
            if not form.validate_on_submit():
                raise DomainError("invalid", _("Sitzung abgelaufen, bitte noch einmal."), field="role")
            fields = _account_data(form, creating=False)
            team.change_role(user, fields["role"], fields["events"])
            flash(_("Rechte von %(name)s gespeichert.", name=user.name), "ok")
        elif not ActionForm().validate_on_submit():
            raise DomainError("invalid", _("Sitzung abgelaufen, bitte noch einmal."))
        elif action == "disable":
            team.disable(user, by=current_user)
            flash(_("%(name)s ist abgeschaltet; alle Anmeldungen sind beendet.", name=user.name), "ok")
        elif action == "enable":
            auth.set_active(user, True)
            flash(_("%(name)s ist wieder aktiv.", name=user.name), "ok")
        else:
            shown = (user.name, team.give_new_password(user))
    except DomainError as exc:
        db.session.rollback()
        return _team_page(errors={user.id: exc.message}, status=exc.status if exc.status < 500 else 400)
    if shown:
        return _team_page(shown_password=shown)
    return redirect(url_for(".team_page") + f"#a{user.id}")
