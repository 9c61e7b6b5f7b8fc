"""Site-wide pages: the front page, the service worker, the health check."""

from flask import Blueprint, current_app, redirect, send_from_directory, url_for
from sqlalchemy import select

from ..core import dbhealth
from ..core.extensions import db
from ..core.models import Event

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    event = db.session.execute(select(Event).order_by(Event.starts_at.desc())).scalars().first()
    if event is None:
        return redirect(url_for("staff.index"))
    return redirect(url_for("agenda_pages.agenda", slug=event.slug))


@bp.get("/sw.js")
def service_worker():
    """Served from the root so its scope covers every event page."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/healthz")
def healthz():
    """200 {"ok": true, "database": "ok"} if the database answers and takes writes (a probe that writes
    nothing, webapp/core/dbhealth.py); 503 {"ok": false, "database": "unavailable"} with Retry-After otherwise."""
    return dbhealth.health()
