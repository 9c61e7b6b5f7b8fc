"""Guest-facing check-in pages: registration, the guest's own ticket page, QR images, printable ticket.

A ticket token is the guest's key: every /t/ response (webapp/web/headers.py) is `Cache-Control: private, no-store` (no shared
cache or back-forward copy keeps it) and `Referrer-Policy: no-referrer` (a link followed from the ticket page
does not carry the token in the Referer header)."""

import uuid

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core import qr
from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import csrf
from ..core.html import json_script
from ..staff.auth import actor_name
from . import guests, service, tickets
from .calendar import favourite_ids

bp = Blueprint("checkin_pages", __name__)

OTHER = "__other__"


def guest_or_404(token):
    guest = guests.guest_by_token(token)
    if guest is None:
        abort(404)  # nothing more: not whether the token ever existed, nor for which event
    return guest


# ---- registration ------------------------------------------------------------------------------------


class RegistrationForm(FlaskForm):
    name = StringField(
        _l("Vor- und Nachname"), validators=[DataRequired(_l("Bitte geben Sie Ihren Namen an.")), Length(max=200)]
    )
    municipality = SelectField(
        _l("Kommune"), choices=[], validators=[DataRequired(_l("Bitte wählen Sie Ihre Kommune."))]
    )
    other_city = StringField(_l("Andere Kommune: Name"), validators=[Length(max=120)])  # checked in validate_other_city
    organisation = StringField(_l("Organisation / Dienststelle"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Funktion"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-Mail (freiwillig)"), validators=[Optional(), Length(max=254)])
    consent = BooleanField(
        _l("Ich bin mit der Verarbeitung meiner Angaben für diese Veranstaltung einverstanden."),
        validators=[DataRequired(_l("Ohne diese Einwilligung ist keine Anmeldung möglich."))],
    )
    consent_contact = BooleanField(_l("Andere Teilnehmende dürfen mich als Ansprechpartner sehen."))
    invite_code = StringField(_l("Einladungscode Ihrer Kommune (freiwillig)"), validators=[Length(max=20)])

    def validate_other_city(self, field):
        if self.municipality.data == OTHER and not (field.data or "").strip():
            raise ValidationError(_("Bitte geben Sie den Namen Ihrer Kommune an."))

    def validate_invite_code(self, field):
        """An invitation code makes the guest a delegate of the chosen municipality: it must be its code."""
        if not (field.data or "").strip():
            return
        municipality = self.chosen_municipality
        if municipality is None or not guests.invite_matches(municipality, field.data):
            raise ValidationError(
                _(
                    "Dieser Einladungscode gehört nicht zur gewählten Kommune. Bitte prüfen Sie "
                    "Code und Kommune, oder lassen Sie das Feld leer."
                )
            )

    def validate_email(self, field):
        value = (field.data or "").strip()
        if value and ("@" not in value or " " in value or value.startswith("@") or value.endswith("@")):
            raise ValidationError(_("Das ist keine gültige E-Mail-Adresse."))


def _registration_form(event):
    form = RegistrationForm()
    form.municipality.choices = (
        [("", _("Bitte wählen…"))] + [(m.name, m.name) for m in event.municipalities] + [(OTHER, _("Andere Kommune"))]
    )
    form.chosen_municipality = next((m for m in event.municipalities if m.name == form.municipality.data), None)
    if request.method == "GET" and request.args.get("invite"):
        # The link the organisers send a town's delegates: /e/<slug>/register?invite=<code>
        form.invite_code.data = request.args["invite"][:20]
        match = next((m for m in event.municipalities if guests.invite_matches(m, request.args["invite"])), None)
        if match is not None:
            form.municipality.data = match.name
    return form


@bp.route("/e/<slug>/register", methods=["GET", "POST"])
@csrf.exempt  # the form checks its CSRF token itself, so a stale page shows a message in the form, not a 400
def register(slug):
    event = event_or_404(slug)
    form = _registration_form(event)
    state = guests.registration_state(event)
    if state != "open":
        return render_template(
            "checkin/register.html", event=event, form=form, other=OTHER, date=tickets.event_date(event), state=state
        ), (200 if request.method == "GET" else 409)
    if form.validate_on_submit():
        city = form.other_city.data if form.municipality.data == OTHER else form.municipality.data
        data = {
            "name": form.name.data or "",
            "city": city or "",
            "organisation": form.organisation.data or "",
            "role": form.role.data or "",
            "email": (form.email.data or "").strip(),
            "consent_contact": bool(form.consent_contact.data),
            "delegate": bool((form.invite_code.data or "").strip()),
        }  # checked by validate_invite_code
        try:
            guest = guests.create_guest(event, guests.parse_guest(data), source="self")
        except DomainError as exc:
            # The form's own checks come first; this catches what only the guest rules know.
            field = {
                "name": form.name,
                "city": form.other_city,
                "organisation": form.organisation,
                "role": form.role,
                "email": form.email,
            }.get(exc.details.get("field"), form.name)
            field.errors = list(field.errors) + [exc.message]
        else:
            if guest.status == "waiting":
                flash(_("Die Veranstaltung ist ausgebucht: Sie stehen auf der Warteliste."), "ok")
            else:
                flash(_("Sie sind angemeldet. Diese Seite ist Ihr Ticket: bitte als Lesezeichen speichern."), "ok")
            return redirect(guests.ticket_url(guest))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "checkin/register.html",
        event=event,
        form=form,
        other=OTHER,
        date=tickets.event_date(event),
        state=state,
        places_left=guests.places_left(event),
    ), status


# ---- the guest's own page -----------------------------------------------------------------------------


class DoorCheckInForm(FlaskForm):
    """The staff's "Einchecken" on a ticket page: CSRF token and the nonce made with the page, so a second
    tap (or a resent form) gets the first answer instead of a second check-in."""

    nonce = HiddenField(validators=[DataRequired(), Length(min=1, max=64)])


JUST_CHECKED = "ticket_checkin"  # session key: the answer of the staff's check-in, shown once after the redirect


def door_staff(event):
    """The logged-in staff member who may let this event's guests in (service.may_check_in), or None."""
    return current_user._get_current_object() if service.may_check_in(current_user, event) else None


def _door_panel(guest):
    """What staff of the guest's event see on the ticket page: the form, or the state and the answer of
    their own check-in a moment ago."""
    if door_staff(guest.event) is None:
        return None
    just = session.pop(JUST_CHECKED, None)
    form = DoorCheckInForm(formdata=None, nonce=str(uuid.uuid4()))
    return {
        "form": form,
        "result": just["result"] if just and just.get("guest") == guest.id else None,
        "by": guest.checkin.device if guest.checkin else None,
        "organiser": current_user.may_organise(guest.event),
    }


@bp.get("/t/<token>")
def ticket(token):
    guest = guest_or_404(token)
    view = tickets.ticket_view(guest, _("QR-Code Ihres Tickets"))
    position = guests.waiting_position(guest) if guest.status == "waiting" else None
    return render_template(
        "checkin/ticket.html",
        items=json_script(tickets.agenda_items(guest.event)),
        favourites=json_script(favourite_ids(guest)),
        waiting_position=position,
        door=_door_panel(guest),
        **view,
    )


@bp.post("/t/<token>/checkin")
@csrf.exempt  # who may comes first (403 for anyone but the event's staff); the form checks its CSRF token itself
def ticket_checkin(token):
    """Staff of the guest's event check the guest in from the ticket page (a staff phone opened the ticket
    link with its camera app): the same check-in as the door scanner (exactly once, audit log, counters)."""
    guest = guest_or_404(token)
    staff = door_staff(guest.event)
    if staff is None:
        abort(403)
    form = DoorCheckInForm()
    if not form.validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        return redirect(guests.ticket_url(guest))
    try:
        answer = service.check_in(guest.event, guest.token, form.nonce.data, actor_name(staff), staff_id=staff.id)
    except DomainError:  # a nonce of another scan: only a doctored form sends one
        flash(_("Das Einchecken hat nicht geklappt. Bitte die Seite neu laden und noch einmal."), "error")
        return redirect(guests.ticket_url(guest))
    session[JUST_CHECKED] = {"guest": guest.id, "result": answer["result"]}
    return redirect(guests.ticket_url(guest))


@bp.get("/t/<token>/qr.svg")
def qr_svg(token):
    guest = guest_or_404(token)
    return Response(qr.svg_bytes(guests.ticket_url(guest, external=True)), mimetype="image/svg+xml")


@bp.get("/t/<token>/qr.png")
def qr_png(token):
    guest = guest_or_404(token)
    return Response(qr.png_bytes(guests.ticket_url(guest, external=True)), mimetype="image/png")


@bp.get("/t/<token>/print")
def ticket_print(token):
    guest = guest_or_404(token)
    size = request.args.get("size", "a4")
    size = size if size in tickets.SIZES else "a4"
    view = tickets.ticket_view(guest, _("QR-Code des Tickets"))
    return render_template("checkin/ticket_print.html", size=size, sheets=[view], event=guest.event, token=token)
