"""Security tests run with CSRF on, as in production: each test gets a copy of its module's prepared
database (a module-scoped `template` fixture)."""

import re

import pytest

from tests.security import app_on_copy
from webapp.core.extensions import db


@pytest.fixture
def app(template, tmp_path):
    app = app_on_copy(template, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def csrf_of(html):
    """The CSRF token of the first form in a page."""
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)
