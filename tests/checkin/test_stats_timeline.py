"""The arrivals timeline of the counters (projector, dashboard, stats API): the database counts check-ins per
UTC minute, the app sums them into 5-minute buckets of the event's local time. It must say exactly what
bucketing every single check-in time would say, in a zone with a 45-minute offset and across a change to
summer time too."""

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from tests.helpers import SLUG
from webapp.checkin import guests
from webapp.checkin.models import CheckIn
from webapp.checkin.stats import BUCKET_MINUTES, arrival_stats
from webapp.core.events import get_event
from webapp.core.extensions import db


def expected_timeline(times, tz):
    """The reference: each check-in on its own, into the local 5-minute bucket it falls in."""
    buckets, total = {}, 0
    for at in sorted(times):
        local = at.astimezone(tz)
        start = local.replace(minute=local.minute - local.minute % BUCKET_MINUTES, second=0, microsecond=0)
        total += 1
        buckets[start] = total
    return [[start.isoformat(), n] for start, n in buckets.items()]


def arrivals_at(times, zone):
    """Check in one new guest at each time (the demo event, in time zone `zone`, none checked in before);
    the counters."""
    db.session.execute(delete(CheckIn))
    event = get_event(SLUG)
    event.timezone = zone
    for i, at in enumerate(times):
        guest = guests.create_guest(event, guests.parse_guest({"name": f"Gast {i}", "city": "Trier"}))
        db.session.add(CheckIn(event_id=event.id, guest_id=guest.id, at=at, recorded_at=at))
    db.session.commit()
    return arrival_stats(SLUG)


def door_times(count, start, seed):
    """A door's arrivals over three hours, at random seconds and microseconds, some in the same second."""
    rng = random.Random(seed)
    times = [start + timedelta(seconds=rng.uniform(0, 3 * 3600)) for _ in range(count)]
    return times + times[:5]  # the same instant twice (two doors)


CASES = [
    ("Europe/Berlin", datetime(2026, 3, 29, 0, 15, tzinfo=timezone.utc)),  # summer time begins at 01:00 UTC
    ("Asia/Kathmandu", datetime(2026, 5, 4, 3, 2, 30, tzinfo=timezone.utc)),  # UTC+05:45
]


def check_timeline(zone, start, count=300):
    times = door_times(count, start, seed=zone)
    stats = arrivals_at(times, zone)
    assert stats["checked_in"] == len(times)
    assert stats["timeline"] == expected_timeline(times, ZoneInfo(zone))
    assert stats["timeline"][-1][1] == len(times)


@pytest.mark.parametrize("zone,start", CASES)
def test_timeline_buckets_every_check_in_where_it_belongs(app, zone, start):
    check_timeline(zone, start)


def test_no_check_in_no_timeline(app):
    assert arrival_stats(SLUG)["timeline"] == []
