"""Scores and reasons: who should meet whom, and why, in words people can check."""

from itertools import combinations

import networkx as nx

STAGE_ORDER = {"runs": 0, "plans": 1, "interested": 2}
# Directed: experience flows from a city that runs a project to one that plans or wants it. Two cities
# that are only interested learn least from each other.
PAIR_WEIGHTS = {
    ("runs", "plans"): 3.0,
    ("runs", "interested"): 2.5,
    ("plans", "plans"): 1.5,
    ("runs", "runs"): 1.5,
    ("plans", "interested"): 1.0,
    ("interested", "interested"): 0.5,
}
STAGE_WORDS = {"runs": "betreibt", "plans": "plant", "interested": "interessiert sich für"}


def pair_weight(stage_a, stage_b):
    return PAIR_WEIGHTS[tuple(sorted((stage_a, stage_b), key=STAGE_ORDER.get))]


def reason(topic, city_a, stage_a, city_b, stage_b):
    """'Kaiserslautern betreibt Park App; Trier plant Park App' — the more experienced city first."""
    (first, s1), (second, s2) = sorted([(city_a, stage_a), (city_b, stage_b)], key=lambda cs: STAGE_ORDER[cs[1]])
    return f"{first} {STAGE_WORDS[s1]} {topic}; {second} {STAGE_WORDS[s2]} {topic}"


def match_graph(stages):
    """stages: {municipality name: {topic name: stage}} -> a networkx Graph whose edges carry `weight`,
    `reasons` (sentences) and `topics` [(topic, stage_a, stage_b)], one edge per pair sharing a topic."""
    graph = nx.Graph()
    graph.add_nodes_from(stages)
    for a, b in combinations(sorted(stages), 2):
        shared = sorted(set(stages[a]) & set(stages[b]))
        if not shared:
            continue
        # Strongest topic first, so the first reason is the best one.
        shared.sort(key=lambda t: -pair_weight(stages[a][t], stages[b][t]))
        graph.add_edge(
            a,
            b,
            weight=sum(pair_weight(stages[a][t], stages[b][t]) for t in shared),
            reasons=[reason(t, a, stages[a][t], b, stages[b][t]) for t in shared],
            topics=[(t, stages[a][t], stages[b][t]) for t in shared],
        )
    return graph


def matches(graph):
    """Every linked pair, strongest first: [{cities: [a, b], score, reasons, topics}]."""
    edges = sorted(graph.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))
    return [
        {
            "cities": [a, b],
            "score": round(d["weight"], 2),
            "reasons": d["reasons"],
            "topics": [t for t, _, _ in d["topics"]],
        }
        for a, b, d in edges
    ]


def suggestions(graph, city, limit=5):
    """The best partners of one municipality, with reasons."""
    if city not in graph:
        return []
    ranked = sorted(graph[city].items(), key=lambda kv: (-kv[1]["weight"], kv[0]))[:limit]
    return [{"city": other, "score": round(d["weight"], 2), "reasons": d["reasons"]} for other, d in ranked]


def meeting_pairs(graph):
    """One best partner each, so that the total match weight is highest (maximum weight matching)."""
    return sorted(tuple(sorted(pair)) for pair in nx.max_weight_matching(graph, weight="weight"))


def topic_tables(stages, min_size=3, max_size=4):
    """Groups of 3–4 municipalities around one topic, each led by one that runs or plans it where
    possible. Returns [(topic, [cities], weight)], heaviest first."""
    tables = []
    by_topic = {}
    for city, topics in stages.items():
        for topic, stage in topics.items():
            by_topic.setdefault(topic, []).append((STAGE_ORDER[stage], city, stage))
    for topic, members in by_topic.items():
        if len(members) < min_size:
            continue
        members.sort()
        count = -(-len(members) // max_size)  # tables needed so none has more than max_size
        if len(members) // count < min_size:
            count = max(1, len(members) // min_size)
        groups = [[] for _ in range(count)]
        for i, member in enumerate(members):  # deal like cards: experienced ones spread over the tables
            groups[i % count].append(member)
        for group in groups:
            if len(group) < min_size:
                continue
            weight = sum(pair_weight(x[2], y[2]) for x, y in combinations(group, 2))
            tables.append((topic, sorted(c for _, c, _ in group), weight))
    tables.sort(key=lambda t: (-t[2], t[0], t[1]))
    return tables
