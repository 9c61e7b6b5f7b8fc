"""The board's sentences (webapp/matchmaking/sentences.py): one grammatical sentence per pair of stages, in
German and English, for the seed's real topic names with and without an organiser's phrases; the score
explained from scoring's weights; the phrases edited on the set-up page; the board page carrying it all.

The English texts come from the catalogue (translations/en): these tests need its board msgids."""

import json
import re
from itertools import product

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, make_staff, prepared_database, signed_in
from webapp.agenda import demo as agenda_demo
from webapp.agenda import domain as agenda_domain
from webapp.agenda.models import Topic
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change
from webapp.matchmaking import demo as board_demo
from webapp.matchmaking import scoring, sentences
from webapp.matchmaking.models import STAGES
from webapp.matchmaking.sentences import TopicWords

PAIRS = list(product(STAGES, STAGES))  # every stage pair, both ways round
NAMES = [name for _slug, name in agenda_demo.TOPICS]  # the seed's topics, "Teilautonomer Bus …" to "Sicherheit"
DEMO_WORDS = [
    TopicWords(name, *board_demo.PHRASES[slug]) for slug, name in agenda_demo.TOPICS if slug in board_demo.PHRASES
]

# After these words a noun phrase follows, so the next word must be an article, a pronoun or "ein Projekt …"
# (lower case), never a bare capitalised topic name: "betreibt Teilautonomer Bus", "für Park App".
GERMAN_VERBS = re.compile(r"\b(hat|haben beide|plant|planen beide|für) (?=\S)(?![a-zäöü])")
ENGLISH_VERBS = re.compile(r"\b(run|runs|planning|in) (?=\S)(?![a-z])")


def pair_texts(words, stage_a, stage_b, a="Kaiserslautern", b="Trier"):
    weight = scoring.pair_weight(stage_a, stage_b)
    return sentences.describe([(a, b, [(words.name, stage_a, stage_b, weight)])], {words.name: words})[0]


def sentence(words, stage_a, stage_b, lang="de", **cities):
    return pair_texts(words, stage_a, stage_b, **cities)["sentences"][lang][0]


@pytest.fixture
def english(app):
    """The tests run in an app context, where the catalogue answers; say so plainly if it lacks the board."""
    with sentences.in_language("en"):
        if sentences.pair_labels()[("runs", "plans")] == "Betrieb trifft Planung":
            pytest.fail("translations/en lacks the board's msgids (webapp/matchmaking/sentences.py)")


# ---- German -----------------------------------------------------------------------------------------

GERMAN_DERIVED = {
    ("runs", "runs"): "Kaiserslautern und Trier haben beide ein Projekt zum Thema „Park App“ im Betrieb.",
    ("runs", "plans"): "Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Trier plant eines.",
    (
        "runs",
        "interested",
    ): "Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Trier interessiert sich dafür.",
    ("plans", "plans"): "Kaiserslautern und Trier planen beide ein Projekt zum Thema „Park App“.",
    ("plans", "interested"): "Kaiserslautern plant ein Projekt zum Thema „Park App“; Trier interessiert sich dafür.",
    ("interested", "interested"): "Kaiserslautern und Trier interessieren sich beide für das Thema „Park App“.",
}
GERMAN_OWN = {
    ("runs", "runs"): "Kaiserslautern und Trier haben beide eine Park App im Betrieb.",
    ("runs", "plans"): "Kaiserslautern hat die Park App im Betrieb; Trier plant eine.",
    ("runs", "interested"): "Kaiserslautern hat die Park App im Betrieb; Trier interessiert sich dafür.",
    ("plans", "plans"): "Kaiserslautern und Trier planen beide eine Park App.",
    ("plans", "interested"): "Kaiserslautern plant eine Park App; Trier interessiert sich dafür.",
    ("interested", "interested"): "Kaiserslautern und Trier interessieren sich beide für die Park App.",
}
PARK_APP = TopicWords("Park App", "die Park App", "eine Park App", "the Park App")


@pytest.mark.parametrize("stages", list(GERMAN_DERIVED))
def test_german_sentence_per_stage_pair(app, stages):
    assert sentence(TopicWords("Park App"), *stages) == GERMAN_DERIVED[stages]
    assert sentence(PARK_APP, *stages) == GERMAN_OWN[stages]


@pytest.mark.parametrize("stages", [("plans", "runs"), ("interested", "runs"), ("interested", "plans")])
def test_the_more_experienced_municipality_comes_first_whichever_way_round(app, stages):
    assert sentence(PARK_APP, *stages, a="Trier", b="Kaiserslautern") == GERMAN_OWN[stages[::-1]]


def test_the_pronoun_follows_the_organisers_article_and_the_derived_project(app):
    bus = TopicWords("Teilautonomer Bus in der Fußgängerzone", *board_demo.PHRASES["bus-fussgaengerzone"])
    wlan = TopicWords("Mobiles WLAN", *board_demo.PHRASES["mobiles-wlan"])
    assert sentence(bus, "runs", "plans") == (
        "Kaiserslautern hat den teilautonomen Bus in der Fußgängerzone im Betrieb; Trier plant einen."
    )
    assert sentence(wlan, "runs", "plans") == "Kaiserslautern hat das mobile WLAN im Betrieb; Trier plant eines."
    # no article to take a pronoun from, or only one of the two phrases set: the phrase is repeated
    plural = TopicWords("Digitale Dörfer", "die Digitalen Dörfer", "Digitale Dörfer")
    assert sentence(plural, "runs", "plans") == (
        "Kaiserslautern hat die Digitalen Dörfer im Betrieb; Trier plant Digitale Dörfer."
    )
    half = TopicWords("Park App", "die Park App")
    assert sentence(half, "runs", "plans") == (
        "Kaiserslautern hat die Park App im Betrieb; Trier plant ein Projekt zum Thema „Park App“."
    )


def test_a_field_reads_as_a_field_not_as_something_one_runs(app):
    verwaltung = TopicWords("Verwaltung")
    assert sentence(verwaltung, "runs", "plans", a="Ludwigshafen", b="Koblenz") == (
        "Ludwigshafen hat ein Projekt zum Thema „Verwaltung“ im Betrieb; Koblenz plant eines."
    )
    assert sentence(verwaltung, "interested", "interested") == (
        "Kaiserslautern und Trier interessieren sich beide für das Thema „Verwaltung“."
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_topic_every_pair_is_grammatical_german(app, name):
    for words in [TopicWords(name), *[w for w in DEMO_WORDS if w.name == name]]:
        for stages in PAIRS:
            text = sentence(words, *stages, a="Neustadt an der Weinstraße", b="Eisenberg (Pfalz)")
            assert "betreibt" not in text and "interessiert sich für" not in text, text
            assert not GERMAN_VERBS.search(text), text
            assert text.endswith(".") and text.count(";") <= 1, text
            if not words.phrase:
                assert f"„{name}“" in text, text  # the bare name only ever as a quoted label
            else:
                assert words.phrase in text or words.phrase_indefinite in text, text


# ---- English ----------------------------------------------------------------------------------------

ENGLISH_OWN = {
    ("runs", "runs"): "Kaiserslautern and Trier both run the Park App.",
    ("runs", "plans"): "Kaiserslautern runs the Park App; Trier is planning one.",
    ("runs", "interested"): "Kaiserslautern runs the Park App; Trier is interested in it.",
    ("plans", "plans"): "Kaiserslautern and Trier are both planning the Park App.",
    ("plans", "interested"): "Kaiserslautern is planning the Park App; Trier is interested in it.",
    ("interested", "interested"): "Kaiserslautern and Trier are both interested in the Park App.",
}
ENGLISH_DERIVED = {
    ("runs", "runs"): "Kaiserslautern and Trier both run a project on “Verwaltung”.",
    ("runs", "plans"): "Kaiserslautern runs a project on “Verwaltung”; Trier is planning one.",
    ("runs", "interested"): "Kaiserslautern runs a project on “Verwaltung”; Trier is interested in it.",
    ("plans", "plans"): "Kaiserslautern and Trier are both planning a project on “Verwaltung”.",
    ("plans", "interested"): "Kaiserslautern is planning a project on “Verwaltung”; Trier is interested in it.",
    ("interested", "interested"): "Kaiserslautern and Trier are both interested in the topic “Verwaltung”.",
}


@pytest.mark.parametrize("stages", list(ENGLISH_OWN))
def test_english_sentence_per_stage_pair(english, stages):
    assert sentence(PARK_APP, *stages, lang="en") == ENGLISH_OWN[stages]
    assert sentence(TopicWords("Verwaltung"), *stages, lang="en") == ENGLISH_DERIVED[stages]


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_topic_every_pair_is_grammatical_english(english, name):
    for words in [TopicWords(name), *[w for w in DEMO_WORDS if w.name == name]]:
        for stages in PAIRS:
            text = sentence(words, *stages, lang="en")
            assert not ENGLISH_VERBS.search(text), text
            assert not re.search(r"\b(hat|plant|planen|und|interessiert)\b", text.replace(name, "")), (
                text
            )  # no German left
            assert (words.phrase_en or f"“{name}”") in text, text


# ---- the score in one line --------------------------------------------------------------------------


@pytest.mark.parametrize("stages", PAIRS)
def test_the_score_line_names_the_weight_of_each_pair(app, stages):
    weight = scoring.pair_weight(*stages)
    with sentences.in_language("de"):  # outside a request: the locale as the board makes it
        labels = sentences.pair_labels()
    label = labels[tuple(sorted(stages, key=STAGES.index))]
    unit = "Punkt" if weight == 1 else "Punkte"
    expected = f"{sentences.number(weight, 'de')} {unit} für „Park App“ ({label})"
    assert pair_texts(PARK_APP, *stages)["score_text"]["de"] == expected


def test_a_score_over_several_topics_adds_up_in_the_line(app):
    graph = scoring.match_graph(
        {
            "Kaiserslautern": {"Park App": "runs", "KLAR": "runs", "Bildung": "interested"},
            "Trier": {"Park App": "plans", "KLAR": "interested", "Bildung": "interested"},
        }
    )
    match = scoring.matches(graph, {"Park App": PARK_APP})[0]
    total = scoring.PAIR_WEIGHTS[("runs", "plans")] + scoring.PAIR_WEIGHTS[("runs", "interested")] + 0.5
    assert match["score"] == total == 6.0
    assert match["score_text"]["de"] == (
        "6 Punkte: 3 für „Park App“ (Betrieb trifft Planung), 2,5 für „KLAR“ (Betrieb trifft Interesse) "
        "und 0,5 für „Bildung“ (beide interessiert)"
    )
    assert match["sentences"]["de"][0] == "Kaiserslautern hat die Park App im Betrieb; Trier plant eine."


def test_the_score_line_in_english(english):
    graph = scoring.match_graph(
        {"A": {"Park App": "runs", "KLAR": "plans"}, "B": {"Park App": "plans", "KLAR": "interested"}}
    )
    assert scoring.matches(graph)[0]["score_text"]["en"] == (
        "4 points: 3 for “Park App” (running meets planning) and 1 for “KLAR” (planning meets interest)"
    )
    one = scoring.matches(scoring.match_graph({"A": {"X": "plans"}, "B": {"X": "interested"}}))[0]
    assert one["score_text"] == {
        "de": "1 Punkt für „X“ (Planung trifft Interesse)",
        "en": "1 point for “X” (planning meets interest)",
    }


def test_the_score_rule_comes_from_the_weights(app):
    rule = sentences.score_rule("de", scoring.PAIR_WEIGHTS)
    assert rule.startswith("Punkte je gemeinsames Thema: Betrieb trifft Planung 3, Betrieb trifft Interesse 2,5")
    assert rule.endswith("beide interessiert 0,5. Ein Paar bekommt die Summe.")
    assert "Betrieb trifft Planung 4" in sentences.score_rule("de", {**scoring.PAIR_WEIGHTS, ("runs", "plans"): 4.0})


# ---- the organiser's phrases, the demo board and the pages ------------------------------------------


def event():
    return db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()


def topic(slug):
    return db.session.execute(select(Topic).filter_by(slug=slug)).scalar_one()


def delegate(web, auth, city, stages):
    r = web.post(f"/api/v1/events/{SLUG}/guests", json={"name": f"D {city}", "city": city}, headers=auth)
    token = r.json["token"]
    body = {"consent": True, "interests": [{"topic": t, "stage": s} for t, s in stages.items()]}
    assert web.put(f"/api/v1/t/{token}/interests", json=body).status_code == 200
    return token


def embedded(html, element_id="live-state"):
    return json.loads(
        re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S).group(1)
    )


def test_an_organisers_phrases_are_used_and_reach_the_board_live(app, web, auth):
    delegate(web, auth, "Kaiserslautern", {"bus-fussgaengerzone": "runs"})
    delegate(web, auth, "Trier", {"bus-fussgaengerzone": "interested"})
    before = web.get(f"/api/v1/events/{SLUG}/board").json
    assert before["matches"][0]["reasons"] == [
        "Kaiserslautern hat ein Projekt zum Thema „Teilautonomer Bus in der Fußgängerzone“ im Betrieb; "
        "Trier interessiert sich dafür."
    ]
    phrases = agenda_domain.parse_topic_phrases(
        {
            "phrase": "Den  teilautonomen Bus in der Fußgängerzone",
            "phrase_indefinite": "einen teilautonomen Bus in der Fußgängerzone",
            "phrase_en": "The semi-autonomous bus in the pedestrian zone",
        }
    )
    assert phrases["phrase"] == "den teilautonomen Bus in der Fußgängerzone"  # squashed, article in lower case
    agenda_domain.set_topic_phrases(event(), topic("bus-fussgaengerzone"), phrases)
    after = web.get(f"/api/v1/events/{SLUG}/board").json
    assert after["revision"] == before["revision"] + 1  # one live change: the board re-worded
    match = after["matches"][0]
    assert match["reasons"] == [
        "Kaiserslautern hat den teilautonomen Bus in der Fußgängerzone im Betrieb; Trier interessiert sich dafür."
    ]
    change = db.session.execute(select(Change).order_by(Change.revision.desc())).scalars().first()
    assert change.revision == after["revision"] and change.kind == "board.updated"
    # a topic the board does not show: its phrases change nothing live
    agenda_domain.set_topic_phrases(event(), topic("klar"), {"phrase": "das KLAR"})
    assert web.get(f"/api/v1/events/{SLUG}/board").json["revision"] == after["revision"]


def test_the_board_page_carries_the_sentences_and_explains_the_score(web, auth):
    kl = delegate(web, auth, "Kaiserslautern", {"park-app": "runs", "verwaltung": "interested"})
    delegate(web, auth, "Trier", {"park-app": "plans", "verwaltung": "interested"})
    html = web.get(f"/e/{SLUG}/board").get_data(as_text=True)
    # how points are counted, under "Wer passt zu wem"
    assert '<p id="score-rule" class="legend score-rule">Punkte je gemeinsames Thema: Betrieb trifft Planung 3' in html
    match = embedded(html)["board"]["matches"][0]
    assert (
        match["sentences"]["de"]
        == match["reasons"]
        == [
            "Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Trier plant eines.",
            "Kaiserslautern und Trier interessieren sich beide für das Thema „Verwaltung“.",
        ]
    )
    assert set(match["sentences"]) == set(match["score_text"]) == {"de", "en"}  # one snapshot for all readers
    assert match["score_text"]["de"] == (
        "3,5 Punkte: 3 für „Park App“ (Betrieb trifft Planung) und 0,5 für „Verwaltung“ (beide interessiert)"
    )
    assert "betreibt" not in json.dumps(embedded(html), ensure_ascii=False)  # the old "X betreibt Park App"
    page = web.get(f"/t/{kl}/board").get_data(as_text=True)
    suggestion = embedded(page, "delegate-page")["view"]["suggestions"][0]
    assert suggestion["city"] == "Trier" and suggestion["reasons"] == match["sentences"]["de"]
    assert suggestion["score_text"] == match["score_text"] and "Punkte je gemeinsames Thema" in page


def test_the_board_page_in_english(english, web, auth):
    delegate(web, auth, "Kaiserslautern", {"park-app": "runs"})
    delegate(web, auth, "Trier", {"park-app": "plans"})
    html = web.get(f"/e/{SLUG}/board?lang=en").get_data(as_text=True)
    assert "Points per shared topic: running meets planning 3, running meets interest 2.5" in html
    assert embedded(html, "i18n")["stage_runs"] == "running"
    match = embedded(html)["board"]["matches"][0]
    assert match["sentences"]["en"] == ["Kaiserslautern runs a project on “Park App”; Trier is planning one."]
    assert match["score_text"]["en"] == "3 points for “Park App” (running meets planning)"


def test_organisers_edit_the_phrases_on_the_setup_page(app):
    make_staff("orga", password="orga-pw-123", quick=True)
    admin = signed_in(app, "orga", "orga-pw-123")
    url = f"/staff/e/{SLUG}/setup"
    park = topic("park-app")
    page = admin.get(url).get_data(as_text=True)
    assert f'id="topic-{park.id}-phrases"' in page and "So nennt das Board das Thema" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = admin.post(
        f"{url}/topic/{park.id}/phrases",
        data={
            "csrf_token": token,
            "phrase": "Die Park App",
            "phrase_indefinite": "eine Park App",
            "phrase_en": "the Park App",
        },
    )
    assert r.status_code == 302 and r.location.endswith(f"#topic-{park.id}-phrases")
    db.session.expire_all()
    park = topic("park-app")
    assert (park.phrase, park.phrase_indefinite, park.phrase_en) == ("die Park App", "eine Park App", "the Park App")
    page = admin.get(url).get_data(as_text=True)
    assert 'value="die Park App"' in page and "eigene Formulierung" in page
    assert admin.post(f"{url}/topic/999999/phrases", data={"csrf_token": token}).status_code == 404


@pytest.fixture
def demo_board(tmp_path_factory, tmp_path):
    from tests.helpers import app_on_copy

    app = app_on_copy(prepared_database(tmp_path_factory.mktemp("board-demo"), board=True), tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_demo_board_reads_as_german_sentences(demo_board):
    from webapp.matchmaking.board import board_json

    board = board_json(event())
    said = {tuple(m["cities"]): m for m in board["matches"]}
    assert said[("Kaiserslautern", "Trier")]["reasons"][0] == (
        "Kaiserslautern hat die Park App im Betrieb; Trier plant eine."
    )
    assert (
        "Kaiserslautern hat den teilautonomen Bus in der Fußgängerzone im Betrieb; Trier interessiert sich dafür."
        in (said[("Kaiserslautern", "Trier")]["reasons"])
    )
    assert said[("Koblenz", "Ludwigshafen")]["reasons"][0] == (
        "Ludwigshafen hat ein Projekt zum Thema „Verwaltung“ im Betrieb; Koblenz plant eines."
    )
    for match in board["matches"]:
        assert len(match["reasons"]) == len(match["topics"]) == len(match["sentences"]["en"])
        for text in match["reasons"]:
            assert not GERMAN_VERBS.search(text) and "betreibt" not in text, text
        weights = [
            float(w.replace(",", ".")) for w in re.findall(r"(?:^|: |, | und )([\d,]+) für", match["score_text"]["de"])
        ]
        assert sum(weights or [match["score"]]) == pytest.approx(match["score"]), match["score_text"]["de"]
