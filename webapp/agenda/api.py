"""Agenda JSON API under /api/v1 (documented in docs/api.md)."""

from flask import Blueprint, jsonify

from ..core.events import get_event
from ..core.validation import API_PREFIX, json_body
from ..staff.auth import actor_name, api_staff
from . import domain

bp = Blueprint("agenda_api", __name__, url_prefix=API_PREFIX)


@bp.get("/events/<slug>/agenda")
def agenda(slug):
    event = get_event(slug)
    revision = event.revision  # read before the content, like a live snapshot
    return jsonify({"revision": revision, **domain.agenda_json(event)})


@bp.patch("/events/<slug>/sessions/<int:session_id>")
def patch_session(slug, session_id):
    staff = api_staff()
    event = get_event(slug)
    session = domain.get_session(event, session_id)
    fields = domain.parse_session_fields(event, json_body())
    change = domain.update_session(event, session, fields, actor=actor_name(staff))
    if change is None:  # nothing changed
        return jsonify({"session": domain.session_json(session), "revision": event.revision})
    # the change carries the session as committed: no reload of the session and its details
    return jsonify({"session": change.payload["sessions"][0], "revision": change.revision})


@bp.post("/events/<slug>/sessions")
def post_session(slug):
    staff = api_staff()
    event = get_event(slug)
    fields = domain.parse_session_fields(event, json_body(), required=("title", "planned_start", "planned_end"))
    session, _ = domain.create_session(event, fields, actor=actor_name(staff))
    return jsonify({"session": domain.session_json(session), "revision": event.revision}), 201


@bp.post("/events/<slug>/announcements")
def post_announcement(slug):
    staff = api_staff()
    event = get_event(slug)
    clean = domain.parse_announcement(json_body())
    announcement, change = domain.add_announcement(event, actor=actor_name(staff), **clean)
    return jsonify({"announcement": domain.announcement_json(announcement), "revision": change.revision}), 201


@bp.delete("/events/<slug>/announcements/<int:announcement_id>")
def delete_announcement(slug, announcement_id):
    staff = api_staff()
    event = get_event(slug)
    domain.withdraw_announcement(event, announcement_id, actor=actor_name(staff))
    return jsonify({"revision": event.revision})


@bp.delete("/events/<slug>/sessions/<int:session_id>")
def delete_session(slug, session_id):
    staff = api_staff()
    event = get_event(slug)
    change = domain.remove_session(event, domain.get_session(event, session_id), actor=actor_name(staff))
    return jsonify({"revision": change.revision})


@bp.post("/events/<slug>/rooms")
def post_room(slug):
    staff = api_staff()
    event = get_event(slug)
    room, change = domain.add_room(event, domain.parse_name(json_body()), actor=actor_name(staff))
    return jsonify({"room": {"slug": room.slug, "name": room.name}, "revision": change.revision}), 201


@bp.post("/events/<slug>/topics")
def post_topic(slug):
    api_staff()
    event = get_event(slug)
    topic = domain.add_topic(event, domain.parse_name(json_body(), max_len=200))
    return jsonify({"topic": {"slug": topic.slug, "name": topic.name}}), 201
