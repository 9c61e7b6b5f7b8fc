"""Revisions: every live change of an event bumps `event.revision` by exactly one, in the transaction that
makes the change, and leaves one row in the change log. Messages go out only after that commit."""

import time
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from ..core.extensions import db
from ..core.models import Event
from .broadcast import mark_stats_dirty, send_changes
from .models import Change

_PENDING = "live_pending"
_STATS = "live_stats"
_snapshot_parts = []


def record_change(event, kind, summary, payload, actor="", details=None):
    """Bump the revision and log the change; call inside the transaction that makes the change.

    `summary`: the German sentence the live `change` message carries; `details`: the change's typed facts
    (small, JSON), from which the change log is written in the reader's language (live/change_texts.py).

    The UPDATE ... RETURNING takes the row's write lock (PostgreSQL) or the database write lock (SQLite),
    so two writers of the same event get consecutive revisions, never the same one."""
    revision = db.session.execute(
        update(Event).where(Event.id == event.id).values(revision=Event.revision + 1).returning(Event.revision),
        execution_options={"synchronize_session": False},  # the expire below is all the session needs
    ).scalar_one()
    db.session.expire(event, ["revision"])
    change = Change(
        event_id=event.id,
        revision=revision,
        kind=kind,
        summary=summary[:500],
        actor=actor[:120],
        payload=payload,
        details=details,
        created_at=datetime.now(timezone.utc),
    )
    db.session.add(change)
    db.session.info.setdefault(_PENDING, []).append((event.slug, change_message(change)))
    return change


def touch_stats(event):
    """Counters of this event changed in the current transaction: after commit, one coalesced `stats`
    message goes out (not a revision: counters are not part of the replayable change log)."""
    db.session.info.setdefault(_STATS, set()).add(event.slug)


def change_message(change):
    """The `change` message as clients get it, live or when catching up."""
    return {
        "revision": change.revision,
        "kind": change.kind,
        "summary": change.summary,
        "at": change.created_at.isoformat(),
        **change.payload,
    }


def current_revision(event_id):
    return db.session.execute(select(Event.revision).where(Event.id == event_id)).scalar_one()


def register_snapshot_part(build):
    """Areas add their part of the full state: build(event) -> dict merged into the snapshot (called by each
    area's init_app; the same part once however many apps a process makes)."""
    if build not in _snapshot_parts:
        _snapshot_parts.append(build)


_snapshots = {}  # event id -> (revision, monotonic time built, state)


def snapshot(event):
    """The full live state at (at least) the returned revision. The revision is read first: a change that
    lands while the parts are read makes the content newer, never older, and its `change` message
    re-applies the same state.

    Built once per revision and shared (callers must not change it): after a Wi-Fi drop thousands of
    phones reconnect within seconds, and a flood of `sync` messages must not cost a build each. Every
    change bumps the revision, in whichever process it is made, so a cached state is never older than
    its revision says; LIVE_SNAPSHOT_SECONDS bounds how long a state is kept for what changes without a
    revision (an announcement reaching its expiry time)."""
    revision = current_revision(event.id)
    ttl = current_app.config.get("LIVE_SNAPSHOT_SECONDS", 0)
    now = time.monotonic()
    cached = _snapshots.get(event.id)
    if ttl > 0 and cached is not None and cached[0] == revision and now - cached[1] < ttl:
        return cached[2]
    state = {"revision": revision}
    for build in _snapshot_parts:
        state.update(build(event))
    if ttl > 0:
        _snapshots[event.id] = (revision, now, state)
    return state


def replay_messages(event_id, rows):
    """The `change` messages of a catch-up. A change that replaced a whole part of the state (`replace`:
    {part: …}, e.g. the board) is replayed with that part as it is NOW, not as it was: what was public then
    may not be now (a municipality that withdrew its consent, a deleted contact person). Only the last such
    change carries the part; it leaves the client at today's state, which is where the catch-up ends."""
    messages = [change_message(change) for change in rows]
    last = {}
    for i, message in enumerate(messages):
        for part in message.get("replace") or {}:
            last[part] = i
    if last:
        state = snapshot(db.session.get(Event, event_id))
        for i, message in enumerate(messages):
            if "replace" in message:
                message["replace"] = {
                    part: state[part] for part in message["replace"] if last[part] == i and part in state
                }
    return messages


_catch_ups = {}  # event id -> (head revision, monotonic time, {since: `change` messages or None})


def missed_messages(event_id, since, limit, current):
    """The `change` messages a client at `since` missed up to `current` (the event's revision just read),
    or None if it needs a snapshot instead (see changes_since).

    Shared per (event, since, head) as the snapshot is shared per revision, under the same
    LIVE_SNAPSHOT_SECONDS (callers must not change them): after a Wi-Fi drop thousands of phones come back
    at the same revision, one change behind, and would each read the same rows. The log's rows never
    change; what a replay carries beside them is the current state of a replaced part, as fresh as the
    snapshot it comes from."""
    ttl = current_app.config.get("LIVE_SNAPSHOT_SECONDS", 0)
    if not _replayable(since, current, limit):
        return None  # no query needed to say so, and nothing kept for whatever number a client sends
    if ttl <= 0:
        rows = changes_since(event_id, since, limit, current=current)
        return None if rows is None else replay_messages(event_id, rows)
    now = time.monotonic()
    head, built, answers = _catch_ups.get(event_id, (None, 0.0, None))
    if head != current or now - built >= ttl:
        answers = {}  # one head per event: at most `limit` + 1 answers kept
        _catch_ups[event_id] = (current, now, answers)

    if since not in answers:
        rows = changes_since(event_id, since, limit, current=current)
        answers[since] = None if rows is None else replay_messages(event_id, rows)
    return answers[since]


def _replayable(since, current, limit):
    return since is not None and 0 <= since <= current and current - since <= limit


def changes_since(event_id, since, limit, current=None):
    """The changes after `since`, in order, or None if more than `limit` or if any is missing. `current`:
    the event's revision if the caller has just read it (saves the query)."""
    if current is None:
        current = current_revision(event_id)
    if not _replayable(since, current, limit):
        return None
    if since == current:
        return []
    rows = (
        db.session.execute(
            select(Change).where(Change.event_id == event_id, Change.revision > since).order_by(Change.revision)
        )
        .scalars()
        .all()
    )
    if [c.revision for c in rows] != list(range(since + 1, current + 1)):
        return None
    return rows


def _broadcast_after_commit(session):
    pending = session.info.pop(_PENDING, None)
    stats = session.info.pop(_STATS, None)
    if pending or stats:
        if pending:
            send_changes(pending)
        if stats:
            mark_stats_dirty(stats)


def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)
    session.info.pop(_STATS, None)


def install_listeners():
    """Messages go out after the commit that made the change, and are forgotten on rollback. Once per
    process (the listeners are on the Session class)."""
    for name, listener in (("after_commit", _broadcast_after_commit), ("after_rollback", _forget_after_rollback)):
        if not sa_event.contains(OrmSession, name, listener):
            sa_event.listen(OrmSession, name, listener)
