"""Scores and reasons: who should meet whom, and why, in words people can check (the words: sentences.py)."""

from itertools import combinations

from . import sentences

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


def pair_weight(stage_a, stage_b):
    return PAIR_WEIGHTS[tuple(sorted((stage_a, stage_b), key=STAGE_ORDER.get))]


def match_graph(stages):
    """stages: {municipality name: {topic name: stage}} -> a networkx Graph whose edges carry `weight`,
    `cities` (a, b) in alphabetical order and `topics` [(topic, stage of a, stage of b)], strongest first;
    one edge per pair sharing a topic."""
    import networkx as nx  # on the first board built: a sixth of a second less for every restart

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
            cities=(a, b),
            topics=[(t, stages[a][t], stages[b][t]) for t in shared],
        )
    return graph


def _texts(edges, words):
    """The words of each edge (sentences.describe): reasons, sentences and score_text."""
    pairs = [(*d["cities"], [(t, sa, sb, pair_weight(sa, sb)) for t, sa, sb in d["topics"]]) for d in edges]
    return sentences.describe(pairs, words or {})


def matches(graph, words=None):
    """Every linked pair, strongest first: [{cities: [a, b], score, topics, reasons, sentences, score_text}].
    `words`: {topic name: sentences.TopicWords} (a topic missing there is named from its name)."""
    edges = sorted((d for _a, _b, d in graph.edges(data=True)), key=lambda d: (-d["weight"], d["cities"]))
    return [
        {
            "cities": list(d["cities"]),
            "score": round(d["weight"], 2),
            "topics": [t for t, _, _ in d["topics"]],
            **texts,
        }
        for d, texts in zip(edges, _texts(edges, words), strict=True)
    ]


def suggestions(graph, city, limit=5, words=None):
    """The best partners of one municipality, with reasons: [{city, score, reasons, sentences, score_text}]."""
    if city not in graph:
        return []
    ranked = sorted(graph[city].items(), key=lambda kv: (-kv[1]["weight"], kv[0]))[:limit]
    texts = _texts([d for _other, d in ranked], words)
    return [
        {"city": other, "score": round(d["weight"], 2), **said} for (other, d), said in zip(ranked, texts, strict=True)
    ]


def meeting_pairs(graph):
    """One best partner each, so that the total match weight is highest (maximum weight matching)."""
    import networkx as nx

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
