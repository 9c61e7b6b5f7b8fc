"""The event as every area reads it: by slug (for the API a DomainError 404, for pages a 404 page), its
times in its own time zone, and its public description."""

from zoneinfo import ZoneInfo

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .errors import DomainError, not_found
from .extensions import db
from .models import Event


def get_event(slug):
    event = (
        db.session.execute(select(Event).filter_by(slug=slug)).scalar_one_or_none() if isinstance(slug, str) else None
    )
    if event is None:
        raise not_found(_l("Diese Veranstaltung gibt es nicht."))
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
