"""Placing meetings and topic tables into the networking slots: nobody in two places, one item per table,
heaviest first; a re-plan keeps every earlier placement that is still possible, so a late arrival or a
cancellation moves as little as possible."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    key: tuple  # stable identity across re-plans: (kind, topic, members)
    kind: str  # meeting | table
    topic: str
    members: frozenset
    weight: float
    promised: bool = False  # an accepted meeting: placed before any suggestion, even a kept one


def plan(slots, items, previous=None):
    """slots: [(session_id, number of tables)]; items: [Item]; previous: {key: (session_id, table)}.
    Returns {key: (session_id, table)} for the items that fit."""
    previous = previous or {}
    tables = dict(slots)
    busy = {session: set() for session in tables}  # municipalities seated per session
    used = {session: set() for session in tables}  # tables taken per session
    placed = {}

    def fits(item, session, table):
        return (
            session in tables
            and 0 <= table < tables[session]
            and table not in used[session]
            and not item.members & busy[session]
        )

    def seat(item, session, table):
        placed[item.key] = (session, table)
        busy[session] |= item.members
        used[session].add(table)

    def keep_then_place(group):
        for item in group:  # first keep what was planned before
            spot = previous.get(item.key)
            if spot and fits(item, *spot):
                seat(item, *spot)
        for item in group:  # then place the rest where they fit first
            if item.key in placed:
                continue
            for session, count in slots:
                free = next((t for t in range(count) if fits(item, session, t)), None)
                if free is not None:
                    seat(item, session, free)
                    break

    by_weight = sorted(items, key=lambda i: (-i.weight, i.key))
    keep_then_place([i for i in by_weight if i.promised])
    keep_then_place([i for i in by_weight if not i.promised])
    return placed


def moves(before, after):
    """How many items placed in both plans sit somewhere else now."""
    return sum(1 for key, spot in before.items() if key in after and after[key] != spot)


def double_bookings(placed, items):
    """Pairs that break the rules (for tests and a safety check): a municipality twice in one session."""
    members = {item.key: item.members for item in items}
    seen, clashes = {}, []
    for key, (session, _) in placed.items():
        for m in members[key]:
            if (session, m) in seen:
                clashes.append((seen[(session, m)], key))
            seen[(session, m)] = key
    return clashes
