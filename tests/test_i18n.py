"""German by default, English with ?lang=en (remembered in the `lang` cookie); the English catalogue is complete;
stored codes (session kinds, statuses, severities) are shown with translated labels on the staff pages."""

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.agenda import labels
from webapp.agenda.models import SESSION_KINDS, SESSION_STATUSES, SEVERITIES, Session
from webapp.core.extensions import db

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# (url, a German text on the page, its English translation)
PAGES = [
    (f"/e/{SLUG}/", "Zu jetzt springen", "Jump to now"),
    (f"/e/{SLUG}/screen", "Verbinde…", "Connecting…"),
    ("/staff/login", "Anmeldung für das Team", "Staff sign-in"),
]


def html_lang(response):
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    return match and match.group(1)


@pytest.mark.parametrize("url, german, english", PAGES)
def test_german_by_default(web, url, german, english):
    r = web.get(url)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert html_lang(r) == "de"
    assert german in body and english not in body


@pytest.mark.parametrize("url, german, english", PAGES)
def test_english_with_lang_en_and_remembered(web, url, german, english):
    r = web.get(url + "?lang=en")
    assert r.status_code == 200
    assert html_lang(r) == "en"
    body = r.get_data(as_text=True)
    assert english in body and german not in body
    assert "lang=en" in r.headers.get("Set-Cookie", "")

    # The next request without ?lang: the cookie keeps English.
    r = web.get(url)
    assert html_lang(r) == "en" and english in r.get_data(as_text=True)

    # And ?lang=de switches back (and is remembered too).
    r = web.get(url + "?lang=de")
    assert html_lang(r) == "de" and german in r.get_data(as_text=True)
    r = web.get(url)
    assert html_lang(r) == "de" and german in r.get_data(as_text=True)


def test_unknown_language_falls_back_to_german(web):
    r = web.get(f"/e/{SLUG}/?lang=fr")
    assert r.status_code == 200 and html_lang(r) == "de"
    assert "Zu jetzt springen" in r.get_data(as_text=True)
    assert "lang=fr" not in r.headers.get("Set-Cookie", "")
    web.set_cookie("lang", "fr")
    r = web.get(f"/e/{SLUG}/")
    assert html_lang(r) == "de"


def test_script_strings_are_translated(web):
    """The dict handed to the scripts (<script id="i18n">) is built with _() and so follows the language."""

    def strings(url):
        body = web.get(url).get_data(as_text=True)
        return json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', body, re.S).group(1))

    de, en = strings(f"/e/{SLUG}/"), strings(f"/e/{SLUG}/?lang=en")
    assert de["cancelled"] == "abgesagt" and en["cancelled"] == "cancelled"
    assert de["kinds"]["talk"] == "Vortrag" and en["kinds"]["talk"] == "Talk"
    assert set(de) == set(en)
    screen_en = strings(f"/e/{SLUG}/screen?lang=en")
    assert screen_en["sev_urgent"] == "Urgent"


def test_manifest_description_follows_language(web):
    assert web.get(f"/e/{SLUG}/manifest.webmanifest").get_json()["description"] == "Live-Programm"
    assert web.get(f"/e/{SLUG}/manifest.webmanifest?lang=en").get_json()["description"] == "Live programme"


def test_english_catalogue_is_complete():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 50
    empty = [m.id for m in messages if not (m.string if isinstance(m.string, str) else all(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not empty, f"untranslated: {empty}"
    assert not fuzzy, f"fuzzy (not used): {fuzzy}"
    # Placeholders survive translation.
    pattern = r"\{\w*\}|%\(\w+\)[sd]"
    for m in messages:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = sorted(re.findall(pattern, ids[-1]))  # the plural form names every placeholder
        for string in strings:
            assert sorted(re.findall(pattern, string)) == wanted, m.id


def test_every_code_has_a_label():
    assert set(labels.KINDS) == set(SESSION_KINDS)
    assert set(labels.STATUSES) == set(SESSION_STATUSES)
    assert set(labels.SEVERITY_LABELS) == set(SEVERITIES)


@pytest.fixture
def staff_client(web):
    make_staff("ops", password="pw")
    r = web.post("/staff/login", data={"name": "ops", "password": "pw"})
    assert r.status_code == 302
    return web


def test_editor_shows_translated_kind_labels(staff_client):
    body = staff_client.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert '<span class="muted">Vortrag' in body and '<span class="muted">Projektvorstellung' in body
    assert '<span class="muted">talk' not in body and '<span class="muted">pitch' not in body

    body = staff_client.get(f"/staff/e/{SLUG}/?lang=en").get_data(as_text=True)
    assert '<span class="muted">Talk' in body and '<span class="muted">Pitch' in body
    assert "Edit programme" in body


def test_session_form_options_are_labelled(staff_client):
    talk = db.session.execute(select(Session).filter_by(kind="talk")).scalars().first()
    url = f"/staff/e/{SLUG}/sessions/{talk.id}/edit"
    body = staff_client.get(url).get_data(as_text=True)
    assert re.search(r'<option[^>]*value="talk"[^>]*>Vortrag</option>', body)
    assert re.search(r'<option[^>]*value="cancelled"[^>]*>abgesagt</option>', body)

    body = staff_client.get(url + "?lang=en").get_data(as_text=True)
    assert re.search(r'<option[^>]*value="talk"[^>]*>Talk</option>', body)
    assert re.search(r'<option[^>]*value="scheduled"[^>]*>scheduled</option>', body)
    assert re.search(r'<option[^>]*value="break"[^>]*>Break</option>', body)


def test_announcement_severity_is_labelled(staff_client):
    url = f"/staff/e/{SLUG}/announcements"
    r = staff_client.post(url, data={"text": "Kaffee ist da", "severity": "warning"})
    assert r.status_code == 302
    body = staff_client.get(url).get_data(as_text=True)
    assert re.search(r'<option[^>]*value="urgent"[^>]*>Dringend</option>', body)
    assert "· Hinweis" in body and "· warning" not in body

    body = staff_client.get(url + "?lang=en").get_data(as_text=True)
    assert re.search(r'<option[^>]*value="urgent"[^>]*>Urgent</option>', body)
    assert "· Notice" in body and "Announcements" in body
