"""The schedule import page for organisers (/staff/e/<slug>/import, endpoints `agenda_import.*`; the same in
the API at the end, `agenda_import_api.*`): a schedule.json or schedule.xml uploaded or read from a URL, a
preview of what will be created, changed and removed, then one transaction (imports.apply_plan); a URL can
be followed (webapp/agenda/follow.py), pulled now, and no longer followed.

Between the preview and "Übernehmen" the file stays on the server (SCHEDULE_IMPORT_DIR, default
instance/schedule-imports/), named by the event, the staff account and a random token; only the token goes
into the form, so nobody can apply another person's upload or any other file. What is applied is what the
preview showed: if the event changed in between, the preview is made again and shown for a new
confirmation. Uploads go after the import, on "Abbrechen", after an hour and when the server starts."""

import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, URLField
from wtforms.validators import Length, Optional

from ..core.errors import DomainError
from ..core.events import event_or_404, get_event
from ..core.extensions import db
from ..core.validation import API_PREFIX, json_body, refuse_unknown, require
from ..staff.auth import actor_name, api_staff, staff_required
from ..staff.forms import ActionForm
from . import follow
from .imports import ImportError_, apply_plan, parse_schedule, plan_import

bp = Blueprint("agenda_import", __name__, url_prefix="/staff")

TTL_SECONDS = 3600
MAX_BYTES = follow.MAX_BODY
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


class UploadForm(FlaskForm):
    file = FileField(_l("Datei (schedule.json oder schedule.xml)"))
    url = URLField(_l("oder ihre Adresse"), validators=[Optional(), Length(max=follow.MAX_URL)])
    follow = BooleanField(_l("Dieser Adresse folgen"))


class ConfirmForm(FlaskForm):
    token = HiddenField()


# ---- uploads kept between preview and confirmation ------------------------------------------------------------


def root(app=None):
    app = app or current_app
    return Path(app.config.get("SCHEDULE_IMPORT_DIR") or Path(app.instance_path) / "schedule-imports")


def _paths(event, token):
    base = root() / f"{event.id}-{current_user.id}-{token}"
    return base.with_suffix(".data"), base.with_suffix(".json")


def sweep(app=None):
    """Delete uploads older than TTL_SECONDS (and what a crash left half-applied). Returns how many went."""
    base = root(app)
    if not base.is_dir():
        return 0
    removed, now = 0, time.time()
    for item in base.iterdir():
        try:
            if item.is_file() and now - item.stat().st_mtime > TTL_SECONDS:
                item.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def _keep(event, data, meta):
    sweep()
    root().mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(16)
    data_path, meta_path = _paths(event, token)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps(meta))
    return token


def _pending(event, token):
    """(data path, meta) of this account's upload for this event, or None (unknown, expired)."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return None
    data_path, meta_path = _paths(event, token)
    try:
        if data_path.stat().st_mtime < time.time() - TTL_SECONDS:
            return None
        return data_path, json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None


def _discard(event, token):
    for path in _paths(event, token):
        path.unlink(missing_ok=True)
        path.with_suffix(".applying").unlink(missing_ok=True)


# ---- messages in the visitor's language ---------------------------------------------------------------------

WHERE = re.compile(
    r"(?:conference(?:, room (?P<croom>\d+))?"
    r"|day (?P<day>\d+)(?:, room '(?P<room>.*?)')?"
    r"(?:, event (?P<event>\d+)(?: \(line (?P<line>\d+)\))?)?(?: \('(?P<title>.*)'\))?)"
    r"(?:, person (?P<person>\d+))?"
)
PROBLEMS = [
    (r"missing '(?P<key>[^']+)'(?: \(.*\))?", lambda **p: _("„%(key)s“ fehlt", **p)),
    (r"'(?P<key>[^']+)' must be text", lambda **p: _("„%(key)s“ muss ein Text sein", **p)),
    (
        r"'(?P<key>[^']+)' contains a NUL character or broken Unicode",
        lambda **p: _("„%(key)s“ enthält ein NUL-Zeichen oder ungültiges Unicode", **p),
    ),
    (r"unknown time_zone_name '(?P<value>.*)'", lambda **p: _("unbekannte Zeitzone „%(value)s“", **p)),
    (
        r"'(?P<key>[^']+)' is not an ISO 8601 date-time: '(?P<value>.*)'",
        lambda **p: _("„%(key)s“ ist kein Zeitpunkt nach ISO 8601: „%(value)s“", **p),
    ),
    (
        r"'(?P<key>[^']+)' is not an ISO 8601 date: '(?P<value>.*)'",
        lambda **p: _("„%(key)s“ ist kein Datum nach ISO 8601: „%(value)s“", **p),
    ),
    (
        r"'(?P<key>[^']+)' must be HH:MM, not '(?P<value>.*)'",
        lambda **p: _("„%(key)s“ muss die Form HH:MM haben, nicht „%(value)s“", **p),
    ),
    (
        r"'start' without a date \(neither the event nor its day has one\)",
        lambda: _("„start“ ohne Datum (weder der Programmpunkt noch sein Tag hat eines)"),
    ),
    (r"it must end after it starts", lambda: _("das Ende muss nach dem Beginn liegen")),
    (r"'persons' must be a list", lambda: _("„persons“ muss eine Liste sein")),
    (r"must be an object with a name", lambda: _("muss ein Objekt mit einem Namen sein")),
    (r"must be a list of events", lambda: _("muss eine Liste von Programmpunkten sein")),
    (r"must be an object", lambda: _("muss ein Objekt sein")),
    (
        r"no events and no 'start'/'end' to take the event's times from",
        lambda: _("keine Programmpunkte und weder „start“ noch „end“, aus denen sich die Zeiten ergeben"),
    ),
]
WHOLE = [
    (r"expected the file's bytes", lambda: _("Die Datei konnte nicht gelesen werden.")),
    (
        r"not a schedule file: .*",
        lambda: _(
            "Das ist keine Fahrplan-Datei: erwartet wird eine schedule.json (c3voc/pretalx) oder eine "
            "schedule.xml (frab)."
        ),
    ),
    (
        r"the file is nested too deeply to be a schedule",
        lambda: _("Die Datei ist zu tief verschachtelt, um ein Fahrplan zu sein."),
    ),
    (
        r"a date, time or duration is out of range \(years 1 to 9999\)",
        lambda: _("Ein Datum, eine Uhrzeit oder eine Dauer liegt außerhalb des Möglichen (Jahre 1 bis 9999)."),
    ),
    (
        r"the file does not have the structure of a schedule \((?P<detail>.*)\)",
        lambda **p: _("Die Datei hat nicht den Aufbau eines Fahrplans (%(detail)s).", **p),
    ),
    (
        r"broken JSON at line (?P<line>\d+), column (?P<column>\d+): (?P<detail>.*)",
        lambda **p: _("Fehlerhaftes JSON in Zeile %(line)s, Spalte %(column)s: %(detail)s", **p),
    ),
    (
        r"broken JSON: not UTF-8 text \((?P<detail>.*)\)",
        lambda **p: _("Fehlerhaftes JSON: kein UTF-8-Text (%(detail)s)", **p),
    ),
    (
        r"not a schedule\.json: there is no top-level 'schedule' object",
        lambda: _("Keine schedule.json: es fehlt das Objekt „schedule“ auf oberster Ebene."),
    ),
    (
        r"not a schedule\.json: 'schedule' has no 'conference' object",
        lambda: _("Keine schedule.json: „schedule“ enthält kein Objekt „conference“."),
    ),
    (
        r"broken XML at line (?P<line>\d+): (?P<detail>.*)",
        lambda **p: _("Fehlerhaftes XML in Zeile %(line)s: %(detail)s", **p),
    ),
    (
        r"XML with entity declarations .* is not accepted",
        lambda: _("XML mit Entity-Deklarationen (<!ENTITY …>) wird nicht angenommen."),
    ),
    (
        r"not a frab schedule\.xml: the root element is <(?P<tag>.*)>, not <schedule>",
        lambda **p: _("Keine frab-schedule.xml: das Wurzelelement ist <%(tag)s>, nicht <schedule>.", **p),
    ),
    (
        r"not a frab schedule\.xml: <schedule> has no <conference>",
        lambda: _("Keine frab-schedule.xml: <schedule> enthält kein <conference>."),
    ),
]


def _place(where):
    """'day 2, room 'Curie', event 3 ('Opening')' in the visitor's language; None if it is not such a place."""
    match = WHERE.fullmatch(where)
    if match is None:
        return None
    p = match.groupdict()
    if p["day"] is None:
        parts = [_("Konferenzangaben")]
        if p["croom"]:
            parts.append(_("Raum %(n)s der Raumliste", n=p["croom"]))
    else:
        parts = [_("Tag %(n)s", n=p["day"])]
        if p["room"] is not None:
            parts.append(_("Raum „%(name)s“", name=p["room"]))
        if p["event"]:
            event = _("Programmpunkt %(n)s", n=p["event"])
            if p["line"]:
                event += " (" + _("Zeile %(n)s", n=p["line"]) + ")"
            if p["title"] is not None:
                event += f" („{p['title']}“)"
            parts.append(event)
    if p["person"]:
        parts.append(_("Person %(n)s", n=p["person"]))
    return ", ".join(parts)


def schedule_error(message):
    """An imports.ImportError_ message (English, with where the problem is) in the visitor's language; a
    message this does not know stays as it is."""
    for pattern, say in WHOLE:
        match = re.fullmatch(pattern, message, re.S)
        if match:
            return say(**match.groupdict())
    for pattern, say in PROBLEMS:
        match = re.fullmatch(rf"(?P<where>.+?): {pattern}", message, re.S)
        if match:
            params = match.groupdict()
            place = _place(params.pop("where"))
            if place is not None:
                return f"{place}: {say(**params)}"
    return message


def fetch_error(code, detail=""):
    sentences = {
        "bad_url": lambda: _(
            "Bitte eine vollständige Adresse angeben, die mit http:// oder https:// beginnt (ohne Benutzername "
            "und Passwort)."
        ),
        "http": lambda: _("Der Server antwortete mit „%(detail)s“.", detail=detail),
        "timeout": lambda: _("Der Server hat nicht innerhalb von %(seconds)s Sekunden geantwortet.", seconds=10),
        "too_large": lambda: _("Die Datei ist größer als 8 MiB."),
        "unreachable": lambda: _("Die Adresse ist nicht erreichbar: %(detail)s", detail=detail),
        "redirect": lambda: _("Die Adresse leitet auf eine Adresse um, die nicht mit http:// oder https:// beginnt."),
        "invalid_schedule": lambda: schedule_error(detail),
        "busy": lambda: _("Das Programm wurde währenddessen mehrfach geändert; bitte noch einmal abrufen."),
    }
    return sentences[code]() if code in sentences else detail


def describe_result(result):
    """What the last pull did, as the page and the flash message say it."""
    status, n = result.get("status"), result.get("changes", 0)
    if status == "imported":
        return ngettext(
            "Programm übernommen (%(num)d Programmpunkt)", "Programm übernommen (%(num)d Programmpunkte)", n
        )
    if status == "applied":
        return ngettext("%(num)d Änderung übernommen", "%(num)d Änderungen übernommen", n)
    if status == "unchanged":
        return _("unverändert")
    if status == "error":
        return _("Fehler: %(message)s", message=fetch_error(result.get("code"), result.get("detail", "")))
    return ""


# ---- pages ------------------------------------------------------------------------------------------------------


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(event, form=None, status=200, **context):
    current = follow.follow_of(event)
    return _no_store(
        Response(
            render_template(
                "agenda/import.html",
                event=event,
                form=form or UploadForm(formdata=None),
                action=ActionForm(),
                following=current,
                follow_result=describe_result(current.result) if current else "",
                **context,
            ),
            status,
        )
    )


def _refuse(event, form, field, message):
    getattr(form, field).errors = list(getattr(form, field).errors) + [message]
    return _page(event, form, 422)


@bp.route("/e/<slug>/import", methods=["GET", "POST"])
@staff_required()
def import_page(slug):
    """GET: the upload form and the followed URL. POST: read the file or URL and show the preview."""
    event = event_or_404(slug)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(event, form, 422 if form.is_submitted() else 200)
    upload, url = form.file.data, (form.url.data or "").strip()
    has_file = bool(upload and getattr(upload, "filename", ""))
    if has_file and url:
        return _refuse(event, form, "url", _("Bitte entweder eine Datei wählen oder eine Adresse angeben."))
    if not has_file and not url:
        return _refuse(event, form, "file", _("Bitte eine Datei wählen oder eine Adresse angeben."))
    if form.follow.data and not url:
        return _refuse(event, form, "follow", _("Folgen kann Treffpunkt nur einer Adresse, nicht einer Datei."))
    meta = {"url": url, "follow": bool(form.follow.data), "etag": "", "last_modified": ""}
    if url:
        try:
            fetched = follow.fetch(url)
        except follow.FetchError as exc:
            return _refuse(event, form, "url", fetch_error(exc.code, exc.message))
        data, meta["source"] = fetched.body, url
        meta.update(etag=fetched.etag, last_modified=fetched.last_modified)
    else:
        data = upload.read(MAX_BYTES + 1)
        meta["source"] = os.path.basename(upload.filename or "")[:120]
        if len(data) > MAX_BYTES:
            return _refuse(event, form, "file", _("Die Datei ist größer als 8 MiB."))
    try:
        plan = plan_import(slug, parse_schedule(data))
        preview = follow.preview_plan(plan, event)
    except ImportError_ as exc:
        field = "url" if url else "file"
        return _refuse(event, form, field, _("Nichts übernommen. %(error)s", error=schedule_error(exc.message)))
    meta["digest"] = preview.digest
    token = _keep(event, data, meta)
    return _page(event, form, preview=preview, meta=meta, confirm=ConfirmForm(formdata=None, token=token))


@bp.post("/e/<slug>/import/apply")
@staff_required()
def apply(slug):
    """ "Übernehmen": the kept file, planned again; applied if the plan is still what the preview showed."""
    event = event_or_404(slug)
    confirm = ConfirmForm()
    token = confirm.token.data
    pending = _pending(event, token) if confirm.validate_on_submit() else None
    if pending is None:
        flash(_("Die Vorschau ist abgelaufen oder schon übernommen. Bitte die Datei noch einmal wählen."), "error")
        return redirect(url_for(".import_page", slug=slug))
    data_path, meta = pending
    claimed = data_path.with_suffix(".applying")
    try:  # of two clicks at once only one gets the file
        os.rename(data_path, claimed)
    except FileNotFoundError:
        flash(_("Dieser Import läuft schon."), "error")
        return redirect(url_for(".import_page", slug=slug))
    data = claimed.read_bytes()
    plan = plan_import(slug, parse_schedule(data))  # the same file: it parsed for the preview
    preview = follow.preview_plan(plan, event)
    if preview.digest != meta.get("digest"):
        os.replace(claimed, data_path)
        meta["digest"] = preview.digest
        data_path.with_suffix(".json").write_text(json.dumps(meta))
        return _page(
            event,
            preview=preview,
            meta=meta,
            confirm=ConfirmForm(formdata=None, token=token),
            replanned=True,
            status=409,
        )
    actor = actor_name(current_user)
    try:
        if meta.get("follow"):
            fetched = follow.Fetched(data, meta.get("etag", ""), meta.get("last_modified", ""))
            result = json.dumps({"status": "imported", "changes": len(plan.sessions)})
            follow.save_follow(event, meta["url"], fetched, plan, actor, result)
        if not preview.empty:
            apply_plan(plan, actor)  # commits the follow with it
        else:
            db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        os.replace(claimed, data_path)
        flash(fetch_error(exc.code, exc.message), "error")
        return redirect(url_for(".import_page", slug=slug))
    _discard(event, token)
    if preview.empty:
        flash(_("Das Programm entsprach schon der Datei; nichts geändert."), "ok")
    else:
        counts = plan.counts
        flash(
            _(
                "Programm übernommen: %(sessions)s Programmpunkte in %(rooms)s Räumen.",
                sessions=counts["sessions"],
                rooms=counts["rooms"],
            ),
            "ok",
        )
    if meta.get("follow"):
        flash(_("Treffpunkt folgt jetzt dieser Adresse: %(url)s", url=meta["url"]), "ok")
    return redirect(url_for(".import_page", slug=slug))


@bp.post("/e/<slug>/import/cancel")
@staff_required()
def cancel(slug):
    event = event_or_404(slug)
    confirm = ConfirmForm()
    if confirm.validate_on_submit() and _pending(event, confirm.token.data) is not None:
        _discard(event, confirm.token.data)
        flash(_("Import abgebrochen; nichts geändert."), "ok")
    return redirect(url_for(".import_page", slug=slug))


@bp.post("/e/<slug>/import/follow/pull")
@staff_required()
def pull_now(slug):
    """ "Jetzt abrufen": one pull of the followed URL; what it did is the flash message."""
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash(_("Sitzung abgelaufen, bitte noch einmal."), "error")
    elif follow.follow_of(event) is None:
        flash(_("Diese Veranstaltung folgt keiner Adresse."), "error")
    else:
        result = follow.pull(event, actor=actor_name(current_user))
        flash(describe_result(result), "error" if result.get("status") == "error" else "ok")
    return redirect(url_for(".import_page", slug=slug))


@bp.post("/e/<slug>/import/follow/stop")
@staff_required()
def stop_follow(slug):
    event = event_or_404(slug)
    if ActionForm().validate_on_submit() and follow.stop_following(event):
        flash(_("Treffpunkt folgt der Adresse nicht mehr; das Programm bleibt, wie es ist."), "ok")
    return redirect(url_for(".import_page", slug=slug))


# ---- the same in the API (/api/v1, endpoints `agenda_import_api.*`; docs/api.md "Schedule import") ----------

api = Blueprint("agenda_import_api", __name__, url_prefix=API_PREFIX)


def preview_json(preview):
    return {
        "counts": preview.counts,
        "sessions": preview.groups["sessions"],
        "rooms": preview.groups["rooms"],
        "speakers": preview.groups["speakers"],
        "topics": preview.groups["topics"],
        "event": [{"what": what, "before": before, "after": after} for what, before, after in preview.event],
        "empty": preview.empty,
        "digest": preview.digest,
    }


def follow_json(row):
    if row is None:
        return None
    return {
        "url": row.url,
        "last_checked_at": row.last_checked_at.isoformat() if row.last_checked_at else None,
        "result": row.result,
    }


@api.post("/events/<slug>/schedule/import")
def api_import(slug):
    """The body is the schedule file itself. ?dry_run=1: the preview only. ?expect=<digest of a preview>:
    applied only if the plan is still that preview (else 409 with the new one)."""
    staff = api_staff()
    event = get_event(slug)
    data = request.get_data(cache=False)
    plan = plan_import(slug, parse_schedule(data))
    preview = follow.preview_plan(plan, event)
    if request.args.get("dry_run") in ("1", "true"):
        return jsonify({"preview": preview_json(preview), "revision": preview.revision})
    expect = request.args.get("expect")
    if expect is not None and expect != preview.digest:
        raise DomainError("conflict", "the programme changed since that preview", 409, preview=preview_json(preview))
    if preview.empty:
        return jsonify({"counts": plan.counts, "revision": event.revision, "changed": False})
    event, counts = apply_plan(plan, actor_name(staff))
    return jsonify({"counts": counts, "revision": event.revision, "changed": True})


@api.get("/events/<slug>/schedule/follow")
def api_follow_state(slug):
    api_staff()
    return jsonify({"follow": follow_json(follow.follow_of(get_event(slug)))})


@api.put("/events/<slug>/schedule/follow")
def api_follow(slug):
    """{url}: read it, import it whole (one revision) and follow it."""
    staff = api_staff()
    event = get_event(slug)
    data = json_body()
    refuse_unknown(data, {"url"})
    require(data, ["url"])
    if not isinstance(data["url"], str):
        raise DomainError("invalid", "url must be text", field="url")
    row, counts = follow.follow_url(event, data["url"], actor=actor_name(staff))
    return jsonify({"follow": follow_json(row), "counts": counts, "revision": get_event(slug).revision})


@api.post("/events/<slug>/schedule/follow/pull")
def api_pull(slug):
    staff = api_staff()
    event = get_event(slug)
    result = follow.pull(event, actor=actor_name(staff))
    return jsonify({"result": result, "revision": get_event(slug).revision})


@api.delete("/events/<slug>/schedule/follow")
def api_unfollow(slug):
    api_staff()
    return jsonify({"stopped": follow.stop_following(get_event(slug))})
