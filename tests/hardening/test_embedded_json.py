"""Data embedded in pages as <script type="application/json">: text such as "<!--<script>" in any field (a
board note, a contact name, an "Andere Kommune" town typed at registration, an announcement, a session
title) must not change how the page parses. Every JSON block of every page that embeds one is checked: it
holds no "<", ">" or "&" at all and parses back to data that contains the hostile text unchanged."""

import json
import re

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from webapp.agenda.models import Session
from webapp.checkin.models import Guest
from webapp.core.extensions import db
from webapp.core.html import json_script
from webapp.matchmaking.demo import load_board_demo

HOSTILE = "<!--<script>&</script><b>x</b>'"
BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)


def test_the_helper_escapes_what_can_end_or_bend_a_script_block():
    text = str(json_script({"a": HOSTILE, "ü": "ß"}))
    assert not set("<>&'") & set(text)
    assert "ü" in text  # still compact UTF-8, not \u-escaped umlauts
    assert json.loads(text) == {"a": HOSTILE, "ü": "ß"}


def blocks(body):
    found = BLOCK.findall(body)
    assert found, "the page embeds no JSON block"
    return found


@pytest.fixture
def hostile_event(app, client, auth):
    """The demo event with the hostile text in every field that reaches an embedded block."""
    from webapp.core.models import Event

    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    load_board_demo(event)
    session = db.session.execute(select(Session).where(Session.event_id == event.id)).scalars().first()
    assert (
        client.patch(
            f"/api/v1/events/{SLUG}/sessions/{session.id}", json={"title": "Titel " + HOSTILE}, headers=auth
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/events/{SLUG}/announcements", json={"text": "Durchsage " + HOSTILE}, headers=auth
        ).status_code
        == 201
    )
    # a delegate named as contact, with a hostile board note
    guest = client.post(
        f"/api/v1/events/{SLUG}/guests",
        headers=auth,
        json={"name": "Kontakt " + HOSTILE, "city": "Trier", "consent_contact": True},
    ).json
    answer = client.put(
        f"/api/v1/t/{guest['token']}/interests",
        json={
            "consent": True,
            "contact": True,
            "interests": [{"topic": "park-app", "stage": "plans", "note": HOSTILE}],
        },
    )
    assert answer.status_code == 200, answer.json
    # an "Andere Kommune" town typed at public registration
    other = client.post(f"/api/v1/events/{SLUG}/guests", headers=auth, json={"name": "Gast", "city": HOSTILE}).json
    return {"delegate": guest["token"], "other": other["token"]}


def assert_safe(body):
    seen = ""
    for name, content in blocks(body):
        assert not set("<>&") & set(content), f"block {name} holds raw markup characters"
        seen += json.dumps(json.loads(content), ensure_ascii=False)
    return seen


def test_every_page_with_embedded_data_keeps_hostile_text_inert(app, client, web, hostile_event):
    pages = {
        f"/e/{SLUG}/": ["Titel " + HOSTILE, "Durchsage " + HOSTILE],
        f"/e/{SLUG}/screen": ["Titel " + HOSTILE],
        f"/e/{SLUG}/board": [HOSTILE],
        f"/e/{SLUG}/board/screen": [HOSTILE],
        f"/t/{hostile_event['delegate']}/board": [HOSTILE],
        f"/t/{hostile_event['delegate']}": ["Titel " + HOSTILE],
    }
    for url, wanted in pages.items():
        r = web.get(url)
        assert r.status_code == 200, url
        seen = assert_safe(r.get_data(as_text=True))
        for text in wanted:
            assert text in seen, (url, text)
    # staff pages: the arrivals dashboard and the scanner
    make_staff("json-admin", password="pw-json-admin")
    web.post("/staff/login", data={"name": "json-admin", "password": "pw-json-admin"})
    guest = db.session.execute(select(Guest).filter_by(token=hostile_event["other"])).scalar_one()
    assert (
        client.post(
            f"/api/v1/events/{SLUG}/checkins",
            json={"code": guest.code, "nonce": "json-1"},
            headers={"Authorization": f"Bearer {make_staff('json-door', role='scanner')[1]}"},
        ).json["result"]
        == "ok"
    )
    for url in (f"/staff/e/{SLUG}/checkin", f"/staff/e/{SLUG}/scan"):
        r = web.get(url)
        assert r.status_code == 200, url
        assert_safe(r.get_data(as_text=True))
    # and the HTML around the blocks shows the text escaped, never as markup
    body = web.get(f"/e/{SLUG}/").get_data(as_text=True)
    assert "<!--<script>" not in BLOCK.sub("", body)
