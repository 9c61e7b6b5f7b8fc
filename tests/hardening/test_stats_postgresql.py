"""The arrivals timeline counted per minute by PostgreSQL (to_char), as tests/checkin/test_stats_timeline.py
checks it on SQLite (strftime): the same buckets as bucketing every check-in on its own."""

import pytest

from tests.checkin.test_stats_timeline import CASES, check_timeline


@pytest.mark.services
def test_timeline_on_postgresql(pg_database):
    from webapp import create_app
    from webapp.agenda.demo import load_demo
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=pg_database)
    try:
        with app.app_context():
            db.create_all()
            load_demo()
            for zone, start in CASES:
                check_timeline(zone, start)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
