"""Staff pages for guests: list, add, edit, cancel, CSV import, printing tickets, attendance export.
All for admins (staff_required()); each handler parses the form, calls webapp.checkin.guests or
csv_import, and redirects back with a message."""

import csv
import io
import os
import re
import secrets
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.html import no_store
from ..core.urls import external_url
from ..mail import outbox
from ..staff.auth import staff_required
from ..staff.forms import ActionForm
from . import csv_import, guests, tickets, uploads
from .badges import BADGE_ENDPOINT

bp = Blueprint("checkin_guests", __name__, url_prefix="/staff/e/<slug>")

STATUS_LABELS = {
    "registered": _l("angemeldet"),
    "waiting": _l("Warteliste"),
    "cancelled": _l("storniert"),
    "checked_in": _l("eingecheckt"),
}
PREVIEW_ROWS = 50
COLUMN_LABELS = guests.FIELD_LABELS
LIST_LIMIT = 500  # rows on the guest list page; search or filter for the rest
PRINT_BATCH = 200  # tickets per print page: ~1 s to make, and a print job a browser handles well


def _guest(event, guest_id):
    try:
        return guests.get_guest(event, guest_id)
    except DomainError:
        abort(404)


def guest_state(guest):
    if guest.status in ("cancelled", "waiting"):
        return guest.status
    return "checked_in" if guest.checkin else "registered"


@bp.app_template_filter("guest_state_label")
def guest_state_label(state):
    return str(STATUS_LABELS.get(state, state))


# ---- list ---------------------------------------------------------------------------------------------

FILTERS = ("all", "checked_in", "open", "waiting", "cancelled")
MAIL_FILTERS = ("all", *guests.MAIL_STATES)
MAIL_LABELS = {
    "none": _l("keine Mail"),
    "pending": _l("Mail ausstehend"),
    "sent": _l("gesendet"),
    "failed": _l("fehlgeschlagen"),
}


@bp.get("/guests", endpoint="guests")
@staff_required()
def guests_list(slug):
    event = event_or_404(slug)
    everyone = guests.all_guests(event)
    counts = {
        "all": len(everyone),
        "registered": sum(g.status == "registered" for g in everyone),
        "checked_in": sum(g.checkin is not None and g.status == "registered" for g in everyone),
        "waiting": sum(g.status == "waiting" for g in everyone),
        "cancelled": sum(g.status == "cancelled" for g in everyone),
    }
    q = " ".join(request.args.get("q", "").split())[:100]
    shown = everyone
    if q:
        # The scanner's search (name, organisation, municipality, code), on the already loaded list.
        found = {g.id for g in guests.search_guests(event, q, limit=None)}
        shown = [g for g in shown if g.id in found]
    status = request.args.get("status", "all")
    status = status if status in FILTERS else "all"
    if status != "all":
        want = {"checked_in": "checked_in", "open": "registered", "waiting": "waiting", "cancelled": "cancelled"}[
            status
        ]
        shown = [g for g in shown if guest_state(g) == want]
    states = guests.mail_states(event)
    mail = request.args.get("mail", "all")
    mail = mail if mail in MAIL_FILTERS else "all"
    if mail != "all":
        shown = [g for g in shown if states.get(g.id, "none") == mail]
    badge = BADGE_ENDPOINT in current_app.view_functions
    return no_store(
        Response(
            render_template(
                "checkin/guests.html",
                event=event,
                rows=shown[:LIST_LIMIT],
                matched=len(shown),
                limit=LIST_LIMIT,
                counts=counts,
                q=q,
                status=status,
                filters=FILTERS,
                mail=mail,
                mail_filters=MAIL_FILTERS,
                mail_labels=MAIL_LABELS,
                mail_state=lambda g: states.get(g.id, "none"),
                mail_enabled=outbox.enabled(),
                badge_url=(lambda g: url_for(BADGE_ENDPOINT, slug=slug, guest_id=g.id)) if badge else None,
                state=guest_state,
                checked_in_time=tickets.checked_in_time,
                ticket_url=lambda g: guests.ticket_url(g, external=True),
                form=ActionForm(),
            )
        )
    )


# ---- add and edit -------------------------------------------------------------------------------------


SALUTATION_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("Frau", _l("Frau")),
    SelectChoice("Herr", _l("Herr")),
    SelectChoice("Divers", _l("Divers/keine")),
]


class GuestForm(FlaskForm):
    salutation = SelectField(_l("Anrede"), choices=SALUTATION_CHOICES, default="", validate_choice=False)
    title = StringField(
        _l("Titel"), validators=[Optional(), Length(max=40)], description=_l("z. B. Dr. oder Prof. Dr.")
    )
    given_name = StringField(_l("Vorname"), validators=[Optional(), Length(max=100)])
    family_name = StringField(_l("Nachname"), validators=[Optional(), Length(max=100)])
    name = StringField(
        _l("Name wie gedruckt"),
        validators=[Length(max=200)],
        description=_l(
            "Wird aus Titel, Vorname und Nachname gebildet, wenn Sie hier nichts anderes eintragen (etwa eine "
            "andere Schreibweise für Ticket und Namensschild)."
        ),
    )
    city = StringField(
        _l("Kommune"),
        validators=[Optional(), Length(max=120)],
        description=_l("Eine Kommune der Veranstaltung oder eine andere."),
    )
    organisation = StringField(_l("Organisation / Dienststelle"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Funktion"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-Mail"), validators=[Optional(), Length(max=254)])
    notes = TextAreaField(
        _l("Notizen (nur für das Team)"),
        validators=[Optional(), Length(max=guests.NOTES_MAX)],
        description=_l("Erscheinen nie auf Ticket, Namensschild oder den Seiten des Gastes."),
    )
    consent_contact = BooleanField(_l("Darf anderen Teilnehmenden als Ansprechpartner gezeigt werden"))
    delegate = BooleanField(_l("Spricht für die Kommune auf dem Vernetzungs-Board (Delegation)"), default=True)
    confirm_duplicate = BooleanField(_l("Trotzdem anlegen"))

    def validate_name(self, field):
        if not (
            (field.data or "").strip() or (self.given_name.data or "").strip() or (self.family_name.data or "").strip()
        ):
            raise ValidationError(_l("Bitte einen Namen angeben."))

    def keep_salutation(self, value):
        """A stored Anrede the select does not offer ("Mx.", from the API or an import) stays choosable."""
        if value and value not in {choice.value for choice in SALUTATION_CHOICES}:
            self.salutation.choices = [*SALUTATION_CHOICES, SelectChoice(value, value)]


def _form_fields(form):
    return {
        "salutation": form.salutation.data or "",
        "title": form.title.data or "",
        "given_name": form.given_name.data or "",
        "family_name": form.family_name.data or "",
        "name": form.name.data or "",
        "city": form.city.data or "",
        "organisation": form.organisation.data or "",
        "role": form.role.data or "",
        "email": (form.email.data or "").strip(),
        "notes": form.notes.data or "",
        "consent_contact": bool(form.consent_contact.data),
        "delegate": bool(form.delegate.data),
    }


def _field_error(form, exc):
    field = getattr(form, exc.details.get("field") or "name", None)
    field = field if field is not None and hasattr(field, "errors") else form.name
    field.errors = list(field.errors) + [exc.message]


def _render_form(event, form, guest=None, status=200, **extra):
    if guest is not None:
        extra.update(
            state=guest_state(guest),
            checked_in=tickets.checked_in_time(guest),
            code=tickets.format_code(guest.code),
            ticket_link=guests.ticket_url(guest, external=True),
        )
    page = render_template(
        "checkin/guest_form.html",
        event=event,
        form=form,
        guest=guest,
        action=ActionForm(),
        state_of=guest_state,
        **extra,
    )
    return no_store(Response(page, status))


@bp.route("/guests/new", methods=["GET", "POST"])
@staff_required()
def new_guest(slug):
    """Add a guest by hand. One who may be there already (same e-mail, or same name and municipality) is
    not created: the form comes back naming them, and "Trotzdem anlegen" creates the new one."""
    event = event_or_404(slug)
    form = GuestForm()
    form.keep_salutation(form.salutation.data)
    if form.validate_on_submit():
        try:
            fields = guests.parse_guest(_form_fields(form))
        except DomainError as exc:
            _field_error(form, exc)
        else:
            duplicates = [] if form.confirm_duplicate.data else guests.find_duplicates(event, fields)
            if duplicates:
                return _render_form(event, form, status=409, duplicates=duplicates)
            guest = guests.create_guest(event, fields, source="staff")
            flash(
                _("Gast „%(name)s“ angelegt, Code %(code)s.", name=guest.name, code=tickets.format_code(guest.code)),
                "ok",
            )
            if guest.city and guest.municipality_id is None:
                flash(
                    _("%(town)s nimmt noch nicht teil: unter „Kommunen“ mit einem Klick hinzufügen.", town=guest.city),
                    "info",
                )
            return redirect(url_for(".edit_guest", slug=slug, guest_id=guest.id))
    return _render_form(event, form, status=422 if form.errors else 200)


@bp.route("/guests/<int:guest_id>/edit", methods=["GET", "POST"])
@staff_required()
def edit_guest(slug, guest_id):
    event = event_or_404(slug)
    guest = _guest(event, guest_id)
    form = GuestForm(obj=guest if request.method == "GET" else None)
    form.keep_salutation(guest.salutation if request.method == "GET" else form.salutation.data)
    if request.method == "GET":
        form.delegate.data = guest.is_delegate
    if form.validate_on_submit():
        try:
            guests.update_guest(event, guest, guests.parse_guest(_form_fields(form)))
        except DomainError as exc:
            _field_error(form, exc)
        else:
            flash(_("Änderungen an „%(name)s“ gespeichert.", name=guest.name), "ok")
            return redirect(url_for(".guests", slug=slug))
    return _render_form(event, form, guest, status=422 if form.errors else 200)


def _next_url(slug, values):
    """Back to where the action was started (a page of the staff area only), else to the guest list."""
    wanted = values.get("next", "")
    return wanted if wanted.startswith("/staff/") else url_for(".guests", slug=slug)


def _set_status(slug, guest_id, status, message):
    event = event_or_404(slug)
    guest = _guest(event, guest_id)
    if ActionForm().validate_on_submit():
        guests.update_guest(event, guest, {"status": status})
        flash(message % {"name": guest.name}, "ok")
    else:
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    return redirect(_next_url(slug, request.form))


@bp.route("/guests/<int:guest_id>/cancel", methods=["GET", "POST"])
@staff_required()
def cancel_guest(slug, guest_id):
    """Cancelling asks first: GET (and a POST without `confirm`) shows the guest's name and what follows;
    only the POST of that page, with its CSRF token and confirm=1, cancels."""
    event = event_or_404(slug)
    guest = _guest(event, guest_id)
    values = request.form if request.method == "POST" else request.args
    if request.method == "POST" and request.form.get("confirm") == "1" and guest.status != "cancelled":
        return _set_status(slug, guest_id, "cancelled", _("Anmeldung von „%(name)s“ storniert."))
    if guest.status == "cancelled":
        flash(_("Die Anmeldung von „%(name)s“ ist schon storniert.", name=guest.name), "info")
        return redirect(_next_url(slug, values))
    page = render_template(
        "checkin/guest_cancel.html",
        event=event,
        guest=guest,
        next=_next_url(slug, values),
        waiting=len(guests.waiting_list(event)) if guest.status == "registered" else 0,
        checked_in=tickets.checked_in_time(guest),
        form=ActionForm(),
    )
    return no_store(Response(page))


@bp.post("/guests/<int:guest_id>/restore")
@staff_required()
def restore_guest(slug, guest_id):
    return _set_status(slug, guest_id, "registered", _("Anmeldung von „%(name)s“ wiederhergestellt."))


@bp.post("/guests/<int:guest_id>/delegate")
@staff_required()
def confirm_delegate(slug, guest_id):
    """Confirm a self-registered guest as a delegate of their municipality (they may then speak for it on
    the board)."""
    event = event_or_404(slug)
    guest = _guest(event, guest_id)
    if ActionForm().validate_on_submit():
        guests.update_guest(event, guest, {"delegate": True})
        flash(_("„%(name)s“ spricht jetzt für %(city)s auf dem Board.", name=guest.name, city=guest.city), "ok")
    else:
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    return redirect(_next_url(slug, request.form))


# ---- delegations: who speaks for which municipality, and the invitation codes -------------------------


@bp.route("/delegations", methods=["GET", "POST"])
@staff_required()
def delegations(slug):
    """Each municipality's invitation code and registration link (for its delegates), and who speaks for
    it. POST with `renew=<municipality id>` replaces a code that went to the wrong people."""
    event = event_or_404(slug)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
        else:
            municipality = next((m for m in event.municipalities if str(m.id) == request.form.get("renew")), None)
            if municipality is None:
                abort(404)
            guests.renew_invite_code(municipality)
            flash(_("Neuer Einladungscode für %(city)s. Der alte gilt nicht mehr.", city=municipality.name), "ok")
        return redirect(url_for(".delegations", slug=slug))
    everyone = guests.all_guests(event)
    rows = [
        {
            "municipality": m,
            "link": external_url("checkin_pages.register", slug=slug, invite=m.invite_code),
            "delegates": [
                g for g in everyone if g.municipality_id == m.id and g.is_delegate and g.status != "cancelled"
            ],
            "unconfirmed": [
                g for g in everyone if g.municipality_id == m.id and not g.is_delegate and g.status != "cancelled"
            ],
        }
        for m in event.municipalities
    ]
    return no_store(Response(render_template("checkin/delegations.html", event=event, rows=rows, form=ActionForm())))


# ---- attendance export --------------------------------------------------------------------------------

# The name parts come last: scripts that read the first columns by position keep working.
NAME_PART_HEADER = ["Anrede", "Titel", "Vorname", "Nachname"]
ATTENDANCE_HEADER = ["Name", "Kommune", "Organisation", "Funktion", "Code", "Status", "Eingecheckt um", "Gerät"]
ATTENDANCE_HEADER += NAME_PART_HEADER
ATTENDANCE_STATUS = {
    "registered": "angemeldet",
    "checked_in": "eingecheckt",
    "waiting": "Warteliste",
    "cancelled": "storniert",
}


def _cell(value):
    """Text as Excel shows it, never as a formula (CSV injection: a cell starting with = + - @ runs)."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def excel_csv(header, rows):
    """UTF-8 with BOM, `;`-separated, CRLF: what German Excel (and Word's mail merge) opens with umlauts and
    columns intact. German headers whatever the page language (the file goes to Excel, not to a screen)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def _by_town_and_name(event):
    """By municipality (none last), then family and given name."""
    return sorted(guests.all_guests(event), key=_town_then_name)


def _town_then_name(guest):
    return (guest.city.casefold() or "\uffff", guests.sort_key(guest))


def _name_parts(guest):
    return [_cell(guest.salutation), _cell(guest.title), _cell(guest.given_name), _cell(guest.family_name)]


def attendance_csv(event):
    rows = []
    for g in _by_town_and_name(event):
        at = tickets.local(g.checkin.at, event).strftime("%d.%m.%Y %H:%M") if g.checkin else ""
        rows.append(
            [
                _cell(g.name),
                _cell(g.city),
                _cell(g.organisation),
                _cell(g.role),
                g.code,
                ATTENDANCE_STATUS[guest_state(g)],
                at,
                _cell(g.checkin.device if g.checkin else ""),
                *_name_parts(g),
            ]
        )
    return excel_csv(ATTENDANCE_HEADER, rows)


TICKET_LINKS_HEADER = ["Name", "Kommune", "Organisation", "Funktion", "E-Mail", "Ticket-Link", "Code"]
TICKET_LINKS_HEADER += [*NAME_PART_HEADER, "Briefanrede"]


def ticket_links_csv(event):
    """For a mail merge (Serienbrief in Word/Outlook): each registered guest's personal ticket link and
    typed code. The links open the guests' own pages: the file is for the organisers' mailing only."""
    rows = [
        [
            _cell(g.name),
            _cell(g.city),
            _cell(g.organisation),
            _cell(g.role),
            _cell(g.email),
            guests.ticket_url(g, external=True),
            tickets.format_code(g.code),
            *_name_parts(g),
            _cell(guests.letter_salutation(g)),
        ]
        for g in _by_town_and_name(event)
        if g.status == "registered"
    ]
    return excel_csv(TICKET_LINKS_HEADER, rows)


def _csv_download(text, filename):
    response = Response(
        text.encode("utf-8"), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
    response.charset = "utf-8"
    return no_store(response)


@bp.get("/attendance.csv")
@staff_required()
def attendance(slug):
    event = event_or_404(slug)
    return _csv_download(attendance_csv(event), f"anwesenheit-{event.slug}.csv")


@bp.get("/ticket-links.csv")
@staff_required()
def ticket_links(slug):
    event = event_or_404(slug)
    return _csv_download(ticket_links_csv(event), f"ticket-links-{event.slug}.csv")


# ---- printing all tickets -----------------------------------------------------------------------------


@bp.get("/tickets/print")
@staff_required()
def print_tickets(slug):
    event = event_or_404(slug)
    size = request.args.get("size", "a4")
    size = size if size in tickets.SIZES else "a4"
    chosen = [g for g in guests.all_guests(event) if g.status == "registered"]
    chosen.sort(key=_town_then_name)
    parts = [(start + 1, min(start + PRINT_BATCH, len(chosen))) for start in range(0, len(chosen), PRINT_BATCH)]
    try:
        part = min(max(int(request.args.get("part", 1)), 1), max(len(parts), 1))
    except ValueError:
        part = 1
    label = _("QR-Code des Tickets")
    batch = chosen[(part - 1) * PRINT_BATCH : part * PRINT_BATCH]
    sheets = [tickets.ticket_view(g, label) for g in batch]
    return no_store(
        Response(
            render_template(
                "checkin/tickets_print.html",
                event=event,
                size=size,
                sheets=sheets,
                parts=parts,
                part=part,
                total=len(chosen),
                batch_size=PRINT_BATCH,
            )
        )
    )


# ---- CSV import -----------------------------------------------------------------------------------------
# The uploaded file is kept between preview and confirmation as a temporary file on the server (see
# webapp/checkin/uploads.py): the cookie session is too small for a guest list, and re-uploading would ask
# the user to pick the file twice. The random id goes into a hidden field AND into the signed session cookie
# of the admin who uploaded it; the confirmation is accepted only when both agree, so a client cannot point
# the import at another upload or any other file. The file is deleted after the import (or on "cancel");
# stale files are swept away on every upload and when the server starts.

UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22}")
SESSION_KEY = "guest_import"


class UploadForm(FlaskForm):
    file = FileField(_l("CSV-Datei"), validators=[FileRequired(_l("Bitte eine Datei auswählen."))])


class ConfirmForm(FlaskForm):
    upload_id = HiddenField()
    skip_bad_rows = BooleanField(_l("Fehlerhafte Zeilen überspringen"))


def _pending(slug, upload_id):
    """The stored upload for this admin and event, or None."""
    entry = session.get(SESSION_KEY)
    if (
        not isinstance(entry, dict)
        or not isinstance(upload_id, str)
        or not UPLOAD_ID.fullmatch(upload_id)
        or entry.get("id") != upload_id
        or entry.get("slug") != slug
        or entry.get("user") != current_user.id
    ):
        return None
    path = uploads.path_of(slug, upload_id)
    if not path.is_file() or path.stat().st_mtime < time.time() - uploads.TTL_SECONDS:
        return None
    return path


def _render_import(event, form=None, preview=None, confirm=None, filename="", status=200):
    rows = preview.rows[:PREVIEW_ROWS] if preview else []
    return no_store(
        Response(
            render_template(
                "checkin/guest_import.html",
                event=event,
                form=form or UploadForm(),
                preview=preview,
                rows=rows,
                confirm=confirm,
                filename=filename,
                preview_rows=PREVIEW_ROWS,
                labels=COLUMN_LABELS,
                part_keys=csv_import.PART_KEYS,
                new_towns=guests.towns_not_taking_part(event, [r.fields.get("city") for r in preview.rows if r.ok])
                if preview
                else [],
            ),
            status,
        )
    )


@bp.route("/guests/import", methods=["GET", "POST"])
@staff_required()
def import_guests(slug):
    event = event_or_404(slug)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_import(event, form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    data = upload.read()
    filename = os.path.basename(upload.filename or "")[:120]
    preview = csv_import.parse(data, event)
    if preview.file_errors:
        form.file.errors = list(form.file.errors) + preview.file_errors
        return _render_import(event, form, preview=preview, filename=filename, status=422)
    uploads.sweep()
    upload_id = secrets.token_urlsafe(16)
    uploads.path_of(slug, upload_id).write_bytes(data)
    session[SESSION_KEY] = {"id": upload_id, "slug": slug, "user": current_user.id, "name": filename}
    confirm = ConfirmForm(formdata=None, upload_id=upload_id)
    return _render_import(event, preview=preview, confirm=confirm, filename=filename)


@bp.post("/guests/import/confirm")
@staff_required()
def import_confirm(slug):
    event = event_or_404(slug)
    confirm = ConfirmForm()
    path = _pending(slug, confirm.upload_id.data) if confirm.validate_on_submit() else None
    if path is None:
        flash(
            _("Die hochgeladene Datei ist nicht mehr da (abgelaufen oder schon importiert). Bitte erneut hochladen."),
            "error",
        )
        return redirect(url_for(".import_guests", slug=slug))
    # Claim the file by renaming it: of two confirmations sent at once only one gets it, so a double click
    # cannot import the list twice.
    claimed = path.with_suffix(".importing")
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        flash(_("Dieser Import läuft schon."), "error")
        return redirect(url_for(".import_guests", slug=slug))
    filename = session.get(SESSION_KEY, {}).get("name", "")
    data = claimed.read_bytes()
    preview = csv_import.parse(data, event)  # again: the guest list may have changed since the preview
    try:
        counts = csv_import.apply(event, preview, skip_bad_rows=bool(confirm.skip_bad_rows.data))
    except DomainError as exc:
        os.replace(claimed, path)  # keep it for another try (e.g. with "skip bad rows")
        confirm.skip_bad_rows.errors = [exc.message]
        return _render_import(event, preview=preview, confirm=confirm, filename=filename, status=422)
    claimed.unlink(missing_ok=True)
    session.pop(SESSION_KEY, None)
    done = [ngettext("%(num)d Gast importiert", "%(num)d Gäste importiert", counts["imported"])]
    if counts["skipped_bad"]:
        done.append(
            ngettext(
                "%(num)d fehlerhafte Zeile übersprungen",
                "%(num)d fehlerhafte Zeilen übersprungen",
                counts["skipped_bad"],
            )
        )
    if counts["skipped_duplicates"]:
        done.append(
            ngettext(
                "%(num)d doppelte Zeile übersprungen",
                "%(num)d doppelte Zeilen übersprungen",
                counts["skipped_duplicates"],
            )
        )
    flash("; ".join(done) + ".", "ok")
    return redirect(url_for(".guests", slug=slug))


@bp.post("/guests/import/cancel")
@staff_required()
def import_cancel(slug):
    event_or_404(slug)
    form = ActionForm()
    entry = session.get(SESSION_KEY)
    if form.validate_on_submit() and isinstance(entry, dict):
        path = _pending(slug, entry.get("id"))
        if path is not None:
            path.unlink(missing_ok=True)
        session.pop(SESSION_KEY, None)
        flash(_("Import abgebrochen."), "ok")
    return redirect(url_for(".import_guests", slug=slug))
