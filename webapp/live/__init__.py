"""Live state shared by every area: per-event revisions, the change log, broadcast after commit, coalesced
counters and the Socket.IO namespace `/live` (see docs/live.md)."""
NAMESPACE = "/live"


def room_for(slug):
    return f"event:{slug}"


from .broadcast import register_stats  # noqa: E402,F401
from .revisions import (current_revision, record_change, register_snapshot_part, snapshot,  # noqa: E402,F401
                        touch_stats)
