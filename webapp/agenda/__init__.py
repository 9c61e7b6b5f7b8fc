"""The live agenda: rooms, sessions, speakers, topics, announcements; its public pages and exports, the staff
editor, the API, the staff socket events, schedule import and the demo event's agenda."""

from ..core.extensions import csrf
from ..live import register_snapshot_part
from . import api, cli, domain, editor, pages, sockets
from .labels import label


def init_app(app):
    for blueprint in (pages.bp, api.bp, editor.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # the API checks CSRF itself, for session-authenticated writes (staff.auth.api_staff)
    sockets.register()
    register_snapshot_part(domain.agenda_json)
    # {{ s.kind | label('kind') }}: the translated label of a stored code (webapp/agenda/labels.py).
    app.add_template_filter(label, "label")
    cli.register(app)
