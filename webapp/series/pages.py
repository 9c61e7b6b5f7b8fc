"""Staff pages of event set-up: a new event (or the next meeting prepared from an earlier one), the event's
settings, and the municipalities taking part. Each handler parses its form, calls webapp.series.domain and
shows a refusal at the field it is about."""

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from ..checkin.guests import guests_per_municipality, towns_not_taking_part
from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import db
from ..core.models import Event
from ..staff.auth import actor_name, staff_required
from ..staff.forms import ActionForm
from . import domain
from .forms import TIMEZONES, EventForm, MunicipalityForm

bp = Blueprint("series_pages", __name__, url_prefix="/staff")
# The API's field names on the event form.
EVENT_FIELDS = {
    "slug",
    "title",
    "start",
    "end",
    "timezone",
    "copy_from",
    "subtitle",
    "host",
    "venue",
    "series",
    "registration_opens",
    "registration_closes",
    "capacity",
}


def _show_at_field(form, exc, default="title"):
    db.session.rollback()
    name = exc.details.get("field")
    field = getattr(form, name if name in EVENT_FIELDS | {"name", "lat", "lon"} else default)
    field.errors = list(field.errors) + [exc.message]


def _event_data(form, creating):
    tz = ZoneInfo(form.timezone.data)
    data = {
        "title": form.title.data,
        "subtitle": form.subtitle.data or "",
        "host": form.host.data or "",
        "venue": form.venue.data or "",
        "series": form.series.data or "",
        "description": form.description.data or "",
        "timezone": form.timezone.data,
        "start": form.start.data.replace(tzinfo=tz).isoformat(),
        "end": form.end.data.replace(tzinfo=tz).isoformat(),
        "capacity": form.capacity.data,
        "board": bool(form.board.data),
    }
    for key in ("registration_opens", "registration_closes"):
        value = getattr(form, key).data
        data[key] = value.replace(tzinfo=tz).isoformat() if value else None
    if creating:
        data["slug"] = (form.slug.data or "").strip()
        if form.copy_from.data:
            data["copy_from"] = form.copy_from.data
            data["copy_sessions"] = bool(form.copy_sessions.data)
    else:
        data["archived"] = bool(form.archived.data)
    return data


@bp.route("/events/new", methods=["GET", "POST"])
@staff_required()
def new_event():
    """A new meeting; `?from=<slug>` prepares the next meeting from that one (rooms, topics, municipalities)."""
    events = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars().all()
    form = EventForm()
    del form.archived  # a new event is not archived
    form.copy_from.choices = [SelectChoice("", _("nichts – leer beginnen"))] + [
        SelectChoice(e.slug, e.title) for e in events
    ]
    source = next((e for e in events if e.slug == request.args.get("from")), None)
    if request.method == "GET" and source is not None:
        form.copy_from.data = source.slug
        form.series.data, form.host.data, form.venue.data = source.series, source.host, source.venue
        form.timezone.data = source.timezone
    if form.validate_on_submit():
        try:
            event = domain.create_event(domain.parse_event(_event_data(form, creating=True), creating=True))
            flash(_("„%(title)s“ ist angelegt.", title=event.title), "ok")
            return redirect(url_for("agenda_editor.setup", slug=event.slug))
        except DomainError as exc:
            _show_at_field(form, exc)
    return render_template("series/event_form.html", form=form, event=None, source=source), (
        400 if request.method == "POST" else 200
    )


@bp.route("/e/<slug>/event", methods=["GET", "POST"])
@staff_required()
def edit_event(slug):
    event = event_or_404(slug)
    form = EventForm(obj=None)
    del form.slug, form.copy_from, form.copy_sessions
    if event.timezone not in TIMEZONES:  # set through the API: offered, so that saving keeps it
        form.timezone.choices = [*form.timezone.choices, SelectChoice(event.timezone)]
    if request.method == "GET":
        tz = ZoneInfo(event.timezone)
        for key in ("title", "subtitle", "host", "venue", "series", "description", "timezone", "archived"):
            getattr(form, key).data = getattr(event, key)
        form.start.data = event.starts_at.astimezone(tz).replace(tzinfo=None)
        form.end.data = event.ends_at.astimezone(tz).replace(tzinfo=None)
        for key in ("registration_opens", "registration_closes"):
            value = getattr(event, f"{key}_at")
            getattr(form, key).data = value.astimezone(tz).replace(tzinfo=None) if value else None
        form.capacity.data, form.board.data = event.capacity, event.board_enabled
    if form.validate_on_submit():
        try:
            fields = domain.parse_event(_event_data(form, creating=False), creating=False)
            domain.update_event(event, fields, actor=actor_name(current_user))
            flash(_("Gespeichert."), "ok")
            return redirect(url_for(".edit_event", slug=slug))
        except DomainError as exc:
            _show_at_field(form, exc)
    return render_template("series/event_form.html", form=form, event=event, source=None), (
        400 if request.method == "POST" else 200
    )


def _municipalities_page(event, form, status=200):
    return (
        render_template(
            "series/municipalities.html",
            event=event,
            form=form,
            action=ActionForm(),
            unknown=towns_not_taking_part(event),
            guests=guests_per_municipality(event),
        ),
        status,
    )


@bp.get("/e/<slug>/municipalities")
@staff_required()
def municipalities(slug):
    return _municipalities_page(event_or_404(slug), MunicipalityForm())


@bp.post("/e/<slug>/municipalities")
@staff_required()
def add_municipality(slug):
    """Add one by name: the gazetteer places it; an unknown place needs its position typed in."""
    event = event_or_404(slug)
    form = MunicipalityForm()
    if form.validate_on_submit():
        data = {"name": form.name.data, "is_host": bool(form.is_host.data)}
        if form.lat.data is not None or form.lon.data is not None:
            data.update(lat=form.lat.data, lon=form.lon.data)
        try:
            municipality, joined = domain.add_municipality(event, **domain.parse_municipality(data))
            flash(
                _("%(name)s nimmt teil.", name=municipality.name)
                + (
                    " " + ngettext("%(num)d Gast gehört jetzt dazu.", "%(num)d Gäste gehören jetzt dazu.", joined)
                    if joined
                    else ""
                ),
                "ok",
            )
            return redirect(url_for(".municipalities", slug=slug))
        except DomainError as exc:
            _show_at_field(form, exc, default="name")
    return _municipalities_page(event, form, 400)
