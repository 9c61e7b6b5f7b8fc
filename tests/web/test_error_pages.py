"""Error pages in the reader's language (webapp/web/errors.py): Werkzeug's English "Not Found" never reaches a
person; the status, Werkzeug's headers and the API's JSON stay as they were."""

from datetime import datetime, timezone

import pytest
from werkzeug.exceptions import InternalServerError

from tests.helpers import SLUG, make_staff, signed_in

PAGES = {
    "de": {404: "Seite nicht gefunden", 403: "Kein Zugriff", 405: "Nicht möglich", 413: "Zu groß", 500: "Ein Fehler"},
    "en": {404: "Page not found", 403: "No access", 405: "Not possible", 413: "Too large", 500: "Something went wrong"},
}
ENGLISH_DEFAULTS = ("Not Found", "Forbidden", "Method Not Allowed", "Request Entity Too Large", "Internal Server Error")


@pytest.fixture
def failing_app(app):
    @app.get("/test-raises")
    def raises():
        raise RuntimeError("a bug")

    return app


def page(response):
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_error_pages_speak_the_readers_language(failing_app, lang):
    app = failing_app
    client = app.test_client()
    q = f"?lang={lang}"
    answers = {
        404: client.get(f"/t/not-a-ticket{q}"),
        405: client.delete(f"/{q}"),
        500: client.get(f"/test-raises{q}"),
    }
    app.config["MAX_CONTENT_LENGTH"] = 1000
    answers[413] = client.post(f"/staff/login{q}", data={"name": "x" * 5000, "password": "y"})
    for status, response in answers.items():
        text = page(response)
        assert response.status_code == status and response.mimetype == "text/html", (status, text[:200])
        assert PAGES[lang][status] in text and f'lang="{lang}"' in text, (status, text)
        assert not any(default in text for default in ENGLISH_DEFAULTS), (status, text)
    assert "Allow" in answers[405].headers  # Werkzeug's header for a 405 is kept
    assert "a bug" not in page(answers[500])


def test_a_forbidden_staff_page_is_a_page_in_german(app):
    make_staff("scoped", role="admin", password="pw-for-tests-1", events=(SLUG,), quick=True)
    from webapp.core.extensions import db
    from webapp.core.models import Event

    start = datetime(2019, 5, 3, 8, tzinfo=timezone.utc)
    other = Event(slug="other-2019", title="Anderes Treffen", starts_at=start, ends_at=start.replace(hour=18))
    db.session.add(other)
    db.session.commit()
    browser = signed_in(app, "scoped", "pw-for-tests-1")
    r = browser.get("/staff/e/other-2019/")
    assert r.status_code == 403 and PAGES["de"][403] in page(r) and "Forbidden" not in page(r)


def test_our_own_reason_is_shown_and_werkzeugs_is_not(app):
    from flask import abort

    @app.get("/test-gone")
    def gone():
        abort(410, "Diese Einladung ist abgelaufen.")

    r = app.test_client().get("/test-gone")
    assert r.status_code == 410 and "Diese Einladung ist abgelaufen." in page(r) and "Nicht mehr verfügbar" in page(r)
    assert InternalServerError.description not in page(app.test_client().get("/t/x"))


def test_api_errors_stay_json_in_the_readers_language(web):
    client = web
    de = client.get("/api/v1/no-such-thing").get_json()["error"]
    en = client.get("/api/v1/no-such-thing?lang=en").get_json()["error"]
    assert de["code"] == en["code"] == "not_found"
    assert "Adresse" in de["message"] and "address" in en["message"] and "Not Found" not in de["message"]
