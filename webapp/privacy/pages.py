"""A guest's own data, by ticket token: what is stored (page and JSON download) and its deletion
(webapp/privacy/domain.py)."""

import json

from flask import Blueprint, Response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from ..checkin import guests, tickets
from ..checkin.pages import guest_or_404
from ..core.extensions import csrf
from .domain import delete_guest, guest_export

bp = Blueprint("privacy_pages", __name__)


# Rate limits on every /t/ request (unknown tokens especially) are applied centrally: webapp/web/limits.py.


class DeleteDataForm(FlaskForm):
    confirm = BooleanField(
        _l("Ja, meine Anmeldung und meine Daten jetzt endgültig löschen."),
        validators=[DataRequired(_l("Bitte bestätigen Sie das Löschen mit dem Häkchen."))],
    )


def _my_data_page(guest, form, status=200):
    data = guest_export(guest, guests.ticket_url(guest, external=True))
    return render_template(
        "privacy/my_data.html",
        guest=guest,
        event=guest.event,
        form=form,
        data=data,
        code=tickets.format_code(guest.code),
        checked_in=tickets.checked_in_time(guest),
    ), status


@bp.get("/t/<token>/my-data")
def my_data(token):
    return _my_data_page(guest_or_404(token), DeleteDataForm())


@bp.get("/t/<token>/my-data.json")
def my_data_json(token):
    guest = guest_or_404(token)
    body = json.dumps(guest_export(guest, guests.ticket_url(guest, external=True)), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="treffpunkt-meine-daten-{guest.event.slug}.json"'},
    )


@bp.post("/t/<token>/my-data/delete")
@csrf.exempt  # the form checks its CSRF token itself: a stale page shows a message, and nothing is deleted
def delete_my_data(token):
    guest = guest_or_404(token)
    form = DeleteDataForm()
    if not form.validate_on_submit():
        return _my_data_page(guest, form, 422)
    event = guest.event
    delete_guest(guest)
    return render_template("privacy/my_data.html", guest=None, event=event, form=None, data=None, deleted=True)
