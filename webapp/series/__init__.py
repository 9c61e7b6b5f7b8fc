"""The series: setting up each meeting — creating and editing events, preparing the next one from an
earlier one, the municipalities taking part (picked from the built-in gazetteer). Stands on the areas:
copying an event asks each area to copy its part."""

from flask_babel import lazy_gettext as _l

from ..core.extensions import csrf
from ..core.validation import register_field_labels
from . import api, change_texts, cli, pages

# What the event and municipality forms call the fields the API checks (core.validation.field_label).
FIELDS = {
    "slug": _l("Kurzname"),
    "title": _l("Titel"),
    "subtitle": _l("Untertitel"),
    "host": _l("Gastgeber"),
    "venue": _l("Ort"),
    "series": _l("Reihe"),
    "description": _l("Beschreibung"),
    "timezone": _l("Zeitzone"),
    "start": _l("Beginn"),
    "end": _l("Ende"),
    "archived": _l("Archiviert"),
    "board": _l("Matchmaking-Board nutzen"),
    "registration_opens": _l("Anmeldung ab"),
    "registration_closes": _l("Anmeldeschluss"),
    "capacity": _l("Plätze"),
    "copy_from": _l("Übernehmen von"),
    "copy_sessions": _l("Auch das Programm übernehmen"),
    "lat": _l("Breitengrad"),
    "lon": _l("Längengrad"),
    "is_host": _l("Gastgeberin der Veranstaltung"),
}


def init_app(app):
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    csrf.exempt(api.bp)  # bearer requests; session writes are checked by staff.auth.api_staff
    cli.register(app)
    change_texts.register()  # how an event's own changes read in the change log, in either language
    register_field_labels(FIELDS)
