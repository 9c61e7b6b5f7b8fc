"""get_event within one request: the access check and the route share one read of the event, and a commit
or rollback makes the next lookup read it again (a renamed or changed event is never served stale)."""

import pytest
from sqlalchemy import event as sa_event

from tests.helpers import SLUG
from webapp.core.errors import DomainError
from webapp.core.events import get_event
from webapp.core.extensions import db


@pytest.fixture
def selects(app):
    seen = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM event" in statement:
            seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    sa_event.remove(db.engine, "before_cursor_execute", count)


def test_one_read_per_request_until_commit(app, selects):
    with app.test_request_context("/api/v1/events/kl-2018/checkins"):
        first = get_event(SLUG)
        assert get_event(SLUG) is first
        assert len(selects) == 1
        first.title = "Neuer Titel"
        db.session.commit()
        again = get_event(SLUG)
        assert again.title == "Neuer Titel"
        assert len(selects) == 2  # expired by the commit: read again


def test_renamed_event_is_not_found_by_its_old_slug(app):
    with app.test_request_context("/"):
        event = get_event(SLUG)
        event.slug = "kl-2019"
        db.session.commit()
        with pytest.raises(DomainError):
            get_event(SLUG)
        assert get_event("kl-2019") is event


def test_rollback_reads_again(app, selects):
    with app.test_request_context("/"):
        event = get_event(SLUG)
        event.title = "nicht gespeichert"
        db.session.rollback()
        assert get_event(SLUG).title != "nicht gespeichert"
        assert len(selects) == 2


def test_outside_a_request_every_call_reads(app, selects):
    get_event(SLUG)
    get_event(SLUG)
    assert len(selects) == 2
