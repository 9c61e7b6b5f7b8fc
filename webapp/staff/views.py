"""Staff pages: login, own account, agenda editor, announcements, change log. Each handler parses the form,
calls the domain functions, and redirects back with a message."""
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..agenda import domain
from ..agenda.models import Event
from ..errors import DomainError
from ..extensions import db
from ..live.models import Change
from . import auth
from .auth import actor_name, staff_required
from .forms import ActionForm, AnnouncementForm, LoginForm, PasswordForm, SessionForm

bp = Blueprint("staff", __name__, url_prefix="/staff")
DELAY_STEPS = (-15, -10, -5, 5, 10, 15)


def _event(slug):
    try:
        return domain.get_event(slug)
    except DomainError:
        abort(404)


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
    return render_template("staff/account.html", form=form, tokens=auth.tokens_of(user),
                           logins=auth.active_logins(user), current_login=user.current_login,
                           password_min=auth.PASSWORD_MIN), status


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
    flash(ngettext("%(num)d andere Anmeldung beendet.", "%(num)d andere Anmeldungen beendet.", ended)
          if ended else _("Es gab keine anderen Anmeldungen."), "ok")
    return redirect(url_for(".account") + "#logins")


@bp.get("/")
@staff_required(role=None)
def index():
    events = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars().all()
    return render_template("staff/index.html", events=events, form=ActionForm())


@bp.get("/e/<slug>/")
@staff_required()
def editor(slug):
    event = _event(slug)
    return render_template("staff/editor.html", event=event, form=ActionForm(), steps=DELAY_STEPS,
                           expected_start=domain.expected_start)


def _apply(event, session_id, data):
    """Run one editor action through the same path as the API; a refusal becomes a flash message."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return
    try:
        session = domain.get_session(event, session_id)
        change = domain.update_session(event, session, domain.parse_session_fields(event, data),
                                       actor=actor_name(current_user))
        flash(change.summary if change else _("Keine Änderung."), "ok")
        _warn_overlaps(session)
    except DomainError as exc:
        flash(exc.message, "error")


def _warn_overlaps(session):
    overlaps = domain.room_overlaps(session)
    if overlaps:
        flash(_("Achtung: %(room)s ist zur selben Zeit auch belegt durch: %(titles)s",
                room=session.room.name, titles=", ".join(s.title for s in overlaps)), "warning")


@bp.post("/e/<slug>/sessions/<int:session_id>/delay")
@staff_required()
def delay(slug, session_id):
    event = _event(slug)
    try:
        step = int(request.form.get("step", ""))
        session = domain.get_session(event, session_id)
    except (ValueError, DomainError):
        abort(400)
    _apply(event, session_id, {"delay_minutes": session.delay_minutes + step,
                               "shift_following": request.form.get("shift_following") == "1"})
    return redirect(url_for(".editor", slug=slug) + f"#s{session_id}")


@bp.post("/e/<slug>/sessions/<int:session_id>/room")
@staff_required()
def move(slug, session_id):
    event = _event(slug)
    _apply(event, session_id, {"room": request.form.get("room", "")})
    return redirect(url_for(".editor", slug=slug) + f"#s{session_id}")


@bp.post("/e/<slug>/sessions/<int:session_id>/status")
@staff_required()
def status(slug, session_id):
    event = _event(slug)
    _apply(event, session_id, {"status": request.form.get("status", "")})
    return redirect(url_for(".editor", slug=slug) + f"#s{session_id}")


def _session_form(event, session=None):
    form = SessionForm(obj=None)
    form.room.choices = [""] + [r.name for r in event.rooms]
    tz = ZoneInfo(event.timezone)
    if request.method == "GET" and session is not None:
        form.title.data, form.kind.data, form.status.data = session.title, session.kind, session.status
        form.abstract.data = session.abstract
        form.room.data = session.room.name if session.room else ""
        form.start.data = session.planned_start.astimezone(tz).replace(tzinfo=None)
        form.end.data = session.planned_end.astimezone(tz).replace(tzinfo=None)
    return form, tz


def _form_fields(form, tz):
    data = {"title": form.title.data, "kind": form.kind.data, "status": form.status.data,
            "abstract": form.abstract.data or "",
            "planned_start": form.start.data.replace(tzinfo=tz).isoformat(),
            "planned_end": form.end.data.replace(tzinfo=tz).isoformat()}
    if form.room.data:
        data["room"] = form.room.data
    return data


@bp.route("/e/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@bp.route("/e/<slug>/sessions/new", methods=["GET", "POST"])
@staff_required()
def session_form(slug, session_id=None):
    """Edit a session, or add one (no session_id); both through the agenda's domain functions."""
    event = _event(slug)
    session = None
    if session_id is not None:
        try:
            session = domain.get_session(event, session_id)
        except DomainError:
            abort(404)
    form, tz = _session_form(event, session)
    if form.validate_on_submit():
        try:
            fields = domain.parse_session_fields(event, _form_fields(form, tz))
            if session is None:
                session, change = domain.create_session(event, fields, actor=actor_name(current_user))
            else:
                change = domain.update_session(event, session, fields, actor=actor_name(current_user))
            flash(change.summary if change else _("Keine Änderung."), "ok")
            _warn_overlaps(session)
            return redirect(url_for(".editor", slug=slug) + f"#s{session.id}")
        except DomainError as exc:
            form.title.errors = list(form.title.errors) + [exc.message]
    return render_template("staff/session_form.html", event=event, form=form, session=session)


@bp.route("/e/<slug>/announcements", methods=["GET", "POST"])
@staff_required()
def announcements(slug):
    event = _event(slug)
    form = AnnouncementForm()
    if form.validate_on_submit():
        data = {"text": form.text.data, "severity": form.severity.data}
        if form.expires_in_minutes.data:
            data["expires_in_minutes"] = form.expires_in_minutes.data
        try:
            domain.add_announcement(event, actor=actor_name(current_user), **domain.parse_announcement(data))
            flash(_("Durchsage veröffentlicht."), "ok")
            return redirect(url_for(".announcements", slug=slug))
        except DomainError as exc:
            form.text.errors = list(form.text.errors) + [exc.message]
    active = {a.id for a in domain.active_announcements(event)}
    return render_template("staff/announcements.html", event=event, form=form, action=ActionForm(),
                           items=list(reversed(event.announcements)), active=active, now=datetime.now)


@bp.post("/e/<slug>/announcements/<int:announcement_id>/withdraw")
@staff_required()
def withdraw(slug, announcement_id):
    event = _event(slug)
    if ActionForm().validate_on_submit():
        try:
            domain.withdraw_announcement(event, announcement_id, actor=actor_name(current_user))
            flash(_("Durchsage zurückgezogen."), "ok")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for(".announcements", slug=slug))


@bp.get("/e/<slug>/changes")
@staff_required()
def changes(slug):
    event = _event(slug)
    rows = db.session.execute(select(Change).filter_by(event_id=event.id).order_by(Change.revision.desc())
                              .limit(500)).scalars().all()
    return render_template("staff/changes.html", event=event, changes=rows, tz=ZoneInfo(event.timezone))
