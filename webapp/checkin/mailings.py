"""Sending tickets by e-mail: the staff page (settings check, test mail, mailings with live progress, failed
messages with the server's answer and a retry) and the API (docs/api.md). The sending itself is the
outbox's (webapp/mail); the messages are built in ticket_mail."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from ..core.errors import DomainError
from ..core.events import event_or_404, get_event
from ..core.extensions import db
from ..core.urls import local_path
from ..core.validation import API_PREFIX, json_body
from ..mail import outbox
from ..staff.auth import actor_name, api_staff, staff_required
from ..staff.forms import ActionForm
from . import ticket_mail
from .models import Guest

pages = Blueprint("checkin_mail", __name__, url_prefix="/staff/e/<slug>")
api = Blueprint("checkin_mail_api", __name__, url_prefix=API_PREFIX)


class TestMailForm(FlaskForm):
    address = EmailField(
        _l("An diese Adresse"),
        validators=[
            DataRequired(_l("Bitte eine E-Mail-Adresse angeben.")),
            Email(_l("Das ist keine E-Mail-Adresse.")),
            Length(max=254),
        ],
    )


class MailingForm(FlaskForm):
    guests = RadioField(
        _l("An wen?"),
        choices=[
            SelectChoice("not_sent", _l("Alle, die noch kein Ticket per E-Mail haben")),
            SelectChoice("all", _l("Alle angemeldeten Gäste mit E-Mail-Adresse")),
        ],
        default="not_sent",
    )


def _guest(event, guest_id):
    guest = db.session.get(Guest, guest_id)
    if guest is None or guest.event_id != event.id:
        raise DomainError("not_found", _("Diesen Gast gibt es bei dieser Veranstaltung nicht."), 404)
    return guest


# ---- the staff page -----------------------------------------------------------------------------------


def _render(event, test_form=None, mailing_form=None, test_answer=None, status=200):
    config = current_app.config
    return (
        render_template(
            "checkin/mail.html",
            event=event,
            enabled=outbox.enabled(),
            server=f"{config['SMTP_HOST']}:{config['SMTP_PORT'] or outbox.DEFAULT_PORTS.get(config['SMTP_SECURITY'], 587)}",
            security=config["SMTP_SECURITY"],
            mail_from=config["MAIL_FROM"],
            public_url=config.get("PUBLIC_URL"),
            test_form=test_form or TestMailForm(),
            test_answer=test_answer,
            mailing_form=mailing_form or MailingForm(),
            counts={which: len(ticket_mail.ticket_recipients(event, which)) for which in ("not_sent", "all")},
            mailings=[(m, outbox.mailing_progress(m)) for m in ticket_mail.mailings(event)],
            failed=ticket_mail.failed_messages(event),
            queue=ticket_mail.queue_state(event),
            form=ActionForm(),
        ),
        status,
    )


@pages.get("/mail")
@staff_required()
def mail_page(slug):
    return _render(event_or_404(slug))


@pages.post("/mail/test")
@staff_required()
def test_mail(slug):
    """Sends at once (not through the outbox): the answer says whether the settings work."""
    event = event_or_404(slug)
    form = TestMailForm()
    if not outbox.enabled() or not form.validate_on_submit():
        return _render(event, test_form=form, status=400)
    try:
        answer = ("ok", outbox.send_test(current_app.config, form.address.data))
    except outbox.MailError as exc:
        answer = ("error", exc.answer)
    return _render(event, test_form=form, test_answer=answer)


@pages.post("/mail/mailings")
@staff_required()
def start_mailing_page(slug):
    event = event_or_404(slug)
    form = MailingForm()
    if not form.validate_on_submit():
        return _render(event, mailing_form=form, status=400)
    try:
        mailing = ticket_mail.start_ticket_mailing(event, form.guests.data, label=actor_name(current_user))
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        progress = outbox.mailing_progress(mailing)
        flash(
            ngettext(
                "%(num)d Ticket wird versandt. Der Fortschritt steht unten.",
                "%(num)d Tickets werden versandt. Der Fortschritt steht unten.",
                progress["queued"],
            ),
            "ok",
        )
    return redirect(url_for(".mail_page", slug=slug))


@pages.post("/mail/retry")
@staff_required()
def retry_page(slug):
    event = event_or_404(slug)
    if ActionForm().validate_on_submit():
        one = request.form.get("message")
        if one is not None and not one.isdigit():
            abort(400)
        count = outbox.retry_failed(event.id, [int(one)] if one is not None else None)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d Nachricht wird noch einmal versucht.",
                "%(num)d Nachrichten werden noch einmal versucht.",
                count,
            ),
            "ok",
        )
    return redirect(url_for(".mail_page", slug=slug))


@pages.post("/guests/<int:guest_id>/ticket-mail")
@staff_required()
def send_ticket_page(slug, guest_id):
    """The guest list's "send the ticket" button; back to where it was pressed."""
    event = event_or_404(slug)
    back = local_path(request.form.get("next")) or url_for("checkin_guests.guests", slug=slug)
    if ActionForm().validate_on_submit():
        try:
            guest = _guest(event, guest_id)
            ticket_mail.send_ticket(event, guest)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Das Ticket für %(name)s wird an %(email)s gesendet.", name=guest.name, email=guest.email), "ok")
    return redirect(back)


# ---- API ----------------------------------------------------------------------------------------------


@api.post("/events/<slug>/guests/<int:guest_id>/ticket-mail")
def send_ticket_api(slug, guest_id):
    api_staff()
    event = get_event(slug)
    row = ticket_mail.send_ticket(event, _guest(event, guest_id))
    return jsonify({"message": {"id": row.id, "status": row.status, "to": row.to_address}}), 202


@api.post("/events/<slug>/mailings")
def start_mailing_api(slug):
    staff = api_staff()
    event = get_event(slug)
    which = ticket_mail.parse_selection(json_body())
    mailing = ticket_mail.start_ticket_mailing(event, which, label=actor_name(staff))
    progress = outbox.mailing_progress(mailing)
    return jsonify({"mailing": {"id": mailing.id, "queued": progress["queued"]}}), 202


@api.get("/events/<slug>/mailings/<int:mailing_id>")
def mailing_api(slug, mailing_id):
    api_staff()
    event = get_event(slug)
    return jsonify({"mailing": outbox.mailing_progress(ticket_mail.get_mailing(event, mailing_id))})


@api.get("/events/<slug>/mailings")
def mailings_api(slug):
    api_staff()
    event = get_event(slug)
    return jsonify({"mailings": [outbox.mailing_progress(m) for m in ticket_mail.mailings(event)]})
