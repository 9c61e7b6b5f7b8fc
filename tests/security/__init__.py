"""Security tests: rate limits, headers and cookies, credentials, privacy (docs/security.md). They run with
CSRF on, on a copy of their module's prepared database (tests/helpers.py)."""

from tests.helpers import SLUG, app_on_copy, make_staff, prepared_database  # noqa: F401


def staff(name, role="admin", password="pw-for-tests"):
    """An account with a quick password hash (these tests sign in often)."""
    return make_staff(name, role, password, quick=True)
