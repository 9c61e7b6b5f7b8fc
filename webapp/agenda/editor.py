"""The agenda editor for staff: sessions (delay, move, cancel, edit, add), announcements and the change log.
Each handler parses the form, calls the agenda's domain functions, and redirects back with a message. URLs
under /staff/e/<slug>/ (endpoints `agenda_editor.*`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import db
from ..live.models import Change
from ..staff.auth import actor_name, staff_required
from ..staff.forms import ActionForm
from . import domain
from .forms import AnnouncementForm, SessionForm

bp = Blueprint("agenda_editor", __name__, url_prefix="/staff")
DELAY_STEPS = (-15, -10, -5, 5, 10, 15)


@bp.get("/e/<slug>/")
@staff_required()
def editor(slug):
    event = event_or_404(slug)
    return render_template(
        "staff/editor.html", event=event, form=ActionForm(), steps=DELAY_STEPS, expected_start=domain.expected_start
    )


def _apply(event, session_id, data):
    """Run one editor action through the same path as the API; a refusal becomes a flash message."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return
    try:
        session = domain.get_session(event, session_id)
        change = domain.update_session(
            event, session, domain.parse_session_fields(event, data), actor=actor_name(current_user)
        )
        flash(change.summary if change else _("Keine Änderung."), "ok")
        _warn_overlaps(session)
    except DomainError as exc:
        flash(exc.message, "error")


def _warn_overlaps(session):
    overlaps = domain.room_overlaps(session)
    if overlaps:
        flash(
            _(
                "Achtung: %(room)s ist zur selben Zeit auch belegt durch: %(titles)s",
                room=session.room.name,
                titles=", ".join(s.title for s in overlaps),
            ),
            "warning",
        )


@bp.post("/e/<slug>/sessions/<int:session_id>/delay")
@staff_required()
def delay(slug, session_id):
    event = event_or_404(slug)
    try:
        step = int(request.form.get("step", ""))
        session = domain.get_session(event, session_id)
    except (ValueError, DomainError):
        abort(400)
    _apply(
        event,
        session_id,
        {"delay_minutes": session.delay_minutes + step, "shift_following": request.form.get("shift_following") == "1"},
    )
    return redirect(url_for(".editor", slug=slug) + f"#s{session_id}")


@bp.post("/e/<slug>/sessions/<int:session_id>/room")
@staff_required()
def move(slug, session_id):
    return _set_field(slug, session_id, "room")


@bp.post("/e/<slug>/sessions/<int:session_id>/status")
@staff_required()
def status(slug, session_id):
    return _set_field(slug, session_id, "status")


def _set_field(slug, session_id, field):
    """One field from the editor's button (its value) through the same path as the API."""
    _apply(event_or_404(slug), session_id, {field: request.form.get(field, "")})
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
    data = {
        "title": form.title.data,
        "kind": form.kind.data,
        "status": form.status.data,
        "abstract": form.abstract.data or "",
        "planned_start": form.start.data.replace(tzinfo=tz).isoformat(),
        "planned_end": form.end.data.replace(tzinfo=tz).isoformat(),
    }
    if form.room.data:
        data["room"] = form.room.data
    return data


@bp.route("/e/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@bp.route("/e/<slug>/sessions/new", methods=["GET", "POST"])
@staff_required()
def session_form(slug, session_id=None):
    """Edit a session, or add one (no session_id); both through the agenda's domain functions."""
    event = event_or_404(slug)
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
    event = event_or_404(slug)
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
    return render_template(
        "staff/announcements.html",
        event=event,
        form=form,
        action=ActionForm(),
        items=list(reversed(event.announcements)),
        active=active,
        now=datetime.now,
    )


@bp.post("/e/<slug>/announcements/<int:announcement_id>/withdraw")
@staff_required()
def withdraw(slug, announcement_id):
    event = event_or_404(slug)
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
    event = event_or_404(slug)
    rows = (
        db.session.execute(select(Change).filter_by(event_id=event.id).order_by(Change.revision.desc()).limit(500))
        .scalars()
        .all()
    )
    return render_template("staff/changes.html", event=event, changes=rows, tz=ZoneInfo(event.timezone))
