"""Forms of event set-up (Flask-WTF: every form carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

TIMEZONES = ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Luxembourg", "Europe/Brussels", "Europe/Paris")
WHEN = "%Y-%m-%dT%H:%M"


class EventForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(_l("Bitte einen Titel eingeben.")), Length(max=300)])
    subtitle = StringField(_l("Untertitel"), validators=[Optional(), Length(max=300)])
    slug = StringField(
        _l("Kurzname für Adressen"),
        description=_l("Kleinbuchstaben, Ziffern und Bindestriche, z. B. trier-2019; steht in jedem Link und QR-Code."),
        validators=[DataRequired(_l("Bitte einen Kurznamen eingeben.")), Length(max=64)],
    )
    start = DateTimeLocalField(
        _l("Beginn"), format=WHEN, validators=[DataRequired(_l("Bitte Datum und Uhrzeit wählen."))]
    )
    end = DateTimeLocalField(_l("Ende"), format=WHEN, validators=[DataRequired(_l("Bitte Datum und Uhrzeit wählen."))])
    timezone = SelectField(_l("Zeitzone"), choices=[SelectChoice(tz) for tz in TIMEZONES], default="Europe/Berlin")
    venue = StringField(_l("Ort (Gebäude, Adresse)"), validators=[Optional(), Length(max=300)])
    host = StringField(_l("Gastgeber"), validators=[Optional(), Length(max=300)])
    series = StringField(_l("Reihe"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=5000)])
    registration_opens = DateTimeLocalField(_l("Anmeldung ab"), format=WHEN, validators=[Optional()])
    registration_closes = DateTimeLocalField(
        _l("Anmeldeschluss"),
        format=WHEN,
        validators=[Optional()],
        description=_l("Leer: ohne Anmeldeschluss."),
    )
    capacity = IntegerField(
        _l("Plätze"),
        validators=[Optional(), NumberRange(1, 100_000, _l("Eine ganze Zahl von 1 bis 100.000."))],
        description=_l(
            "Leer: unbegrenzt. Wer sich anmeldet, wenn alle Plätze vergeben sind, kommt auf die Warteliste."
        ),
    )
    board = BooleanField(_l("Matchmaking-Board nutzen"), default=True)
    copy_from = SelectField(_l("Übernehmen von"), choices=[], default="")
    copy_sessions = BooleanField(_l("Auch das Programm übernehmen (auf den neuen Tag verschoben)"))
    archived = BooleanField(_l("Archiviert (nicht mehr in den Listen der Startseite)"))


class MunicipalityForm(FlaskForm):
    name = StringField(
        _l("Kommune"), validators=[DataRequired(_l("Bitte den Namen der Kommune eingeben.")), Length(max=120)]
    )
    lat = FloatField(_l("Breitengrad"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Längengrad"), validators=[Optional(), NumberRange(-180, 180)])
    is_host = BooleanField(_l("Gastgeberin der Veranstaltung"))
