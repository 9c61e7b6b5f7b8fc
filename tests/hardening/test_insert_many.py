"""insert_many (the guest import's bulk INSERT, its values converted before the write lock) stores what
SQLAlchemy's own executemany would, on SQLite (positional parameters) and PostgreSQL (named ones)."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, create_engine, insert, select

from webapp.core.db import UTCDateTime, insert_many

AT = datetime(2026, 12, 3, 17, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1)))


def table():
    metadata = MetaData()
    return metadata, Table(
        "guestlike",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("note", String(50), nullable=False, default=""),
        Column("delegate", Boolean, nullable=False, default=False),
        Column("at", UTCDateTime, nullable=False),
        Column("city", String(50), nullable=True),
    )


def rows(n):
    return [
        {"name": f"Käthe {i}", "note": 'Ä;ö"ß', "delegate": i % 2 == 0, "at": AT, "city": None if i % 3 else "Trier"}
        for i in range(n)
    ]


def stored(engine, t):
    with engine.connect() as conn:
        return [tuple(r[1:]) for r in conn.execute(select(t).order_by(t.c.id))]


def check(url):
    engine = create_engine(url)
    metadata, t = table()
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            insert_many(conn, t, rows(1200))  # more than one pause's worth of rows
        ours = stored(engine, t)
        with engine.begin() as conn:
            conn.execute(t.delete())
            conn.execute(insert(t), rows(1200))
        assert ours == stored(engine, t)
        assert len(ours) == 1200
        assert ours[0] == ("Käthe 0", 'Ä;ö"ß', True, AT.astimezone(timezone.utc), "Trier")
        with engine.begin() as conn:
            with pytest.raises(ValueError, match="note"):
                insert_many(conn, t, [{"name": "ohne Standardwerte", "at": AT}])
            insert_many(conn, t, [])  # nothing to do
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_on_sqlite(tmp_path):
    check(f"sqlite:///{tmp_path / 'bulk.sqlite3'}")


def test_on_postgresql(pg_database):
    check(pg_database)  # SQLAlchemy 2.1 takes psycopg 3 for postgresql://
