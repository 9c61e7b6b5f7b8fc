"""What the board's API says when it refuses a delegate's input (issue 13): sentences in German and English
(the delegate page shows them as they are), the field they are about, the codes for scripts in `choices`,
never a key or a code in the sentence; and nothing changes."""

import re

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.matchmaking.models import Interest, MeetingRequest

KEYS = re.compile(r"\b[a-z]+_[a-z_]+\b")  # answers_version …
ENGLISH_KEYS = re.compile(r"\b(?:runs|plans|stage|topic|interests?|accept|with|must)\b")  # in the German text


def state():
    db.session.expire_all()
    return (
        db.session.scalar(select(Event.revision).filter_by(slug=SLUG)),
        db.session.scalar(select(func.count(Interest.id))),
        db.session.scalar(select(func.count(MeetingRequest.id))),
    )


@pytest.fixture
def token(web, auth):
    r = web.post(f"/api/v1/events/{SLUG}/guests", json={"name": "Delegierte", "city": "Kaiserslautern"}, headers=auth)
    return r.json["token"]


CASES = [
    (
        "put",
        "interests",
        {"consent": True, "interests": [{"topic": "park-app", "stage": "läuft"}]},
        "stage",
        "Eintrag 1: Der Stand muss einer dieser Werte sein: im Betrieb, in Planung, interessiert",
        "Entry 1: the stage must be one of these: running, planned, interested",
    ),
    (
        "put",
        "interests",
        {"consent": True, "interests": [{"topic": "gibt-es-nicht", "stage": "runs"}]},
        "topic",
        "Eintrag 1: Dieses Thema gibt es nicht. Themen: ",
        "Entry 1: there is no such topic. Topics: ",
    ),
    (
        "put",
        "interests",
        {
            "consent": True,
            "interests": [{"topic": "park-app", "stage": "runs"}, {"topic": "park-app", "stage": "plans"}],
        },
        "topic",
        "Eintrag 2: Das Thema „Park App“ steht schon weiter oben.",
        "Entry 2: the topic “Park App” is listed further up already.",
    ),
    (
        "put",
        "interests",
        {"consent": True, "interests": "alle"},
        "interests",
        "„Themen“ muss eine Liste mit höchstens 60 Einträgen sein.",
        "‘Topics’ must be a list of at most 60 entries.",
    ),
    (
        "post",
        "meetings",
        {"with": "Kaiserslautern", "topic": "park-app"},
        "with",
        "Mit der eigenen Kommune lässt sich kein Gespräch vereinbaren.",
        "A meeting cannot be arranged with one's own municipality.",
    ),
    (
        "post",
        "meetings",
        {"topic": "park-app"},
        "with",
        "Bitte eine Kommune und ein Thema wählen.",
        "Please choose a municipality and a topic.",
    ),
]


@pytest.mark.parametrize("method, path, body, field, german, english", CASES)
def test_a_refused_answer_is_a_sentence_at_its_field_in_both_languages(
    web, token, method, path, body, field, german, english
):
    before = state()
    url = f"/api/v1/t/{token}/{path}"
    for lang, expected, other in (("de", german, english), ("en", english, german)):
        r = getattr(web, method)(f"{url}?lang={lang}", json=body)
        assert 400 <= r.status_code < 500
        error = r.json["error"]
        assert error["message"].startswith(expected) and other not in error["message"], error
        assert error["field"] == field and not KEYS.search(error["message"])
        assert lang == "en" or not ENGLISH_KEYS.search(error["message"])
    if field == "stage":
        assert error["choices"] == ["runs", "plans", "interested"]
    assert state() == before


def test_an_answer_to_a_meeting_must_be_yes_or_no(web, token):
    before = state()
    r = web.post(f"/api/v1/t/{token}/meetings/1", json={"accept": "ja"})
    assert r.status_code == 400 and r.json["error"]["field"] == "accept"
    assert r.json["error"]["message"] == "„Antwort“ muss true oder false sein."
    assert state() == before


def test_an_event_without_a_board_says_so(web):
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    event.board_enabled = False
    db.session.commit()
    r = web.get(f"/api/v1/events/{SLUG}/board")
    assert r.status_code == 404 and r.json["error"]["message"] == "Diese Veranstaltung hat kein Matchmaking-Board."
    r = web.get(f"/api/v1/events/{SLUG}/board?lang=en")
    assert r.json["error"]["message"] == "This event has no matchmaking board."
