"""The board API: a delegate's interests by ticket token, consent, matches with reasons, live revisions,
meeting requests and the table plan."""

from sqlalchemy import select

from tests.helpers import SLUG
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.matchmaking.models import TableAssignment


def delegate(client, auth, name, city):
    r = client.post(f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city}, headers=auth)
    return r.json["token"]


def put(client, token, stage_by_topic, consent=True, **extra):
    return client.put(
        f"/api/v1/t/{token}/interests",
        json={"consent": consent, "interests": [{"topic": t, "stage": s} for t, s in stage_by_topic.items()], **extra},
    )


def board(client):
    return client.get(f"/api/v1/events/{SLUG}/board").json


def test_a_match_with_reasons_appears_for_two_consenting_delegates(client, auth):
    kl, trier = delegate(client, auth, "A", "Kaiserslautern"), delegate(client, auth, "B", "Trier")
    assert put(client, kl, {"park-app": "runs"}).status_code == 200
    assert put(client, trier, {"park-app": "plans"}).status_code == 200
    b = board(client)
    match = next(m for m in b["matches"] if set(m["cities"]) == {"Kaiserslautern", "Trier"})
    assert match["score"] == 3.0
    # the demo topics carry no phrases here: the derived wording (tests/matchmaking/test_sentences.py)
    assert match["reasons"] == ["Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Trier plant eines."]
    assert match["sentences"]["de"] == match["reasons"] and len(match["sentences"]["en"]) == 1
    assert match["score_text"]["de"] == "3 Punkte für „Park App“ (Betrieb trifft Planung)"
    park = next(t for t in b["topics"] if t["slug"] == "park-app")
    assert park["cities"] == [{"city": "Kaiserslautern", "stage": "runs"}, {"city": "Trier", "stage": "plans"}]


def test_no_board_entry_without_consent_and_taking_it_back(client, auth):
    kl, trier = delegate(client, auth, "A", "Kaiserslautern"), delegate(client, auth, "B", "Trier")
    put(client, kl, {"park-app": "runs"})
    put(client, trier, {"park-app": "plans"}, consent=False)
    assert "Trier" not in str(board(client))
    put(client, trier, {"park-app": "plans"}, consent=True)
    assert "Trier" in str(board(client))
    put(client, trier, {"park-app": "plans"}, consent=False)  # the latest answer counts
    assert "Trier" not in str(board(client))


def test_each_board_change_is_one_revision_and_reaches_live_clients(client, auth, socket_client):
    kl = delegate(client, auth, "A", "Kaiserslautern")
    live = socket_client(since=0)
    live.get_received("/live")
    put(client, kl, {"park-app": "runs"})
    changes = [m["args"][0] for m in live.get_received("/live") if m["name"] == "change"]
    assert [c["revision"] for c in changes] == [1] and changes[0]["kind"] == "board.updated"
    assert changes[0]["replace"]["board"]["topics"]
    put(client, kl, {"park-app": "runs"})  # the same again changes nothing
    assert board(client)["revision"] == 1


def test_bad_interest_bodies_are_refused_and_change_nothing(client, auth):
    token = delegate(client, auth, "A", "Kaiserslautern")
    for body in (
        {},
        {"consent": "yes"},
        {"consent": True, "interests": "x"},
        {"consent": True, "interests": [{"topic": "nope", "stage": "runs"}]},
        {"consent": True, "interests": [{"topic": "park-app", "stage": "maybe"}]},
        {"consent": True, "interests": [{"topic": "park-app", "stage": "runs"}] * 2},
        {"consent": True, "interests": [{"topic": "park-app", "stage": "runs", "note": "x" * 201}]},
        {"consent": True, "extra": 1},
    ):
        r = client.put(f"/api/v1/t/{token}/interests", json=body)
        assert 400 <= r.status_code < 500 and r.json["error"]["message"], body
    assert board(client)["revision"] == 0 and board(client)["municipalities"] == []
    assert client.put("/api/v1/t/not-a-token/interests", json={"consent": True, "interests": []}).status_code == 404
    other = delegate(client, auth, "C", "Kusel")  # not one of the event's municipalities
    assert put(client, other, {"park-app": "runs"}).status_code == 409


def test_meeting_request_accepted_is_planned_without_double_booking(client, auth):
    kl, trier, mayen = (
        delegate(client, auth, n, c) for n, c in (("A", "Kaiserslautern"), ("B", "Trier"), ("C", "Mayen"))
    )
    put(client, kl, {"park-app": "runs", "bildung": "runs"})
    put(client, trier, {"park-app": "plans", "bildung": "interested"})
    put(client, mayen, {"bildung": "interested"})
    r = client.post(f"/api/v1/t/{trier}/meetings", json={"with": "kaiserslautern", "topic": "park-app"})
    assert r.status_code == 201
    request_id = r.json["id"]
    assert client.post(f"/api/v1/t/{trier}/meetings/{request_id}", json={"accept": True}).status_code == 403
    r = client.post(f"/api/v1/t/{kl}/meetings/{request_id}", json={"accept": True})
    assert r.status_code == 200 and r.json["status"] == "accepted"
    plan = r.json["plan"]
    assert any(t["kind"] == "meeting" and set(t["cities"]) == {"Kaiserslautern", "Trier"} for t in plan)
    rows = db.session.execute(select(TableAssignment)).scalars().all()
    seen = set()
    for row in rows:
        for member in row.members:
            assert (row.session_id, member) not in seen
            seen.add((row.session_id, member))
    assert len({(r.session_id, r.table) for r in rows}) == len(rows)
    table = next(t for t in board(client)["tables"] if t["topic"] == "Bildung" and t["kind"] == "table")
    assert set(table["cities"]) == {"Kaiserslautern", "Trier", "Mayen"}


def test_staff_can_edit_any_municipality(client, auth):
    r = client.put(
        f"/api/v1/events/{SLUG}/municipalities/koblenz/interests",
        headers=auth,
        json={"consent": True, "interests": [{"topic": "klar", "stage": "runs"}]},
    )
    assert r.status_code == 200 and r.json["revision"] == 1
    assert (
        client.put(
            f"/api/v1/events/{SLUG}/municipalities/koblenz/interests", json={"consent": True, "interests": []}
        ).status_code
        == 401
    )
    assert db.session.execute(select(Event.revision)).scalar_one() == 1


def test_a_cancellation_replans_and_keeps_the_other_tables(client, auth):
    tokens = {
        c: delegate(client, auth, f"Delegation {c}", c)
        for c in ("Kaiserslautern", "Trier", "Mayen", "Koblenz", "Pirmasens")
    }
    put(client, tokens["Kaiserslautern"], {"park-app": "runs", "bildung": "runs"})
    put(client, tokens["Trier"], {"park-app": "plans"})
    put(client, tokens["Mayen"], {"bildung": "interested"})
    put(client, tokens["Koblenz"], {"bildung": "plans"})
    put(client, tokens["Pirmasens"], {"klar": "runs"})
    before = {
        (t["kind"], t["topic"], tuple(t["cities"])): (t["session_id"], t["table"]) for t in board(client)["tables"]
    }
    assert any("Mayen" in key[2] for key in before)
    guests = client.get(f"/api/v1/events/{SLUG}/guests?q=Delegation Mayen", headers=auth).json["guests"]
    rev = board(client)["revision"]
    client.patch(f"/api/v1/events/{SLUG}/guests/{guests[0]['id']}", json={"status": "cancelled"}, headers=auth)
    after_board = board(client)
    assert after_board["revision"] == rev + 1  # the plan changed: one revision
    after = {(t["kind"], t["topic"], tuple(t["cities"])): (t["session_id"], t["table"]) for t in after_board["tables"]}
    assert not any("Mayen" in key[2] for key in after)
    kept = [key for key in before if key in after]
    assert kept and all(after[key] == before[key] for key in kept)  # nothing that still fits moved


def test_a_replayed_change_honours_todays_consent(client, auth, socket_client):
    """A client catching up after a municipality withdrew its consent is not replayed the board as it was
    then (with the note and the contact person): replayed board changes carry today's board only."""
    start = board(client)["revision"]
    r = client.post(
        f"/api/v1/events/{SLUG}/guests",
        headers=auth,
        json={"name": "Erika Kontakt", "city": "Trier", "consent_contact": True},
    )
    token = r.json["token"]
    assert (
        client.put(
            f"/api/v1/t/{token}/interests",
            json={
                "consent": True,
                "contact": True,
                "interests": [{"topic": "park-app", "stage": "plans", "note": "Vertrauliche Notiz"}],
            },
        ).status_code
        == 200
    )
    assert "Vertrauliche Notiz" in str(board(client)) and "Erika Kontakt" in str(board(client))
    put(client, token, {"park-app": "plans"}, consent=False)
    late = socket_client(since=start)
    received = late.get_received("/live")
    changes = [m["args"][0] for m in received if m["name"] == "change"]
    assert [c["revision"] for c in changes] == list(range(start + 1, board(client)["revision"] + 1))
    everything = str(received)
    assert "Vertrauliche Notiz" not in everything and "Erika Kontakt" not in everything
    boards = [c["replace"]["board"] for c in changes if c.get("replace", {}).get("board")]
    assert len(boards) == 1 and "Trier" not in str(boards[0]["topics"])
