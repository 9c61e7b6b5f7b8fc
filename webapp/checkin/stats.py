"""Arrival counters: registered and checked-in guests, per municipality and over time. No names: these
numbers go to projectors and public API clients."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..core.extensions import db
from ..core.models import Event, Municipality
from .models import CheckIn, Guest

BUCKET_MINUTES = 5
OTHER = "–"  # guests of towns that are not among the event's municipalities (pages show "Andere Kommunen")


def arrival_stats(slug, connection=None):
    """{registered, checked_in, by_city: {city: checked in}, registered_by_city, timeline: [[time, total]]}
    or None for an unknown event. Runs on its own connection so it can be called right after a commit."""
    own = connection is None
    connection = connection or db.engine.connect()
    try:
        event = connection.execute(select(Event.id, Event.timezone).where(Event.slug == slug)).first()
        if event is None:
            return None
        event_id, tz = event
        # By the event's municipalities only: a town typed as "Andere Kommune" is free text of one person
        # and is counted under OTHER, never named on a projector or in the public API.
        town = Municipality.name
        registered = dict(
            connection.execute(
                select(town, func.count(Guest.id))
                .select_from(Guest)
                .outerjoin(Municipality, Municipality.id == Guest.municipality_id)
                .where(Guest.event_id == event_id, Guest.status == "registered")
                .group_by(town)
            ).all()
        )
        arrived = dict(
            connection.execute(
                select(town, func.count(CheckIn.id))
                .select_from(Guest)
                .join(CheckIn, CheckIn.guest_id == Guest.id)
                .outerjoin(Municipality, Municipality.id == Guest.municipality_id)
                .where(CheckIn.event_id == event_id)
                .group_by(town)
            ).all()
        )
        times = (
            connection.execute(select(CheckIn.at).where(CheckIn.event_id == event_id).order_by(CheckIn.at))
            .scalars()
            .all()
        )
    finally:
        if own:
            connection.close()
    return {
        "registered": sum(registered.values()),
        "checked_in": sum(arrived.values()),
        "by_city": {city or OTHER: n for city, n in sorted(arrived.items(), key=lambda kv: (-kv[1], kv[0] or ""))},
        "registered_by_city": {city or OTHER: n for city, n in sorted(registered.items(), key=lambda kv: kv[0] or "")},
        "timeline": _timeline(times, ZoneInfo(tz)),
        "at": datetime.now(timezone.utc).isoformat(),
    }


def _timeline(times, tz):
    """Cumulative arrivals at the end of each 5-minute bucket that had any."""
    buckets, total = {}, 0
    for at in times:
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at
        local = at.astimezone(tz)
        start = local.replace(minute=local.minute - local.minute % BUCKET_MINUTES, second=0, microsecond=0)
        total += 1
        buckets[start] = total
    return [[start.isoformat(), n] for start, n in buckets.items()]
