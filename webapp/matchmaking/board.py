"""Board logic: interests in and out, the public board, meeting requests and the table plan. Every change
of what the board shows is one live revision (webapp.live)."""

from datetime import datetime, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..agenda.domain import expected_start
from ..agenda.models import Session, Topic
from ..checkin.guests import invite_matches
from ..checkin.models import Guest
from ..core.errors import DomainError, not_found
from ..core.events import local_iso
from ..core.extensions import db
from ..core.models import Municipality
from ..core.validation import boolean, field_label, of_event, refuse_unknown, require
from ..live import record_change
from . import planner, scoring, sentences
from .models import STAGES, Interest, MeetingRequest, TableAssignment

MAX_INTERESTS = 60
MEETING_BONUS = 10.0  # an accepted meeting request outweighs any suggestion

# A stage as a person reads it (the delegate page's words).
STAGE_LABELS = {"runs": _l("im Betrieb"), "plans": _l("in Planung"), "interested": _l("interessiert")}


# ---- reading -------------------------------------------------------------------------------------


def visible_stages(event):
    """{municipality name: {topic name: stage}} of the municipalities that agreed to be on the board."""
    rows = db.session.execute(
        select(Municipality.name, Topic.name, Interest.stage)
        .join(Interest, Interest.municipality_id == Municipality.id)
        .join(Topic, Topic.id == Interest.topic_id)
        .where(Interest.event_id == event.id, Municipality.board_consent.is_(True))
    ).all()
    stages = {m.name: {} for m in event.municipalities if m.board_consent}
    for city, topic, stage in rows:
        stages[city][topic] = stage
    return stages


def board_json(event):
    """The public board: only municipalities whose delegate agreed; no person's name unless that person
    agreed to be a contact."""
    stages = visible_stages(event)
    graph = scoring.match_graph(stages)
    visible = [m for m in event.municipalities if m.board_consent]
    interests = db.session.execute(select(Interest).where(Interest.event_id == event.id)).scalars().all()
    details = {(i.municipality_id, i.topic_id): i for i in interests}
    topics = []
    for topic in event.topics:
        cities = []
        for m in visible:
            interest = details.get((m.id, topic.id))
            if interest is None:
                continue
            entry = {"city": m.name, "stage": interest.stage}
            if interest.note:
                entry["note"] = interest.note
            if interest.contact is not None and interest.contact.consent_contact:
                entry["contact"] = interest.contact.name
            cities.append(entry)
        cities.sort(key=lambda c: (scoring.STAGE_ORDER[c["stage"]], c["city"]))
        topics.append({"slug": topic.slug, "name": topic.name, "cities": cities})
    return {
        "municipalities": [
            {"name": m.name, "slug": m.slug, "is_host": m.is_host, "lat": m.latitude, "lon": m.longitude}
            for m in visible
        ],
        "topics": topics,
        "matches": scoring.matches(graph, sentences.words_of(event.topics)),
        "tables": plan_json(event),
    }


def board_part(event):
    return {"board": board_json(event)}


def plan_json(event):
    rows = (
        db.session.execute(
            select(TableAssignment)
            .where(TableAssignment.event_id == event.id)
            .order_by(TableAssignment.session_id, TableAssignment.table)
        )
        .scalars()
        .all()
    )
    names = {m.id: m.name for m in event.municipalities}
    tz = event.timezone
    return [
        {
            "session_id": r.session_id,
            "session": r.session.title,
            "start": local_iso(expected_start(r.session), tz),
            "table": r.table + 1,
            "kind": r.kind,
            "topic": r.topic.name,
            "cities": sorted(names[i] for i in r.members if i in names),
        }
        for r in rows
    ]


def municipality_plan(event, municipality):
    """One municipality's own plan, for its delegates' page and printout."""
    return [t for t in plan_json(event) if municipality.name in t["cities"]]


# ---- interests from a delegate -------------------------------------------------------------------


def parse_interests(event, data):
    refuse_unknown(data, {"consent", "interests", "contact"})
    require(data, ["consent"])
    consent = boolean(data, "consent")
    items = data.get("interests", [])
    if not isinstance(items, list) or len(items) > MAX_INTERESTS:
        raise DomainError(
            "invalid",
            _(
                "„%(field)s“ muss eine Liste mit höchstens %(max)d Einträgen sein.",
                field=field_label("interests"),
                max=MAX_INTERESTS,
            ),
            field="interests",
        )
    topics = {t.slug: t for t in event.topics}
    clean = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) - {"topic", "stage", "note"}:
            raise DomainError(
                "invalid", _("Eintrag %(n)d: erwartet werden ein Thema, ein Stand und auf Wunsch eine Notiz.", n=n)
            )
        topic = topics.get(item.get("topic"))
        if topic is None:
            raise DomainError(
                "unknown_topic",
                _(
                    "Eintrag %(n)d: Dieses Thema gibt es nicht. Themen: %(topics)s",
                    n=n,
                    topics=", ".join(t.name for t in event.topics),
                ),
                field="topic",
                choices=sorted(topics),
            )
        if item.get("stage") not in STAGES:
            raise DomainError(
                "invalid",
                _(
                    "Eintrag %(n)d: Der Stand muss einer dieser Werte sein: %(choices)s",
                    n=n,
                    choices=", ".join(str(STAGE_LABELS[s]) for s in STAGES),
                ),
                field="stage",
                choices=list(STAGES),
            )
        note = item.get("note", "")
        if not isinstance(note, str) or len(note) > 200:
            raise DomainError(
                "invalid",
                _("Eintrag %(n)d: Die Notiz muss ein Text von höchstens 200 Zeichen sein.", n=n),
                field="note",
            )
        if topic.id in clean:
            raise DomainError(
                "invalid",
                _("Eintrag %(n)d: Das Thema „%(topic)s“ steht schon weiter oben.", n=n, topic=topic.name),
                field="topic",
            )
        clean[topic.id] = (item["stage"], " ".join(note.split()))
    contact = boolean(data, "contact") if "contact" in data else False
    return consent, clean, contact


def _conflict(municipality):
    return DomainError(
        "conflict",
        _(
            "Jemand anderes aus Ihrer Kommune hat die Angaben inzwischen geändert. Ihre "
            "Eingaben sind noch nicht gespeichert: Speichern Sie noch einmal, um den neuen "
            "Stand zu ersetzen, oder laden Sie die Seite neu, um ihn zu sehen."
        ),
        409,
        version=municipality.answers_version,
    )


def _answers(municipality):
    """A municipality's board answers as one comparable value."""
    rows = db.session.execute(select(Interest).where(Interest.municipality_id == municipality.id)).scalars()
    return municipality.board_consent, sorted((i.topic_id, i.stage, i.note, i.contact_guest_id) for i in rows)


def set_interests(event, municipality, consent, interests, contact_guest=None, actor="", version=None):
    """Replace a municipality's interests and its board consent; one revision if anything the board shows
    changed (then the table plan is re-planned in the same transaction). Commits.

    `version` is the municipality's answers_version the delegate saw; if another delegate saved since,
    nothing is written and DomainError 409 `conflict` says so (with the newer answers' version). Without
    it (scripts, staff) the answers are replaced as sent."""
    if version is not None and version != municipality.answers_version:
        raise _conflict(municipality)
    before = board_json(event)
    answers_before = _answers(municipality)
    existing = {
        i.topic_id: i
        for i in db.session.execute(select(Interest).where(Interest.municipality_id == municipality.id)).scalars()
    }
    for topic_id, interest in existing.items():
        if topic_id not in interests:
            db.session.delete(interest)
    now = datetime.now(timezone.utc)
    for topic_id, (stage, note) in interests.items():
        interest = existing.get(topic_id) or Interest(
            event_id=event.id, municipality_id=municipality.id, topic_id=topic_id
        )
        if (interest.stage, interest.note) != (stage, note) or interest.id is None:
            interest.stage, interest.note, interest.updated_at = stage, note, now
        interest.contact_guest_id = contact_guest.id if contact_guest is not None else None
        db.session.add(interest)
    municipality.board_consent = consent
    municipality.profile_from = ""  # stated for this meeting now
    db.session.flush()
    if _answers(municipality) != answers_before:
        # Conditional, so that of two delegates saving on the same version at once only one gets through.
        bump = update(Municipality).where(Municipality.id == municipality.id)
        if version is not None:
            bump = bump.where(Municipality.answers_version == version)
        done = db.session.execute(
            bump.values(answers_version=Municipality.answers_version + 1).execution_options(synchronize_session=False)
        )
        db.session.expire(municipality, ["answers_version"])
        if done.rowcount != 1:
            db.session.rollback()
            raise _conflict(municipality)
    replan(event)
    after = board_json(event)
    if after == before:
        db.session.commit()
        return None
    what = "auf dem Board" if consent else "nicht mehr auf dem Board"
    change = record_change(
        event,
        "board.updated",
        f"{municipality.name}: {len(interests)} Themen, {what}",
        {"replace": {"board": after}},
        actor,
        {"municipality": municipality.name, "topics": len(interests), "on_board": bool(consent)},
    )
    db.session.commit()
    return change


def delegate(token):
    """The guest whose ticket token this is, speaking for their municipality; DomainError 404 (no such
    ticket), 409 (their town does not take part) or 403 (not confirmed as its delegate) otherwise."""
    guest = (
        db.session.execute(select(Guest).filter_by(token=token)).scalar_one_or_none()
        if isinstance(token, str) and 20 <= len(token) <= 64
        else None
    )
    if guest is None or guest.status != "registered":
        raise not_found(_l("Dieses Ticket gibt es nicht."))
    if guest.municipality is None:
        raise DomainError(
            "no_municipality", _("Die Kommune dieses Tickets nimmt an dieser Veranstaltung nicht teil."), 409
        )
    if not guest.is_delegate:
        raise DomainError(
            "not_confirmed",
            _(
                "Sie sind noch nicht als Delegierte/r von %(city)s bestätigt. Geben Sie den Einladungscode Ihrer "
                "Kommune ein oder bitten Sie das Veranstaltungsteam, Sie zu bestätigen.",
                city=guest.municipality.name,
            ),
            403,
        )
    return guest


def confirm_with_invite_code(guest, code):
    """A registered guest of a municipality types its invitation code: from now on they speak for it.
    Returns True, or False (nothing changed) for a wrong code. Commits."""
    if guest.municipality is None or not isinstance(code, str) or not invite_matches(guest.municipality, code):
        return False
    guest.is_delegate = True
    db.session.commit()
    return True


# ---- meetings and the plan -----------------------------------------------------------------------


def request_meeting(event, guest, other_slug, topic_slug, actor=""):
    other = next((m for m in event.municipalities if m.slug == other_slug or m.name == other_slug), None)
    topic = next((t for t in event.topics if t.slug == topic_slug), None)
    if other is None:
        raise DomainError("invalid", _("Diese Kommune nimmt an dieser Veranstaltung nicht teil."), field="with")
    if topic is None:
        raise DomainError("invalid", _("Dieses Thema gibt es nicht."), field="topic")
    if other.id == guest.municipality_id:
        raise DomainError("invalid", _("Mit der eigenen Kommune lässt sich kein Gespräch vereinbaren."), field="with")
    if not other.board_consent:
        raise DomainError("invalid", _("%(city)s ist nicht auf dem Board.", city=other.name), field="with")
    pair = {guest.municipality_id, other.id}
    open_requests = db.session.execute(
        select(MeetingRequest).where(
            MeetingRequest.event_id == event.id,
            MeetingRequest.topic_id == topic.id,
            MeetingRequest.status.in_(("requested", "accepted")),
        )
    ).scalars()
    if any({r.from_id, r.to_id} == pair for r in open_requests):
        raise DomainError(
            "duplicate",
            _(
                "Zu diesem Thema gibt es zwischen %(a)s und %(b)s schon eine Anfrage.",
                a=guest.municipality.name,
                b=other.name,
            ),
            409,
        )
    request = MeetingRequest(event_id=event.id, topic_id=topic.id, from_id=guest.municipality_id, to_id=other.id)
    db.session.add(request)
    # A revision without board content: the invited delegates' pages see it live and fetch their view.
    record_change(
        event,
        "meeting.requested",
        f"Anfrage {guest.municipality.name} → {other.name}: {topic.name}",
        {},
        actor,
        {"from": guest.municipality.name, "to": other.name, "topic": topic.name},
    )
    db.session.commit()
    return request


def answer_meeting(event, guest, request_id, accept, actor=""):
    request = of_event(MeetingRequest, event, request_id, _l("Diese Gesprächsanfrage gibt es nicht."))
    if request.to_id != guest.municipality_id:
        raise DomainError("forbidden", _("Antworten kann nur die eingeladene Kommune."), 403)
    if request.status != "requested":
        already = {
            "accepted": _l("Diese Anfrage ist schon angenommen."),
            "declined": _l("Diese Anfrage ist schon abgelehnt."),
        }
        raise DomainError("invalid", already.get(request.status, _l("Diese Anfrage ist schon beantwortet.")), 409)
    request.status = "accepted" if accept else "declined"
    request.answered_at = datetime.now(timezone.utc)
    db.session.flush()
    change = None
    if accept:
        replan(event)
        change = record_change(
            event,
            "board.planned",
            f"Treffen {request.from_municipality.name} – {request.to_municipality.name}",
            {"replace": {"board": board_json(event)}},
            actor,
            {
                "reason": "meeting",
                "from": request.from_municipality.name,
                "to": request.to_municipality.name,
                "topic": request.topic.name,
            },
        )
    db.session.commit()
    return request, change


def refresh_plan(event, **_):
    """Someone registered late or was cancelled: re-plan (keeping what still fits); one revision if the
    tables changed. Runs in the transaction that changed the guests."""
    before = plan_json(event)
    replan(event)
    after = plan_json(event)
    if after != before:
        board = {"replace": {"board": board_json(event)}}
        record_change(event, "board.planned", "Tischplan angepasst", board, details={"reason": "plan"})


_NOTED = "board_before_programme_change"


def note_board(event, **_):
    """Before a programme change whose cascades touch the board (tables in a removed session, answers on a
    topic): remember the board as phones show it."""
    db.session.info.setdefault(_NOTED, {}).setdefault(event.id, board_json(event))


def board_after_programme_change(event, **_):
    """After it: re-plan, and one change if the board differs from what was noted (else the plan check)."""
    before = db.session.info.get(_NOTED, {}).pop(event.id, None)
    if before is None:
        refresh_plan(event)
        return
    replan(event)
    after = board_json(event)
    if after != before:
        board = {"replace": {"board": after}}
        summary = "Board nach Programmänderung angepasst"
        record_change(event, "board.updated", summary, board, details={"reason": "programme"})


def networking_slots(event):
    sessions = (
        db.session.execute(
            select(Session)
            .where(Session.event_id == event.id, Session.kind == "networking", Session.status == "scheduled")
            .order_by(Session.planned_start)
        )
        .scalars()
        .all()
    )
    return [(s.id, event.tables_per_slot) for s in sessions]


def plan_items(event):
    """Accepted meetings, suggested topic tables and suggested pairs of the municipalities on the board
    that have at least one registered guest (no one plans a table for a town that is not coming)."""
    coming = set(
        db.session.execute(
            select(Guest.municipality_id).where(Guest.event_id == event.id, Guest.status == "registered")
        ).scalars()
    )
    ids = {m.name: m.id for m in event.municipalities if m.board_consent and m.id in coming}
    stages = {city: topics for city, topics in visible_stages(event).items() if city in ids}
    graph = scoring.match_graph(stages)
    topic_ids = {t.name: t.id for t in event.topics}
    items = {}

    def add(kind, topic, cities, weight, promised=False):
        members = frozenset(ids[c] for c in cities)
        key = (kind, topic_ids[topic], tuple(sorted(members)))
        items.setdefault(key, planner.Item(key, kind, topic, members, weight, promised))

    accepted = db.session.execute(
        select(MeetingRequest).where(MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted")
    ).scalars()
    for request in accepted:
        a, b = request.from_municipality.name, request.to_municipality.name
        if a in ids and b in ids:
            weight = graph[a][b]["weight"] if graph.has_edge(a, b) else 0
            add("meeting", request.topic.name, (a, b), weight + MEETING_BONUS, promised=True)
    for topic, cities, weight in scoring.topic_tables(stages):
        add("table", topic, cities, weight)
    for a, b in scoring.meeting_pairs(graph):
        add("meeting", graph[a][b]["topics"][0][0], (a, b), graph[a][b]["weight"])
    return list(items.values())


def replan(event):
    """Re-plan the tables, keeping earlier placements that still fit. Part of the caller's transaction."""
    rows = db.session.execute(select(TableAssignment).where(TableAssignment.event_id == event.id)).scalars().all()
    previous = {(r.kind, r.topic_id, tuple(r.members)): (r.session_id, r.table) for r in rows}
    items = plan_items(event)
    placed = planner.plan(networking_slots(event), items, previous)
    by_key = {item.key: item for item in items}
    for r in rows:
        db.session.delete(r)
    db.session.flush()
    for key, (session_id, table) in placed.items():
        item = by_key[key]
        db.session.add(
            TableAssignment(
                event_id=event.id,
                session_id=session_id,
                table=table,
                kind=item.kind,
                topic_id=key[1],
                members=list(key[2]),
                weight=item.weight,
            )
        )
    db.session.flush()
    return planner.moves(previous, placed)


def copy_profiles(source, target, topics):
    """Into a new event (caller's transaction): the municipalities of `source` with their stated interests
    (`topics`: source topic id -> the new event's topic) as a starting point marked with the meeting they
    were stated for; consent to appear on the board is asked again, contacts are the new event's guests."""
    for old in source.municipalities:
        new = Municipality(
            event=target,
            name=old.name,
            slug=old.slug,
            is_host=old.is_host,
            latitude=old.latitude,
            longitude=old.longitude,
            note=old.note,
            board_consent=False,
            profile_from=old.profile_from or source.title,
        )
        db.session.add(new)
        db.session.flush()
        rows = db.session.execute(select(Interest).where(Interest.municipality_id == old.id)).scalars()
        for interest in rows:
            if interest.topic_id in topics:
                db.session.add(
                    Interest(
                        event_id=target.id,
                        municipality_id=new.id,
                        topic_id=topics[interest.topic_id].id,
                        stage=interest.stage,
                        note=interest.note,
                        updated_at=interest.updated_at,
                    )
                )
    db.session.flush()
