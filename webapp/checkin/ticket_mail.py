"""The guests' mails: the ticket (an invitation for guests the organisers added, a confirmation for those
who registered themselves), the waiting-list confirmation, and the place from the waiting list. Queued in
the outbox (webapp/mail) in the transaction that caused them; built here when they are sent, in the
guest's language: a text part always, an HTML part with the QR code inline (no remote images), and the
event as an .ics attachment."""

from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import select

from ..core import qr
from ..core.db import utcnow
from ..core.errors import DomainError, not_found
from ..core.extensions import db
from ..core.i18n import format_locale
from ..mail import outbox
from ..mail.models import OutboxMessage
from . import guests, tickets
from .models import Guest
from .signals import guest_registered, guests_moved_up

TICKET_KINDS = ("ticket", "moved_up")  # the messages that carry the ticket
KINDS = (*TICKET_KINDS, "waiting")
QR_BOX = 8  # pixels per module of the inline QR (a ~300 px image for a ticket URL)


def salutation_line(guest):
    """ "Sehr geehrte Frau Dr. Muster," where the Anrede is known, else "Guten Tag Käthe Muster,"."""
    family = guest.family_name or guest.name
    title = f"{guest.title} " if guest.title else ""
    if guest.salutation == "Frau":
        return _("Sehr geehrte Frau %(name)s,", name=title + family)
    if guest.salutation == "Herr":
        return _("Sehr geehrter Herr %(name)s,", name=title + family)
    return _("Guten Tag %(name)s,", name=guest.name)


def event_calendar(event, url):
    """The event as one VEVENT (stable UID, so a second mail updates the same calendar entry)."""
    cal = Calendar()
    cal.add("prodid", "-//Treffpunkt//ticket//DE")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    item = CalendarEvent()
    item.add("uid", f"event-{event.slug}@treffpunkt")
    item.add("dtstamp", utcnow())
    item.add("dtstart", tickets.local(event.starts_at, event))
    item.add("dtend", tickets.local(event.ends_at, event))
    item.add("summary", event.title)
    if event.venue:
        item.add("location", event.venue)
    item.add("url", url)
    item.add("description", _("Ihr Ticket: %(url)s", url=url))
    cal.add_component(item)
    return cal.to_ical()


def build(row):
    """The outbox's builder for every kind above (webapp.mail.outbox.register_builder)."""
    guest = db.session.get(Guest, row.guest_id)
    if guest is None:
        raise outbox.MailError("the guest no longer exists", permanent=True)
    if row.kind in TICKET_KINDS and guest.status != "registered":
        # Cancelled (or back on the waiting list) since the mail was queued: no ticket goes out.
        raise outbox.MailError(f"not sent: the guest is {guest.status} now", permanent=True)
    with force_locale(format_locale(guest.language or "de")):
        return _message(row.kind, guest)


def _message(kind, guest):
    event = guest.event
    url = guests.ticket_url(guest, external=True)
    date_text, time_text = tickets.event_date(event)
    context = {
        "kind": kind,
        "guest": guest,
        "event": event,
        "url": url,
        "code": tickets.format_code(guest.code),
        "date": date_text,
        "time": time_text,
        "salutation": salutation_line(guest),
        "with_ticket": kind in TICKET_KINDS,
        "invited": guest.source != "self",
        "sender": event.host or outbox.sender()[0] or event.title,
    }
    subjects = {
        "ticket": _("Ihr Ticket: %(title)s am %(date)s", title=event.title, date=date_text),
        "moved_up": _("Ein Platz ist frei: Ihr Ticket für %(title)s", title=event.title),
        "waiting": _("Warteliste: %(title)s", title=event.title),
    }
    message = EmailMessage()
    message["Subject"] = subjects[kind]
    message.set_content(render_template("mail/guest.txt", **context))
    message.add_alternative(render_template("mail/guest.html", **context), subtype="html")
    if context["with_ticket"]:
        html_part = message.get_payload()[1]
        html_part.add_related(
            qr.png_bytes(url, QR_BOX), maintype="image", subtype="png", cid="<ticket-qr>", filename="ticket-qr.png"
        )
        message.add_attachment(
            event_calendar(event, url).decode(),
            subtype="calendar",
            filename=_("termin.ics"),
            params={"method": "PUBLISH"},
        )
    return message


def queue_for(guest, kind, mailing_id=None):
    """One message to the guest (in the caller's transaction); None for a guest without an address."""
    if not guest.email:
        return None
    return outbox.queue(guest.event_id, kind, guest.email, guest_id=guest.id, mailing_id=mailing_id)


def send_ticket(event, guest):
    """Staff's "send the ticket" for one guest: queued and committed; the outbox sends it once."""
    if guest.status != "registered":
        raise DomainError("not_registered", _("Nur angemeldete Gäste bekommen ein Ticket."), 409)
    if not guest.email:
        raise DomainError("no_email", _("Für diesen Gast ist keine E-Mail-Adresse eingetragen."), 409)
    row = queue_for(guest, "ticket")
    db.session.commit()
    return row


def ticket_recipients(event, which):
    """The registered guests with an address a mailing goes to: "all", "not_sent" (no ticket mail sent
    or on its way; failed ones count as not sent) or a list of guest ids of this event."""
    if which not in ("all", "not_sent") and not isinstance(which, list):
        raise DomainError(
            "invalid", _("„guests“ muss „all“, „not_sent“ oder eine Liste von Gast-IDs sein."), field="guests"
        )
    # "not_sent" leaves out tickets sent or on their way; "all" and a list those on their way (a double
    # click on "Tickets senden" queues nothing twice).
    leave_out = ("pending", "sending", "sent") if which == "not_sent" else ("pending", "sending")
    has_ticket = select(OutboxMessage.guest_id).where(
        OutboxMessage.event_id == event.id,
        OutboxMessage.kind.in_(TICKET_KINDS),
        OutboxMessage.status.in_(leave_out),
        OutboxMessage.guest_id.is_not(None),
    )
    query = select(Guest).where(
        Guest.event_id == event.id, Guest.status == "registered", Guest.email != "", Guest.id.not_in(has_ticket)
    )
    if isinstance(which, list):
        query = query.where(Guest.id.in_(which))
    return db.session.execute(query.order_by(Guest.id)).scalars().all()


def parse_selection(data):
    which = data.get("guests", "not_sent") if isinstance(data, dict) else None
    if isinstance(which, list):
        if not which or len(which) > 10_000 or not all(isinstance(i, int) and not isinstance(i, bool) for i in which):
            raise DomainError("invalid", _("„guests“ muss eine Liste von 1 bis 10.000 Gast-IDs sein."), field="guests")
        return which
    if which not in ("all", "not_sent"):
        raise DomainError(
            "invalid", _("„guests“ muss „all“, „not_sent“ oder eine Liste von Gast-IDs sein."), field="guests"
        )
    return which


def start_ticket_mailing(event, which, label=""):
    """The ticket to each chosen guest, as one mailing. Commits; returns the Mailing."""
    recipients = ticket_recipients(event, which)
    if not recipients:
        raise DomainError("nobody", _("Keine angemeldeten Gäste mit E-Mail-Adresse in dieser Auswahl."), 409)
    mailing = outbox.start_mailing(event.id, "ticket", [(g.id, g.email) for g in recipients], label=label)
    db.session.commit()
    return mailing


def get_mailing(event, mailing_id):
    mailing = db.session.get(outbox.Mailing, mailing_id)
    if mailing is None or mailing.event_id != event.id:
        raise not_found(_("Diesen Versand gibt es nicht."))
    return mailing


def mailings(event, limit=20):
    return (
        db.session.execute(
            select(outbox.Mailing)
            .where(outbox.Mailing.event_id == event.id)
            .order_by(outbox.Mailing.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def failed_messages(event, limit=200):
    """The failed messages with the server's answer, newest first, with their guest."""
    rows = db.session.execute(
        select(OutboxMessage, Guest)
        .join(Guest, Guest.id == OutboxMessage.guest_id, isouter=True)
        .where(OutboxMessage.event_id == event.id, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return rows


def queue_state(event):
    """What the staff page says about the queue: waiting messages and the last answer of a retry."""
    waiting = db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.event_id == event.id, OutboxMessage.status.in_(("pending", "sending")))
        .order_by(OutboxMessage.next_attempt_at)
    ).scalars()
    first = waiting.first()
    count = db.session.scalar(
        select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.event_id == event.id, OutboxMessage.status.in_(("pending", "sending"))
        )
    )
    return {
        "pending": count,
        "last_error": first.last_error if first is not None else "",
        "next_attempt_at": first.next_attempt_at if first is not None else None,
    }


def _on_registered(event, guest):
    if outbox.enabled() and guest.email:
        queue_for(guest, "ticket" if guest.status == "registered" else "waiting")


def _on_moved_up(event, guests):
    if outbox.enabled():
        for guest in guests:
            queue_for(guest, "moved_up")


def init_app(app):
    for kind in KINDS:
        outbox.register_builder(app, kind, build)
    guest_registered.connect(_on_registered, weak=False)
    guests_moved_up.connect(_on_moved_up, weak=False)
