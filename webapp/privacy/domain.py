"""Personal data out and away (docs/security.md):

- a guest downloads what is stored about them (`guest_export`) and deletes it (`delete_guest`) from their
  ticket page (/t/<token>/my-data);
- after the event, `flask --app wsgi purge SLUG` removes the whole event's personal data (`purge_event`)
  and keeps the agenda, the municipalities' board entries and anonymous counts.

Both run in one transaction each. The scan audit log keeps its rows (that a ticket was scanned then, with
which result) but loses every link to a person: guest, typed or scanned input, the guest in the stored
answer, and with the purge the device names and staff accounts as well.
"""

import copy
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..agenda.models import Announcement, Room, Session, Speaker, Topic
from ..checkin import uploads
from ..checkin.guests import move_up
from ..checkin.models import CheckIn, Device, Guest, Scan
from ..checkin.service import DELETED, normalise_code
from ..checkin.signals import guests_changed
from ..checkin.stats import arrival_stats
from ..core.events import local_iso
from ..core.extensions import db
from ..core.models import Event, Municipality
from ..live import record_change, touch_stats
from ..live.models import Change
from ..matchmaking.board import board_json
from ..matchmaking.models import Interest, MeetingRequest
from ..staff.models import ApiToken, StaffUser

DEVICE_PSEUDONYM = "Gerät {n}"


def _iso(dt, event):
    return local_iso(dt, event.timezone) if dt is not None else None


# ---- a guest's export ------------------------------------------------------------------------------


def guest_export(guest, ticket_url=None):
    """Everything stored about this guest, as one JSON-ready dict."""
    event, municipality = guest.event, guest.municipality
    interests = []
    if municipality is not None:
        rows = (
            db.session.execute(
                select(Interest).where(Interest.municipality_id == municipality.id).order_by(Interest.id)
            )
            .scalars()
            .all()
        )
        interests = [
            {
                "topic": i.topic.name,
                "topic_slug": i.topic.slug,
                "stage": i.stage,
                "note": i.note,
                "you_are_named_as_contact": i.contact_guest_id == guest.id,
                "updated_at": _iso(i.updated_at, event),
            }
            for i in rows
        ]
    scans = db.session.execute(select(Scan).where(Scan.guest_id == guest.id).order_by(Scan.at, Scan.id)).scalars().all()
    return {
        "exported_at": _iso(datetime.now(timezone.utc), event),
        "event": {"slug": event.slug, "title": event.title, "start": _iso(event.starts_at, event), "host": event.host},
        "registration": {
            "name": guest.name,
            "salutation": guest.salutation,
            "title": guest.title,
            "given_name": guest.given_name,
            "family_name": guest.family_name,
            "language": guest.language,
            # Staff notes about a person are that person's data too (GDPR Art. 15); only this guest sees this.
            "staff_notes": guest.notes,
            "municipality": municipality.name if municipality else None,
            "city": guest.city,
            "organisation": guest.organisation,
            "role": guest.role,
            "email": guest.email,
            "status": guest.status,
            "registered_by": {
                "self": "you (registration page)",
                "staff": "the organisers",
                "import": "the organisers (guest list import)",
            }.get(guest.source, guest.source),
            "registered_at": _iso(guest.created_at, event),
            "speaks_for_municipality_on_the_board": guest.is_delegate,
        },
        "ticket": {"code": guest.code, "url": ticket_url},
        "check_in": (
            {"at": _iso(guest.checkin.at, event), "offline": guest.checkin.offline}
            if guest.checkin is not None
            else None
        ),
        "consents": {
            "processing_for_this_event": guest.source == "self",
            "named_as_contact_person": guest.consent_contact,
            "municipality_on_public_board": municipality.board_consent if municipality else None,
        },
        "interests_of_your_municipality": interests,
        "door_log": [
            {"at": _iso(s.at, event), "action": s.action, "result": s.result, "offline": s.offline} for s in scans
        ],
        "notes": [  # in the guest's language; the keys they explain stay as they are
            _(
                "interests_of_your_municipality: die Antworten Ihrer Kommune auf dem Matchmaking-Board, "
                "eingetragen von ihren Delegierten; sie bleiben, wenn Sie Ihre Daten löschen."
            ),
            _(
                "door_log: die Scans Ihres Tickets im Protokoll des Einlasses; wenn Sie Ihre Daten löschen, "
                "bleiben sie ohne jeden Bezug zu Ihnen."
            ),
        ],
    }


# ---- a guest's deletion ----------------------------------------------------------------------------


def _scans_naming(guest):
    """Audit-log rows that point at this guest: by guest id, or by input (their token or typed code, also
    in another event's log as `wrong_event`)."""
    code_like = "%" + "%".join(guest.code) + "%"
    rows = db.session.execute(
        select(Scan).where(
            or_(Scan.guest_id == guest.id, Scan.input.contains(guest.token[:32]), Scan.input.ilike(code_like))
        )
    ).scalars()
    return [
        s
        for s in rows
        if s.guest_id == guest.id or guest.token[:32] in s.input or normalise_code(s.input) == guest.code
    ]


def _anonymise_scan(scan):
    scan.guest_id = None
    scan.input = DELETED
    answer = dict(scan.response or {})
    if answer.get("guest") is not None:
        answer["guest"] = None
    scan.response = answer


def _drop_contacts(value, names):
    """A copy of a change payload without `contact` entries naming any of `names` (None: every contact);
    returns (copy, how many were removed)."""
    removed = 0

    def walk(node):
        nonlocal removed
        if isinstance(node, dict):
            if "contact" in node and (names is None or node["contact"] in names):
                del node["contact"]
                removed += 1
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    value = copy.deepcopy(value)
    walk(value)
    return value, removed


def _scrub_change_log(event, names=None):
    """Remove contact names from the board snapshots in the change log (what a reconnecting client is
    replayed) and from the changes' facts (what the change log page words). Returns the number of change
    rows rewritten."""
    rows = (
        db.session.execute(select(Change).where(Change.event_id == event.id, Change.kind.like("board.%")))
        .scalars()
        .all()
    )
    changed = 0
    for row in rows:
        payload, removed = _drop_contacts(row.payload or {}, names)
        details, removed_in_details = _drop_contacts(row.details, names) if row.details else (row.details, 0)
        if removed:
            row.payload = payload
        if removed_in_details:
            row.details = details
        if removed or removed_in_details:
            changed += 1
    return changed


def _record_board_change_if_needed(event, before, revision_before, summary, details):
    """One revision if what the public board shows changed and nothing in this transaction said so yet."""
    after = board_json(event)
    current = db.session.execute(select(Event.revision).where(Event.id == event.id)).scalar_one()
    if after != before and current == revision_before:
        record_change(event, "board.updated", summary, {"replace": {"board": after}}, "Datenschutz", details)


def delete_guest(guest):
    """Delete a guest at their own request: the guest row and their check-in go; the audit log keeps its
    rows without any link to them; they are no longer anyone's contact; counters are re-sent; if they were
    the last delegate of their municipality the table plan is re-planned (guests_changed). Commits.
    Returns what was done: {check_in, scans_anonymised, contacts_removed, change_log_cleaned}."""
    event = guest.event
    before = board_json(event)
    revision_before = event.revision
    contacts = db.session.execute(select(Interest).where(Interest.contact_guest_id == guest.id)).scalars().all()
    for interest in contacts:
        interest.contact_guest_id = None
    scans = _scans_naming(guest)
    for scan in scans:
        _anonymise_scan(scan)
    cleaned = _scrub_change_log(event, {guest.name}) if guest.consent_contact or contacts else 0
    had_checkin = guest.checkin is not None
    freed = guest.status == "registered"
    db.session.delete(guest)  # the check-in goes with it (cascade)
    db.session.flush()
    if freed:
        move_up(event)  # a place on a full event goes to the waiting list
    touch_stats(event)
    guests_changed.send(event)  # re-plans the tables (one revision if they change)
    _record_board_change_if_needed(event, before, revision_before, "Kontaktperson entfernt", {"reason": "contact"})
    db.session.commit()
    return {
        "check_in": had_checkin,
        "scans_anonymised": len(scans),
        "contacts_removed": len(contacts),
        "change_log_cleaned": cleaned,
    }


# ---- the purge of an event -------------------------------------------------------------------------


def _count(stmt):
    return db.session.execute(stmt).scalar_one()


def personal_data_counts(event):
    """What `purge_event` would remove, by kind (nothing is changed)."""
    device_staff = select(Device.staff_id).where(Device.event_id == event.id)
    return {
        "guests": _count(select(func.count(Guest.id)).where(Guest.event_id == event.id)),
        "check_ins": _count(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id)),
        "email_addresses": _count(select(func.count(Guest.id)).where(Guest.event_id == event.id, Guest.email != "")),
        "scans_anonymised": _count(
            select(func.count(Scan.id)).where(
                Scan.event_id == event.id,
                or_(
                    Scan.input != DELETED,
                    Scan.guest_id.is_not(None),
                    Scan.staff_id.is_not(None),
                    ~Scan.device.like("Gerät %"),
                ),
            )
        ),
        "meeting_requests": _count(select(func.count(MeetingRequest.id)).where(MeetingRequest.event_id == event.id)),
        "interest_contacts": _count(
            select(func.count(Interest.id)).where(Interest.event_id == event.id, Interest.contact_guest_id.is_not(None))
        ),
        "devices": _count(select(func.count(Device.id)).where(Device.event_id == event.id)),
        "device_accounts": _count(select(func.count(StaffUser.id)).where(StaffUser.id.in_(device_staff))),
        "device_tokens": _count(select(func.count(ApiToken.id)).where(ApiToken.staff_id.in_(device_staff))),
    }


def kept_counts(event):
    """What the purge keeps: the agenda and the board's municipal entries."""

    def n(model):
        return _count(select(func.count(model.id)).where(model.event_id == event.id))

    return {
        "sessions": n(Session),
        "rooms": n(Room),
        "speakers": n(Speaker),
        "topics": n(Topic),
        "announcements": n(Announcement),
        "municipalities": n(Municipality),
        "interests": n(Interest),
        "scans": n(Scan),
        "changes": n(Change),
    }


def purge_event(event):
    """Remove the event's personal data in one transaction. Returns {"removed": {kind: n}, "final": the
    anonymous counts at the time of the purge (registered, checked in, per municipality), "kept": {…}}."""
    final = arrival_stats(event.slug)  # before anything changes (read on its own connection)
    final = {
        "registered": final["registered"],
        "checked_in": final["checked_in"],
        "by_city": final["by_city"],
        "registered_by_city": final["registered_by_city"],
    }
    removed = personal_data_counts(event)
    try:
        before = board_json(event)
        revision_before = event.revision
        # The audit log: no guest, no input, no staff account, devices by number only.
        pseudonyms = {}
        for scan in db.session.execute(select(Scan).where(Scan.event_id == event.id).order_by(Scan.id)).scalars():
            if scan.device and not scan.device.startswith("Gerät "):
                pseudonyms.setdefault(scan.device, DEVICE_PSEUDONYM.format(n=len(pseudonyms) + 1))
            scan.device = pseudonyms.get(scan.device, scan.device)
            scan.input, scan.guest_id, scan.staff_id = DELETED, None, None
            scan.response = {"result": scan.result}
        db.session.flush()
        removed["change_log_cleaned"] = _scrub_change_log(event)
        db.session.flush()
        device_staff = select(Device.staff_id).where(Device.event_id == event.id).scalar_subquery()
        statements = [
            update(Interest).where(Interest.event_id == event.id).values(contact_guest_id=None),
            delete(MeetingRequest).where(MeetingRequest.event_id == event.id),
            delete(CheckIn).where(CheckIn.event_id == event.id),
            delete(Guest).where(Guest.event_id == event.id),
            delete(ApiToken).where(ApiToken.staff_id.in_(device_staff)),
        ]
        for statement in statements:
            db.session.execute(statement.execution_options(synchronize_session=False))
        staff_ids = db.session.execute(select(Device.staff_id).where(Device.event_id == event.id)).scalars().all()
        db.session.execute(
            delete(Device).where(Device.event_id == event.id).execution_options(synchronize_session=False)
        )
        if staff_ids:
            db.session.execute(
                delete(StaffUser).where(StaffUser.id.in_(staff_ids)).execution_options(synchronize_session=False)
            )
        db.session.expire_all()
        touch_stats(event)
        summary = "Personenbezogene Daten entfernt"
        _record_board_change_if_needed(event, before, revision_before, summary, {"reason": "purge"})
        kept = kept_counts(event)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    removed["guest_list_uploads"] = uploads.discard_event(event.slug)  # files, after the rows are gone
    return {"removed": removed, "final": final, "kept": kept}
