"""Display labels for the stored codes of session kinds, session statuses and announcement severities.

Defined once here (German msgids, English in translations/en) and used by the staff forms' select options and,
through the Jinja filter `label` (registered in web.install), by the staff templates: `{{ s.kind | label('kind') }}`.
The public agenda and screen pages pass the same msgids to their scripts (templates/agenda/*.html, `strings`).
"""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from .models import SESSION_KINDS, SESSION_STATUSES, SEVERITIES

KINDS = {
    "talk": _l("Vortrag"),
    "opening": _l("Eröffnung"),
    "pitch": _l("Projektvorstellung"),
    "panel": _l("Podium"),
    "workshop": _l("Workshop"),
    "break": _l("Pause"),
    "networking": _l("Networking"),
    "arrival": _l("Ankommen"),
    "other": _l("Sonstiges"),
}
STATUSES = {"scheduled": _l("geplant"), "cancelled": _l("abgesagt")}
SEVERITY_LABELS = {"info": _l("Info"), "warning": _l("Hinweis"), "urgent": _l("Dringend")}

# group name (as used by the `label` filter) -> (codes in their model order, labels)
GROUPS = {
    "kind": (SESSION_KINDS, KINDS),
    "status": (SESSION_STATUSES, STATUSES),
    "severity": (SEVERITIES, SEVERITY_LABELS),
}


def label(value, group):
    """The translated label of a stored code; an unknown code is shown as it is."""
    labels = GROUPS[group][1]
    return str(labels[value]) if value in labels else ("" if value is None else str(value))


def choices(group):
    """Select options (WTForms SelectChoice, value = stored code) in model order; labels stay lazy, so the
    options are translated when the form is rendered, in the visitor's language."""
    codes, labels = GROUPS[group]
    return [SelectChoice(value=code, label=labels.get(code, code)) for code in codes]


# What the forms call the fields the agenda checks (core.validation.field_label: „Beginn“ muss …), registered
# in init_app. The keys are those of the API and the socket events.
FIELDS = {
    "title": _l("Titel"),
    "abstract": _l("Beschreibung"),
    "kind": _l("Art"),
    "room": _l("Raum"),
    "status": _l("Status"),
    "language": _l("Sprache"),
    "planned_start": _l("Beginn"),
    "planned_end": _l("Ende"),
    "delay_minutes": _l("Verspätung in Minuten"),
    "overrun_minutes": _l("Überziehen in Minuten"),
    "shift_following": _l("Folgende Programmpunkte verschieben"),
    "speakers": _l("Mitwirkende"),
    "topics": _l("Themen"),
    "text": _l("Text"),
    "severity": _l("Dringlichkeit"),
    "expires_at": _l("Läuft ab um"),
    "expires_in_minutes": _l("Läuft ab nach Minuten"),
    "name": _l("Name"),
    "role": _l("Funktion"),
    "phrase": _l("Formulierung mit bestimmtem Artikel"),
    "phrase_indefinite": _l("Formulierung mit unbestimmtem Artikel"),
    "phrase_en": _l("Englische Formulierung"),
    "url": _l("Adresse"),
    "id": _l("Programmpunkt"),
}
