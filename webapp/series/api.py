"""Event set-up API under /api/v1 (docs/api.md, "Organiser"): events for instance admins, municipalities
for the event's organisers, the gazetteer for anyone (the pickers)."""

from flask import Blueprint, jsonify, request

from ..core import gazetteer
from ..core.events import get_event
from ..core.validation import API_PREFIX, json_body
from ..staff.auth import actor_name, api_staff
from . import domain

bp = Blueprint("series_api", __name__, url_prefix=API_PREFIX)


@bp.post("/events")
def post_event():
    api_staff()  # no event in the URL: an instance admin
    event = domain.create_event(domain.parse_event(json_body(), creating=True))
    return jsonify({"event": domain.setup_json(event)}), 201


@bp.patch("/events/<slug>")
def patch_event(slug):
    staff = api_staff()
    event = get_event(slug)
    change = domain.update_event(event, domain.parse_event(json_body(), creating=False), actor=actor_name(staff))
    return jsonify({"event": domain.setup_json(event), "revision": change.revision if change else event.revision})


@bp.get("/municipalities")
def search_places():
    query = request.args.get("q", "")[:100]
    return jsonify({"municipalities": [place.as_json() for place in gazetteer.search(query)]})


@bp.post("/events/<slug>/municipalities")
def post_municipality(slug):
    api_staff()
    event = get_event(slug)
    municipality, adopted = domain.add_municipality(event, **domain.parse_municipality(json_body()))
    return jsonify({"municipality": domain.municipality_json(municipality), "guests_joined": adopted}), 201
