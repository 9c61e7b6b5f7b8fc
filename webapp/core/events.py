"""The event as every area reads it: by slug (for the API a DomainError 404, for pages a 404 page), its
times in its own time zone, and its public description."""

from zoneinfo import ZoneInfo

from flask import abort, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, inspect, select

from .errors import DomainError, not_found
from .extensions import db
from .models import Event

_REQUEST_EVENTS = "treffpunkt.events"  # slug -> Event, in the WSGI environ of one request
_EVENT_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))  # built once: nearly every request runs it


def get_event(slug):
    """The event with this slug, or DomainError 404. Within one request the access check and the route ask
    for the same event: it is read once, and again only once a commit or rollback has expired it."""
    memo = request.environ.setdefault(_REQUEST_EVENTS, {}) if has_request_context() else {}
    event = memo.get(slug)
    if event is not None:
        state = inspect(event)
        if state.session is db.session() and state.persistent and not state.expired:
            return event
    event = db.session.execute(_EVENT_BY_SLUG, {"slug": slug}).scalar_one_or_none() if isinstance(slug, str) else None
    if event is None:
        raise not_found(_l("Diese Veranstaltung gibt es nicht."))
    memo[slug] = event
    return event


def event_or_404(slug):
    """For pages: the event, or the 404 page."""
    try:
        return get_event(slug)
    except DomainError:
        abort(404)


def local_iso(dt, tz):
    return dt.astimezone(ZoneInfo(tz)).isoformat()


def event_json(event):
    return {
        "slug": event.slug,
        "title": event.title,
        "subtitle": event.subtitle,
        "series": event.series,
        "host": event.host,
        "venue": event.venue,
        "timezone": event.timezone,
        "start": local_iso(event.starts_at, event.timezone),
        "end": local_iso(event.ends_at, event.timezone),
        "is_demo": event.is_demo,
    }
