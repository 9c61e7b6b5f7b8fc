"""All tables, imported in one place for Alembic and create_all. Each area keeps its own models module."""
from .agenda.models import Announcement, Event, Municipality, Room, Session, Speaker, Topic  # noqa: F401
from .checkin.models import CheckIn, Device, Guest, Scan  # noqa: F401
from .live.models import Change  # noqa: F401
from .matchmaking.models import Interest, MeetingRequest, TableAssignment  # noqa: F401
from .staff.models import ApiToken, StaffLogin, StaffUser  # noqa: F401
