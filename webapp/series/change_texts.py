"""An event's own changes as the change log words them, in the reader's language, from each change's facts
(`Change.details`, written by domain.update_event). Registered by the series' init_app
(live.register_change_text); a row without facts shows its stored German summary."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..live import register_change_text

# The keys of core.events.event_json, as the event form calls them
FIELDS = {
    "title": _l("Titel"),
    "subtitle": _l("Untertitel"),
    "series": _l("Reihe"),
    "host": _l("Gastgeber"),
    "venue": _l("Veranstaltungsort"),
    "timezone": _l("Zeitzone"),
    "start": _l("Beginn"),
    "end": _l("Ende"),
    "is_demo": _l("Demo-Daten"),
}


def edited(d):
    fields = [str(FIELDS[f]) for f in d.get("fields") or () if f in FIELDS]
    if fields:
        return _("Veranstaltung „%(title)s“ geändert: %(fields)s", title=d["title"], fields=", ".join(fields))
    return _("Veranstaltung „%(title)s“ geändert", title=d["title"])


def register():
    register_change_text("event.edited", edited, _l("Veranstaltung"))
