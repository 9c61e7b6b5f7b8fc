"""The names on the wire: the Socket.IO namespace, each event's room, and the room of those of its clients
that show the arrival counters."""

NAMESPACE = "/live"


def room_for(slug):
    return f"event:{slug}"


def stats_room_for(slug):
    """Clients that asked for `stats` (the default; a page without counters connects with "stats": false)."""
    return f"stats:{slug}"
