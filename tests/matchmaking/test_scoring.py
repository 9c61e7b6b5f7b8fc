"""Scores, reasons and the planner on small cases checked by hand."""

from webapp.matchmaking import planner, scoring
from webapp.matchmaking.planner import Item


def test_runs_with_plans_beats_two_that_are_only_interested():
    graph = scoring.match_graph(
        {
            "Kaiserslautern": {"Park App": "runs"},
            "Trier": {"Park App": "plans"},
            "Mayen": {"Park App": "interested"},
            "Koblenz": {"Park App": "interested"},
        }
    )
    assert graph["Kaiserslautern"]["Trier"]["weight"] == 3.0
    assert graph["Kaiserslautern"]["Mayen"]["weight"] == 2.5
    assert graph["Mayen"]["Koblenz"]["weight"] == 0.5
    assert graph["Kaiserslautern"]["Trier"]["topics"] == [("Park App", "runs", "plans")]
    # the experienced city is named first whichever way round the pair is stored
    said = {tuple(m["cities"]): m["reasons"] for m in scoring.matches(graph)}
    assert said[("Kaiserslautern", "Mayen")] == [
        "Kaiserslautern hat ein Projekt zum Thema „Park App“ im Betrieb; Mayen interessiert sich dafür."
    ]
    top = scoring.matches(graph)[0]
    assert top["cities"] == ["Kaiserslautern", "Trier"] and top["score"] == 3.0


def test_scores_add_up_over_shared_topics_and_strongest_reason_comes_first():
    graph = scoring.match_graph(
        {
            "A": {"WLAN": "interested", "Drohnen": "runs", "KLAR": "plans"},
            "B": {"WLAN": "interested", "Drohnen": "plans"},
        }
    )
    edge = graph["A"]["B"]
    assert edge["weight"] == 3.5
    assert [t for t, _, _ in edge["topics"]] == ["Drohnen", "WLAN"]  # KLAR is not shared; strongest first
    assert scoring.matches(graph)[0]["reasons"][0] == "A hat ein Projekt zum Thema „Drohnen“ im Betrieb; B plant eines."


def test_no_shared_topic_no_link_and_suggestions_rank_partners():
    graph = scoring.match_graph({"A": {"X": "runs"}, "B": {"Y": "runs"}, "C": {"X": "plans"}, "D": {"X": "interested"}})
    assert not graph.has_edge("A", "B")
    assert [s["city"] for s in scoring.suggestions(graph, "A")] == ["C", "D"]
    assert scoring.suggestions(graph, "B") == []


def test_meeting_pairs_maximise_total_weight():
    graph = scoring.match_graph(
        {"A": {"X": "runs"}, "B": {"X": "plans"}, "C": {"X": "plans"}, "D": {"X": "interested"}}
    )
    pairs = scoring.meeting_pairs(graph)
    assert len(pairs) == 2 and all(len(set(p)) == 2 for p in pairs)
    assert sum(graph[a][b]["weight"] for a, b in pairs) == 3.0 + 1.0  # A–B/A–C 3.0 + other–D 1.0


def test_topic_tables_have_three_or_four_with_a_runner_each():
    stages = {c: {"Bildung": "interested"} for c in "ABCDEFG"}
    stages["A"]["Bildung"] = "runs"
    stages["B"]["Bildung"] = "runs"
    tables = scoring.topic_tables(stages)
    sizes = sorted(len(cities) for _, cities, _ in tables)
    assert sizes == [3, 4]
    assert all({"A", "B"} & set(cities) for _, cities, _ in tables)
    assert scoring.topic_tables({"A": {"X": "runs"}, "B": {"X": "plans"}}) == []


def item(name, members, weight):
    return Item(("meeting", name, tuple(sorted(members))), "meeting", name, frozenset(members), weight)


def test_planner_never_double_books_a_municipality_or_a_table():
    items = [
        item(f"t{i}", {a, b}, 10 - i)
        for i, (a, b) in enumerate([(1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (1, 5), (2, 4), (5, 6), (6, 1)])
    ]
    slots = [(100, 2), (200, 2)]
    placed = planner.plan(slots, items)
    assert planner.double_bookings(placed, items) == []
    assert len(set(placed.values())) == len(placed)  # one item per table
    assert all(table < 2 for _, table in placed.values())
    assert placed[items[0].key] == (100, 0)  # heaviest first


def test_replan_after_a_late_arrival_moves_fewer_than_planning_from_scratch():
    items = [item("a", {1, 2}, 5), item("b", {3, 4}, 4), item("c", {5, 6}, 3), item("d", {1, 3}, 2)]
    slots = [(100, 2), (200, 2)]
    before = planner.plan(slots, items)
    late = items + [item("late", {7, 1}, 9), item("late2", {7, 3}, 8)]  # a city arrives late, strong matches
    replanned = planner.plan(slots, late, previous=before)
    scratch = planner.plan(slots, late)
    assert planner.double_bookings(replanned, late) == []
    assert planner.moves(before, replanned) < planner.moves(before, scratch)
    assert planner.moves(before, replanned) == 0


def test_an_accepted_meeting_gets_a_table_even_if_kept_suggestions_hold_its_members():
    table = Item(("table", "T", (1, 2, 3)), "table", "T", frozenset({1, 2, 3}), 4.0)
    slots = [(100, 1)]
    before = planner.plan(slots, [table])
    promised = Item(("meeting", "M", (1, 2)), "meeting", "M", frozenset({1, 2}), 13.0, promised=True)
    after = planner.plan(slots, [table, promised], previous=before)
    assert promised.key in after and table.key not in after
