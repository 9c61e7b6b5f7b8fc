"""Live state shared by every area: per-event revisions, the change log, broadcast after commit and the
Socket.IO namespace `/live` (see docs/live.md)."""
from .revisions import current_revision, record_change, register_snapshot_part, snapshot  # noqa: F401

NAMESPACE = "/live"


def room_for(slug):
    return f"event:{slug}"
