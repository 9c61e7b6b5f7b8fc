"""Staff forms (Flask-WTF: every form carries a CSRF token)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .auth import PASSWORD_MIN


class Checkboxes(SelectMultipleField):
    """A list of checkboxes; a value that is not one of them is refused in the visitor's language (WTForms' own
    message for it has no German translation)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("widget", widgets.ListWidget(prefix_label=False))
        kwargs.setdefault("option_widget", widgets.CheckboxInput())
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form):
        if self.process_errors or not self.data:
            return
        offered = {self.coerce(choice.value) for choice in self._iter_choices_normalized()}
        unknown = [str(value) for value in dict.fromkeys(self.data) if value not in offered]
        if unknown:
            names = ", ".join(_("„%(name)s“", name=value) for value in unknown)
            raise ValidationError(
                ngettext(
                    "%(names)s steht nicht zur Auswahl.",
                    "%(names)s stehen nicht zur Auswahl.",
                    len(unknown),
                    names=names,
                )
            )


class LoginForm(FlaskForm):
    name = StringField(_l("Benutzername"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Passwort"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Angemeldet bleiben"))


PASSWORD_MAX = 200


def _at_most():
    return Length(max=PASSWORD_MAX, message=_l("Das Passwort darf höchstens %(n)d Zeichen lang sein.", n=PASSWORD_MAX))


class PasswordForm(FlaskForm):
    """The account page: the current password proves it is the person, not someone at an open session."""

    current_password = PasswordField(
        _l("Aktuelles Passwort"), validators=[DataRequired(_l("Bitte das aktuelle Passwort eingeben.")), _at_most()]
    )
    new_password = PasswordField(
        _l("Neues Passwort"),
        validators=[
            DataRequired(_l("Bitte ein neues Passwort eingeben.")),
            Length(
                min=PASSWORD_MIN,
                message=_l("Das neue Passwort muss mindestens %(n)d Zeichen lang sein.", n=PASSWORD_MIN),
            ),
            _at_most(),
        ],
    )
    new_password_again = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(_l("Bitte das neue Passwort wiederholen.")),
            EqualTo("new_password", message=_l("Die beiden neuen Passwörter stimmen nicht überein.")),
        ],
    )


class ActionForm(FlaskForm):
    """The buttons of the agenda editor: only the CSRF token is a form field; values come as button values."""


class AccountForm(FlaskForm):
    """A team account: its name (new only), role and the events it acts in (none = every event)."""

    name = StringField(
        _l("Benutzername"), validators=[DataRequired(_l("Bitte einen Benutzernamen eingeben.")), Length(max=80)]
    )
    role = SelectField(
        _l("Rolle"),
        choices=[
            SelectChoice("admin", _l("Organisation (alles)")),
            SelectChoice("scanner", _l("Einlass (Scanner, Gästesuche)")),
        ],
        default="scanner",
    )
    events = Checkboxes(
        _l("Nur für diese Veranstaltungen"),
        description=_l(
            "Keine gewählt: für alle Veranstaltungen, mit der Rolle Organisation auch Konten und neue Veranstaltungen."
        ),
        choices=[],
    )
