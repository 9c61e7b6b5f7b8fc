"""The names on the wire: the Socket.IO namespace and each event's room."""

NAMESPACE = "/live"


def room_for(slug):
    return f"event:{slug}"
