"""The agenda editor for staff: sessions (delay, move, cancel, edit, add), announcements and the change log.
Each handler parses the form, calls the agenda's domain functions, and redirects back with a message. URLs
under /staff/e/<slug>/ (endpoints `agenda_editor.*`)."""

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from ..core.db import utcnow
from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import db
from ..core.validation import of_event
from ..live import change_text
from ..live.models import Change
from ..staff.auth import actor_name, staff_required
from ..staff.forms import ActionForm
from . import domain
from .forms import AnnouncementForm, RemoveSessionForm, SessionForm

bp = Blueprint("agenda_editor", __name__, url_prefix="/staff")
DELAY_STEPS = (-15, -10, -5, 5, 10, 15)
OVERRUN_STEPS = (5, 10, 15)


# ---- the editor's clock: the real time, or a rehearsal time (?at=, as on the phone and projector pages) -----


def _parse_at(value, event):
    """The instant an ?at= value names: an ISO time with offset (a "+" the query string turned into a space is
    repaired), a wall-clock time in the event's zone, or just "15:40" on the event's first day; else None."""
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", (value or "").strip())[:40]
    tz = ZoneInfo(event.timezone)
    if re.fullmatch(r"\d{1,2}:\d\d", value):
        value = f"{event.starts_at.astimezone(tz).date().isoformat()}T{value.zfill(5)}"
    try:
        moment = datetime.fromisoformat(value)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    # Only near the event: a year 9999 would overflow the page's time arithmetic.
    return moment if abs(moment - event.starts_at) < timedelta(days=366) else None


def _editor_now(event):
    """None (the real time) or the rehearsal time: ?at= on the page; a form posts the time the page showed
    (`at`) and when it was shown (`at_real`), so the rehearsal clock runs on as on the other pages."""
    at = _parse_at(request.values.get("at"), event)
    if at is None:
        return None
    if request.method == "POST" and not event.is_demo:
        # A rehearsal of a real event must not write overruns computed from a pretend time into its programme.
        return None
    try:
        shown = datetime.fromtimestamp(int(request.form.get("at_real", "")), timezone.utc)
    except (ValueError, OverflowError, OSError):
        shown = utcnow()
    return at + max(timedelta(0), min(timedelta(hours=12), utcnow() - shown))


def _back(event, session_id, now):
    """Back to the session's row in the editor, at the rehearsal time if there is one."""
    at = {"at": _local_iso(now, event)} if now is not None else {}
    return redirect(url_for(".editor", slug=event.slug, **at) + f"#s{session_id}")


def _demo_at(event):
    """The rehearsal time the demo event offers: 2 h 10 min after its first session begins (as the phone
    page's demo link), when the pitches run."""
    starts = [domain.expected_start(s) for s in event.sessions if s.status == "scheduled"]
    return (min(starts) if starts else event.starts_at) + timedelta(minutes=130)


@bp.get("/e/<slug>/")
@staff_required()
def editor(slug):
    event = event_or_404(slug)
    now = _editor_now(event)
    return render_template(
        "staff/editor.html",
        event=event,
        form=ActionForm(),
        steps=DELAY_STEPS,
        overrun_steps=OVERRUN_STEPS,
        expected_start=domain.expected_start,
        expected_end=domain.expected_end,
        phase=lambda s: domain.session_phase(s, now),
        virtual_now=now,
        at=_local_iso(now, event) if now else None,
        real_now=int(utcnow().timestamp()),
        demo_at=_local_iso(_demo_at(event), event) if event.is_demo and now is None else None,
    )


def _local_iso(moment, event):
    return moment.astimezone(ZoneInfo(event.timezone)).isoformat(timespec="seconds")


def _apply(event, session_id, data, now=None):
    """Run one editor action through the same path as the API; a refusal becomes a flash message."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return
    try:
        session = domain.get_session(event, session_id)
        change = domain.update_session(
            event, session, domain.parse_session_fields(event, data), actor=actor_name(current_user), now=now
        )
        flash(change_text(change) if change else _("Keine Änderung."), "ok")
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


def _step(event, session_id, allowed=None):
    """The button's step (400 if it is none of the `allowed` ones) and the session (400 if unknown)."""
    try:
        step = int(request.form.get("step", ""))
        session = domain.get_session(event, session_id)
    except (ValueError, DomainError):
        abort(400)
    if allowed is not None and step not in allowed:
        abort(400)
    return step, session


@bp.post("/e/<slug>/sessions/<int:session_id>/delay")
@staff_required()
def delay(slug, session_id):
    event = event_or_404(slug)
    step, session = _step(event, session_id)
    now = _editor_now(event)
    shift = request.form.get("shift_following") == "1"
    if domain.started_today(session, now):
        # The page was older than the session's start: its start stays, its end moves (and the page says so).
        _overrun(event, session, step, shift, now, converted=True)
    else:
        _apply(event, session_id, {"delay_minutes": session.delay_minutes + step, "shift_following": shift}, now)
    return _back(event, session_id, now)


def _overrun(event, session, step, shift, now, converted=False):
    """Runs over by `step` minutes (or ends now, with step None): one live change, a message either way."""
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return
    actor = actor_name(current_user)
    try:
        if step is None:
            change = domain.end_session_now(event, session, shift_following=shift, actor=actor, now=now)
        else:
            change = domain.extend_session(event, session, step, shift_following=shift, actor=actor, now=now)
    except DomainError as exc:
        flash(exc.message, "error")
        return
    if converted and change:
        flash(
            _(
                "„%(title)s“ hat schon begonnen: Der Beginn bleibt, nur das Ende ist verschoben, auf %(end)s Uhr.",
                title=session.title,
                end=domain.expected_end(session).astimezone(ZoneInfo(event.timezone)).strftime("%H:%M"),
            ),
            "warning",
        )
    flash(change_text(change) if change else _("Keine Änderung."), "ok")
    _warn_overlaps(session)


@bp.post("/e/<slug>/sessions/<int:session_id>/overrun")
@staff_required()
def overrun(slug, session_id):
    """A running session takes longer: +5/+10/+15 minutes on its end, its start stays."""
    event = event_or_404(slug)
    step, session = _step(event, session_id, OVERRUN_STEPS)
    now = _editor_now(event)
    _overrun(event, session, step, request.form.get("shift_following") == "1", now)
    return _back(event, session_id, now)


@bp.post("/e/<slug>/sessions/<int:session_id>/end")
@staff_required()
def end_now(slug, session_id):
    """A running session ends now (to the minute)."""
    event = event_or_404(slug)
    try:
        session = domain.get_session(event, session_id)
    except DomainError:
        abort(404)
    now = _editor_now(event)
    _overrun(event, session, None, request.form.get("shift_following") == "1", now)
    return _back(event, session_id, now)


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
    event = event_or_404(slug)
    now = _editor_now(event)
    _apply(event, session_id, {field: request.form.get(field, "")}, now)
    return _back(event, session_id, now)


def _session_form(event, session=None):
    form = SessionForm(obj=None)
    form.room.choices = [""] + [r.name for r in event.rooms]
    form.speakers.choices = [SelectChoice(sp.name) for sp in sorted(event.speakers, key=lambda sp: sp.name)]
    form.topics.choices = [SelectChoice(t.slug, t.name) for t in event.topics]
    tz = ZoneInfo(event.timezone)
    if request.method == "GET" and session is not None:
        form.title.data, form.kind.data, form.status.data = session.title, session.kind, session.status
        form.language.data = session.language
        form.speakers.data = [sp.name for sp in session.speakers]
        form.topics.data = [t.slug for t in session.topics]
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
        "language": form.language.data,
        "speakers": form.speakers.data or [],
        "topics": form.topics.data or [],
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
            flash(change_text(change) if change else _("Keine Änderung."), "ok")
            _warn_overlaps(session)
            return redirect(url_for(".editor", slug=slug) + f"#s{session.id}")
        except DomainError as exc:
            db.session.rollback()
            field = FORM_FIELD.get(exc.details.get("field"), "title")
            getattr(form, field).errors = list(getattr(form, field).errors) + [exc.message]
    return render_template(
        "staff/session_form.html", event=event, form=form, session=session, remove=RemoveSessionForm(prefix="remove")
    )


# The API's field names on the session form (a refusal is shown at the field it is about: an end before the
# start, or an overrun that would make it so, at the end).
FORM_FIELD = {
    "title": "title",
    "kind": "kind",
    "room": "room",
    "planned_start": "start",
    "delay_minutes": "start",
    "planned_end": "end",
    "overrun_minutes": "end",
    "status": "status",
    "language": "language",
    "abstract": "abstract",
    "speakers": "speakers",
    "topics": "topics",
}


@bp.post("/e/<slug>/sessions/<int:session_id>/remove")
@staff_required()
def remove_session(slug, session_id):
    """Take a session out of the programme (a live change), after the confirmation box was ticked."""
    event = event_or_404(slug)
    try:
        session = domain.get_session(event, session_id)
    except DomainError:
        abort(404)
    remove = RemoveSessionForm(prefix="remove")
    if not remove.validate_on_submit():
        form, _tz = _session_form(event, session)
        remove.confirm.errors = [_("Bitte bestätigen Sie, dass der Programmpunkt entfallen soll.")]
        return render_template("staff/session_form.html", event=event, form=form, session=session, remove=remove), 400
    change = domain.remove_session(event, session, actor=actor_name(current_user))
    flash(change_text(change), "ok")
    return redirect(url_for(".editor", slug=slug))


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
            db.session.rollback()
            key = exc.details.get("field")
            field = {"severity": form.severity, "expires_in_minutes": form.expires_in_minutes}.get(key, form.text)
            field.errors = list(field.errors) + [exc.message]
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


# ---- rooms, topics, speakers ------------------------------------------------------------------------------

SETUP_KINDS = {"room": "rooms", "topic": "topics", "speaker": "speakers"}


def _setup_page(event, errors=None, status=200):
    return (
        render_template("agenda/setup.html", event=event, form=ActionForm(), errors=errors or {}),
        status,
    )


@bp.get("/e/<slug>/setup")
@staff_required()
def setup(slug):
    """Rooms, topics and speakers of the event, each added, renamed and removed in place."""
    return _setup_page(event_or_404(slug))


def _row(event, kind, row_id):
    from .models import Room, Speaker, Topic  # the model by the URL's kind

    model = {"room": Room, "topic": Topic, "speaker": Speaker}[kind]
    try:
        return of_event(model, event, row_id, kind)
    except DomainError:
        abort(404)


@bp.post("/e/<slug>/setup/<any(room, topic, speaker):kind>")
@bp.post("/e/<slug>/setup/<any(room, topic, speaker):kind>/<int:row_id>/<any(rename, up, down, remove):action>")
@staff_required()
def setup_action(slug, kind, row_id=None, action="add"):
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return redirect(url_for(".setup", slug=slug))
    actor = actor_name(current_user)
    row = _row(event, kind, row_id) if row_id is not None else None
    try:
        data = {"name": request.form.get("name", "")}
        if kind == "speaker" and action in ("add", "rename"):
            fields = domain.parse_speaker({**data, "role": request.form.get("role", "")})
        elif action in ("add", "rename"):
            fields = {"name": domain.parse_name(data, max_len=200 if kind == "topic" else domain.MAX_NAME)}
        if action == "add":
            {
                "room": lambda: domain.add_room(event, fields["name"], actor=actor),
                "topic": lambda: domain.add_topic(event, fields["name"]),
                "speaker": lambda: domain.add_speaker(event, **fields),
            }[kind]()
            flash(_("Hinzugefügt: %(name)s", name=fields["name"]), "ok")
        elif action == "rename":
            {
                "room": lambda: domain.rename_room(event, row, fields["name"], actor=actor),
                "topic": lambda: domain.rename_topic(event, row, fields["name"], actor=actor),
                "speaker": lambda: domain.update_speaker(
                    event, row, fields["name"], fields.get("role", ""), actor=actor
                ),
            }[kind]()
            flash(_("Gespeichert: %(name)s", name=fields["name"]), "ok")
        elif action in ("up", "down") and kind == "room":
            domain.move_room(event, row, -1 if action == "up" else 1, actor=actor)
        elif action == "remove":
            name = row.name
            {"room": domain.remove_room, "topic": domain.remove_topic, "speaker": domain.remove_speaker}[kind](
                event, row, actor=actor
            )
            flash(_("Entfernt: %(name)s", name=name), "ok")
        else:
            abort(404)
    except DomainError as exc:
        db.session.rollback()
        return _setup_page(event, {(kind, row_id): exc.message}, 400)
    return redirect(url_for(".setup", slug=slug) + f"#{SETUP_KINDS[kind]}")


@bp.post("/e/<slug>/setup/topic/<int:row_id>/phrases")
@staff_required()
def topic_phrases(slug, row_id):
    """How the board's sentences name a topic (the three phrases; empty = derived from the name)."""
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return redirect(url_for(".setup", slug=slug))
    topic = _row(event, "topic", row_id)
    try:
        form = {key: request.form.get(key, "") for key in domain.TOPIC_PHRASES}
        domain.set_topic_phrases(event, topic, domain.parse_topic_phrases(form), actor=actor_name(current_user))
    except DomainError as exc:
        db.session.rollback()
        return _setup_page(event, {("topic-phrases", row_id): exc.message}, 400)
    flash(_("Formulierungen für das Board gespeichert: %(name)s", name=topic.name), "ok")
    return redirect(url_for(".setup", slug=slug) + f"#topic-{row_id}-phrases")
