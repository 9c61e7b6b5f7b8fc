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
from ..core.validation import API_PREFIX, field_label, json_body, refuse_unknown, require
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
        return _("Fehler: %(message)s", message=follow.fetch_error(result.get("code"), result.get("detail", "")))
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
            return _refuse(event, form, "url", exc.message)
        data, meta["source"] = fetched.body, url
        meta.update(etag=fetched.etag, last_modified=fetched.last_modified)
    else:
        data = upload.read(MAX_BYTES + 1)
        meta["source"] = os.path.basename(upload.filename or "")[:120]
        if len(data) > MAX_BYTES:
            return _refuse(event, form, "file", _("Die Datei ist größer als 8 MiB."))
    # A one-off import leaves out the sessions the file gets wrong (the button says how many); a followed
    # address must be right as a whole, as every later pull reads it whole.
    meta["skip_bad"] = not meta["follow"]
    try:
        parsed = parse_schedule(data, skip_bad=meta["skip_bad"])
        plan = plan_import(slug, parsed)
        preview = follow.preview_plan(plan, event)
    except ImportError_ as exc:
        field = "url" if url else "file"
        return _refuse(event, form, field, _("Nichts übernommen. %(error)s", error=exc.message))
    meta["digest"] = preview.digest
    token = _keep(event, data, meta)
    return _page(event, form, **_preview(preview, parsed, plan, meta, token))


def _preview(preview, parsed, plan, meta, token):
    """What the preview shows: the plan's differences, the sessions left out and the button that says what
    pressing it does ("36 Programmpunkte übernehmen, 1 fehlerhaften überspringen")."""
    skipped = len(parsed.skipped)
    take = ngettext("%(num)d Programmpunkt übernehmen", "%(num)d Programmpunkte übernehmen", len(plan.sessions))
    if skipped:
        take = ngettext(
            "%(take)s, %(num)d fehlerhaften überspringen",
            "%(take)s, %(num)d fehlerhafte überspringen",
            skipped,
            take=take,
        )
    return {
        "preview": preview,
        "meta": meta,
        "confirm": ConfirmForm(formdata=None, token=token),
        "skipped": [exc.message for exc in parsed.skipped],
        "apply_label": take if not preview.empty else _("Nur folgen"),
    }


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
    parsed = parse_schedule(data, skip_bad=meta.get("skip_bad", False))  # the same file: it parsed for the preview
    plan = plan_import(slug, parsed)
    preview = follow.preview_plan(plan, event)
    if preview.digest != meta.get("digest"):
        os.replace(claimed, data_path)
        meta["digest"] = preview.digest
        data_path.with_suffix(".json").write_text(json.dumps(meta))
        return _page(event, replanned=True, status=409, **_preview(preview, parsed, plan, meta, token))
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
        flash(exc.message, "error")
        return redirect(url_for(".import_page", slug=slug))
    _discard(event, token)
    if preview.empty:
        flash(_("Das Programm entsprach schon der Datei; nichts geändert."), "ok")
    else:
        counts = plan.counts
        rooms = ngettext("%(num)d Raum", "%(num)d Räumen", counts["rooms"])
        flash(
            ngettext(
                "Programm übernommen: %(num)d Programmpunkt in %(rooms)s.",
                "Programm übernommen: %(num)d Programmpunkte in %(rooms)s.",
                counts["sessions"],
                rooms=rooms,
            ),
            "ok",
        )
    if parsed.skipped:
        flash(
            ngettext(
                "%(num)d fehlerhafter Programmpunkt der Datei wurde übersprungen.",
                "%(num)d fehlerhafte Programmpunkte der Datei wurden übersprungen.",
                len(parsed.skipped),
            ),
            "warning",
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
        raise DomainError(
            "conflict",
            _("Das Programm wurde seit dieser Vorschau geändert; bitte die neue Vorschau prüfen."),
            409,
            preview=preview_json(preview),
        )
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
        raise DomainError("invalid", _("„%(field)s“ muss ein Text sein.", field=field_label("url")), field="url")
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
