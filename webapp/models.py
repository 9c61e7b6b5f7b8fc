"""All tables, imported in one place for Alembic and create_all. Each area keeps its own models module."""
from .agenda.models import Announcement, Event, Room, Session, Speaker, Topic  # noqa: F401
from .live.models import Change  # noqa: F401
from .staff.models import ApiToken, StaffUser  # noqa: F401
