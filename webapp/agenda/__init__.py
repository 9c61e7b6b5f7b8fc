"""The live agenda: rooms, sessions, speakers, topics, announcements; its public pages and exports, the staff
editor, the API, the staff socket events, schedule import (CLI and the import page), following a schedule URL
and the demo event's agenda."""

from ..core.extensions import add_background_task, csrf
from ..core.validation import register_field_labels
from ..live import register_snapshot_part
from . import api, change_texts, cli, domain, editor, follow, import_pages, pages, sockets
from .labels import FIELDS, label


def init_app(app):
    for blueprint in (pages.bp, api.bp, editor.bp, import_pages.bp, import_pages.api):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # the API checks CSRF itself, for session-authenticated writes (staff.auth.api_staff)
    csrf.exempt(import_pages.api)
    sockets.register()
    register_snapshot_part(domain.agenda_json)
    change_texts.register()  # how its changes read in the change log, in either language
    # {{ s.kind | label('kind') }}: the translated label of a stored code (webapp/agenda/labels.py).
    app.add_template_filter(label, "label")
    register_field_labels(FIELDS)
    cli.register(app)
    if not app.testing:
        import_pages.sweep(app)  # schedule uploads a crash or an abandoned preview left behind
    # pulls followed schedule URLs: one task per serving process, started by run.py / wsgi.py, never by tests
    add_background_task(app, follow.follow_loop)
