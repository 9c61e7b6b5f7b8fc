"""Matchmaking JSON API (docs/api.md): the public board, a delegate's interests and meetings by ticket
token, and staff edits of any municipality."""

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..core.errors import MAX_ID, DomainError, not_found
from ..core.events import get_event
from ..core.extensions import db
from ..core.validation import API_PREFIX, field_label, json_body
from ..staff.auth import actor_name, api_staff
from . import board, scoring, sentences
from .models import Interest, MeetingRequest

bp = Blueprint("matchmaking_api", __name__, url_prefix=API_PREFIX)


@bp.get("/events/<slug>/board")
def public_board(slug):
    event = get_event(slug)
    if not event.board_enabled:
        raise DomainError("not_found", _("Diese Veranstaltung hat kein Matchmaking-Board."), 404)
    revision = event.revision
    return jsonify({"revision": revision, **board.board_json(event)})


def delegate_view(guest):
    """What a delegate sees on their page: their municipality's answers, suggestions, requests, plan."""
    event, municipality = guest.event, guest.municipality
    interests = db.session.execute(select(Interest).where(Interest.municipality_id == municipality.id)).scalars()
    graph = scoring.match_graph(board.visible_stages(event))
    requests = db.session.execute(
        select(MeetingRequest)
        .where(
            MeetingRequest.event_id == event.id,
            or_(MeetingRequest.from_id == municipality.id, MeetingRequest.to_id == municipality.id),
        )
        .order_by(MeetingRequest.id)
    ).scalars()
    return {
        "municipality": municipality.name,
        "consent": municipality.board_consent,
        "interests": [{"topic": i.topic.slug, "stage": i.stage, "note": i.note} for i in interests],
        "suggestions": scoring.suggestions(graph, municipality.name, words=sentences.words_of(event.topics)),
        "requests": [
            {
                "id": r.id,
                "topic": r.topic.name,
                "from": r.from_municipality.name,
                "to": r.to_municipality.name,
                "status": r.status,
                "incoming": r.to_id == municipality.id,
            }
            for r in requests
        ],
        "plan": board.municipality_plan(event, municipality),
        "revision": event.revision,
        "version": municipality.answers_version,  # send it back with PUT: a newer save by another delegate is a 409
    }


@bp.get("/t/<token>/interests")
def my_interests(token):
    return jsonify(delegate_view(board.delegate(token)))


@bp.put("/t/<token>/interests")
def put_interests(token):
    guest = board.delegate(token)
    data = json_body()
    version = data.pop("version", None)
    if version is not None and not valid_version(version):
        raise DomainError(
            "invalid",
            _("Der Stand der Angaben fehlt oder ist ungültig. Bitte die Seite neu laden."),
            field="version",
        )
    consent, interests, contact = board.parse_interests(guest.event, data)
    board.set_interests(
        guest.event,
        guest.municipality,
        consent,
        interests,
        contact_guest=guest if contact and guest.consent_contact else None,
        actor=f"Delegierte/r {guest.municipality.name}",
        version=version,
    )
    return jsonify(delegate_view(guest))


def valid_version(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


@bp.post("/t/<token>/meetings")
def request_meeting(token):
    guest = board.delegate(token)
    data = json_body()
    if not isinstance(data.get("with"), str) or not isinstance(data.get("topic"), str):
        missing = "with" if not isinstance(data.get("with"), str) else "topic"
        raise DomainError("invalid", _("Bitte eine Kommune und ein Thema wählen."), field=missing)
    request = board.request_meeting(
        guest.event, guest, data["with"], data["topic"], actor=f"Delegierte/r {guest.municipality.name}"
    )
    return jsonify({"id": request.id, "status": request.status}), 201


@bp.post("/t/<token>/meetings/<int:request_id>")
def answer_meeting(token, request_id):
    guest = board.delegate(token)
    accept = json_body().get("accept")
    if not isinstance(accept, bool):
        raise DomainError(
            "invalid", _("„%(field)s“ muss true oder false sein.", field=field_label("accept")), field="accept"
        )
    request, _change = board.answer_meeting(
        guest.event, guest, request_id, accept, actor=f"Delegierte/r {guest.municipality.name}"
    )
    return jsonify({"id": request.id, "status": request.status, **delegate_view(guest)})


@bp.put("/events/<slug>/municipalities/<municipality>/interests")
def staff_put_interests(slug, municipality):
    staff = api_staff()
    event = get_event(slug)
    target = next((m for m in event.municipalities if municipality in (m.slug, m.name)), None)
    if target is None:
        raise not_found(_l("Diese Kommune gibt es nicht."))
    consent, interests, _contact = board.parse_interests(event, json_body())
    board.set_interests(event, target, consent, interests, actor=actor_name(staff))
    return jsonify({"revision": event.revision, **board.board_json(event)})
