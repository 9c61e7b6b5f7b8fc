"""The matchmaking pages: the public board and its projector view (German and English, the live snapshot
embedded), consent (a municipality that did not agree appears nowhere in the page), a delegate's own page
(404 for unknown tickets, never cached, no referrer) and the printable plan."""

import json
import re

import pytest

from tests.helpers import SLUG

BOARD = f"/e/{SLUG}/board"
SCREEN = f"/e/{SLUG}/board/screen"


def delegate(web, auth, name, city, **extra):
    r = web.post(f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city, **extra}, headers=auth)
    assert r.status_code == 201, r.json
    return r.json["token"]


def put(web, token, stages, consent=True, **extra):
    r = web.put(
        f"/api/v1/t/{token}/interests",
        json={"consent": consent, "interests": [{"topic": t, "stage": s} for t, s in stages.items()], **extra},
    )
    assert r.status_code == 200, r.json
    return r.json


def embedded(html, element_id="live-state"):
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no #{element_id} in the page"
    return json.loads(match.group(1))


@pytest.mark.parametrize("url", [BOARD, SCREEN])
def test_public_pages_render_in_german_and_english(web, url):
    de = web.get(url)
    assert de.status_code == 200
    html = de.get_data(as_text=True)
    assert '<html lang="de">' in html and "Matchmaking-Board" in html
    assert "Demo-Daten: Interessen und Tische sind erfunden" in html  # the demo event says so
    strings = embedded(html, "i18n")
    assert strings["stage_runs"] == "im Betrieb" and strings["score_one"] == "{score} Punkt"
    assert not any(key.startswith("reason_") for key in strings)  # the sentences come with the board
    en = web.get(url + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "Demo data: interests and tables are invented" in en
    strings = embedded(en, "i18n")
    assert strings["stage_interested"] == "interested" and strings["score"] == "{score} points"
    assert embedded(en)["board"] == embedded(html)["board"]  # the data itself is not translated


def test_no_inline_script_or_style_and_nothing_from_elsewhere(web, auth):
    token = delegate(web, auth, "Anna", "Trier")
    for url in (BOARD, SCREEN, f"/t/{token}/board", f"/t/{token}/plan"):
        html = web.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*(type=\"application/json\"|src=\"/static/))", html), url
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"(src|href)=\"(https?:)?//", html), url


def test_board_page_shows_a_match_after_two_puts(web, auth):
    kl, trier = delegate(web, auth, "A", "Kaiserslautern"), delegate(web, auth, "B", "Trier")
    assert embedded(web.get(BOARD).get_data(as_text=True))["board"]["matches"] == []
    put(web, kl, {"park-app": "runs"})
    put(web, trier, {"park-app": "plans"})
    for url in (BOARD, SCREEN):
        state = embedded(web.get(url).get_data(as_text=True))
        assert state["revision"] == 2
        match = state["board"]["matches"][0]
        assert match["cities"] == ["Kaiserslautern", "Trier"]
        assert match["reasons"] == [
            "Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Trier plant eines."
        ]
        assert {m["name"] for m in state["board"]["municipalities"]} == {"Kaiserslautern", "Trier"}


def test_a_municipality_without_consent_appears_nowhere_in_the_pages(web, auth):
    kl = delegate(web, auth, "A", "Kaiserslautern")
    trier = delegate(web, auth, "Bernd Beispiel", "Trier", consent_contact=True)
    put(web, kl, {"park-app": "runs"})
    put(web, trier, {"park-app": "plans"}, consent=False, contact=True)
    for url in (BOARD, SCREEN, BOARD + "?lang=en"):
        html = web.get(url).get_data(as_text=True)
        assert "Kaiserslautern" in embedded(html)["board"]["municipalities"][0]["name"]
        assert "Trier" not in html and '"trier"' not in html and "Bernd Beispiel" not in html, url
    put(web, trier, {"park-app": "plans"}, consent=True, contact=True)
    html = web.get(BOARD).get_data(as_text=True)
    assert "Trier" in html
    park = next(t for t in embedded(html)["board"]["topics"] if t["slug"] == "park-app")
    assert {"city": "Trier", "stage": "plans", "contact": "Bernd Beispiel"} in park["cities"]


def test_delegate_page_is_private_and_404_for_unknown_tickets(web, auth):
    for url in ("/t/" + "x" * 43 + "/board", "/t/short/board", "/t/" + "x" * 43 + "/plan"):
        r = web.get(url)
        assert r.status_code == 404, url
        assert r.headers["Cache-Control"] == "private, no-store"
    token = delegate(web, auth, "Anna", "Trier")
    for url in (f"/t/{token}/board", f"/t/{token}/plan"):
        r = web.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "private, no-store"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    cancelled = delegate(web, auth, "Carl", "Mayen")
    guest_id = web.get(f"/api/v1/events/{SLUG}/guests?q=Carl", headers=auth).json["guests"][0]["id"]
    assert (
        web.patch(f"/api/v1/events/{SLUG}/guests/{guest_id}", json={"status": "cancelled"}, headers=auth).status_code
        == 200
    )
    assert web.get(f"/t/{cancelled}/board").status_code == 404
    elsewhere = delegate(web, auth, "Dora", "Kusel")  # not one of the event's municipalities
    r = web.get(f"/t/{elsewhere}/board")
    assert r.status_code == 409 and "Kusel" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "private, no-store"


def test_delegate_page_shows_the_saved_answers_and_the_ticket_links_to_it(web, auth):
    token = delegate(web, auth, "Anna", "Trier")
    html = web.get(f"/t/{token}").get_data(as_text=True)
    assert f'href="/t/{token}/board"' in html and "Interessen und Treffen unserer Kommune" in html
    put(web, token, {"park-app": "plans"})
    html = web.get(f"/t/{token}/board").get_data(as_text=True)
    assert "Unsere Kommune erscheint auf dem öffentlichen Board" in html
    assert re.search(r'id="consent" name="consent" checked', html)
    assert re.search(r'id="st-park-app-plans" name="stage-park-app" value="plans"\s+checked', html)
    assert re.search(r'id="st-klar-none" name="stage-klar" value=""\s+checked', html)
    # Contact: this guest did not agree at registration, so the page says the switch has no effect.
    assert re.search(r'id="contact" name="contact" disabled', html)
    page = embedded(html, "delegate-page")
    assert page["municipality"] == "Trier" and page["view"]["consent"] is True
    assert page["token"] == token
    en = web.get(f"/t/{token}/board?lang=en").get_data(as_text=True)
    assert "Our municipality appears on the public board" in en


def test_printable_plan_lists_the_municipalitys_tables(web, auth):
    kl, trier, mayen, koblenz = (
        delegate(web, auth, n, c)
        for n, c in (("A", "Kaiserslautern"), ("B", "Trier"), ("C", "Mayen"), ("D", "Koblenz"))
    )
    put(web, kl, {"bildung": "runs", "park-app": "runs"})
    put(web, trier, {"bildung": "interested", "park-app": "plans"})
    put(web, mayen, {"bildung": "plans"})
    put(web, koblenz, {"klar": "runs"})
    plan = web.get(f"/api/v1/t/{trier}/interests").json["plan"]
    assert plan, "Trier should have a table"
    html = web.get(f"/t/{trier}/plan").get_data(as_text=True)
    assert "Plan für Trier" in html
    rows = re.findall(r"<tr class=\"kind-(\w+)\">(.*?)</tr>", html, re.S)
    assert len(rows) == len(plan)
    for item, (kind, row) in zip(sorted(plan, key=lambda p: (p["start"], p["table"])), rows):
        assert kind == item["kind"]
        assert f"Tisch {item['table']}" in row and item["topic"] in row
        assert item["start"][11:16] + " Uhr" in row
        partners = [c for c in item["cities"] if c != "Trier"]
        assert ", ".join(partners) in row
    assert "Koblenz" not in html  # Koblenz shares no topic with Trier: none of Trier's tables
    assert "@media print" in web.get("/static/css/board.css").get_data(as_text=True)
    nothing = delegate(web, auth, "E", "Pirmasens")
    assert "Für Ihre Kommune ist noch kein Tisch geplant." in web.get(f"/t/{nothing}/plan").get_data(as_text=True)
