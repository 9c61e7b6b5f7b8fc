"""Staff events of the agenda on /live: the same domain functions as the API, for staff logged in by
session. Anonymous connections get {error} and change nothing."""

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.events import get_event
from ..core.extensions import db, socketio
from ..live import NAMESPACE
from ..live.sockets import connected_event_slug
from ..staff.auth import actor_name, socket_staff
from . import domain


def _staff_call(handler, data):
    try:
        event = get_event(connected_event_slug())
        staff = socket_staff(event)
        if not isinstance(data, dict):
            raise DomainError("invalid", _("Erwartet wird ein JSON-Objekt."))
        return handler(event, data, actor_name(staff))
    except DomainError as exc:
        db.session.rollback()
        return exc.as_json()


def on_update_session(data):
    def handle(event, data, actor):
        data = dict(data)
        session = domain.get_session(event, data.pop("id", None))
        domain.update_session(event, session, domain.parse_session_fields(event, data), actor=actor)
        return {"session": domain.session_json(session), "revision": event.revision}

    return _staff_call(handle, data)


def on_announce(data):
    def handle(event, data, actor):
        announcement, change = domain.add_announcement(event, actor=actor, **domain.parse_announcement(data))
        return {"announcement": domain.announcement_json(announcement), "revision": change.revision}

    return _staff_call(handle, data)


def register():
    socketio.on_event("update_session", on_update_session, namespace=NAMESPACE)
    socketio.on_event("announce", on_announce, namespace=NAMESPACE)
