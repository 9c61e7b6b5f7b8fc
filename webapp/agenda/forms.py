"""Forms of the agenda editor (Flask-WTF: every form carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..staff.forms import Checkboxes
from .labels import choices


class SessionForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Art"), choices=choices("kind"))
    room = SelectField(_l("Raum"), choices=[])
    start = DateTimeLocalField(_l("Geplanter Beginn"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    end = DateTimeLocalField(_l("Geplantes Ende"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    status = SelectField(_l("Status"), choices=choices("status"))
    language = SelectField(
        _l("Sprache"), choices=[SelectChoice("de", _l("Deutsch")), SelectChoice("en", _l("Englisch"))], default="de"
    )
    speakers = Checkboxes(_l("Mitwirkende"), choices=[])
    topics = Checkboxes(_l("Themen"), choices=[])
    abstract = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=5000)])


class RemoveSessionForm(FlaskForm):
    confirm = BooleanField(_l("Ja, diesen Programmpunkt aus dem Programm nehmen"), validators=[DataRequired()])


class AnnouncementForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=500)])
    severity = SelectField(_l("Dringlichkeit"), choices=choices("severity"))
    expires_in_minutes = IntegerField(
        _l("Läuft ab nach (Minuten, leer = nie)"), validators=[Optional(), NumberRange(min=1, max=7 * 24 * 60)]
    )
