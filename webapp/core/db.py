"""Database ground shared by all areas: the UTC column type and the SQLite connection settings."""

from datetime import datetime, timezone

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands out aware UTC datetimes: SQLite keeps no offset, PostgreSQL's
    `timestamp` neither, so the conversion happens here, once."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow():
    return datetime.now(timezone.utc)


def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL lets readers work during a write; busy_timeout makes writers wait instead of failing;
    foreign keys on so cascades hold as on PostgreSQL."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def install_sqlite_pragmas():
    """For every SQLite connection any engine opens. Once per process."""
    if not sa_event.contains(Engine, "connect", _sqlite_pragmas):
        sa_event.listen(Engine, "connect", _sqlite_pragmas)
