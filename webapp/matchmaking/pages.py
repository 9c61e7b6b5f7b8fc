"""Matchmaking pages: the public board (phones) and its projector view, and a delegate's own page and
printable plan, reached by the ticket token.

The public pages embed the live snapshot (its `board` part holds only municipalities that agreed to be on
the board) and follow /live; the delegate page talks to the JSON API (webapp/matchmaking/api.py). Every /t/
response gets the ticket headers of the check-in pages (no-store, no referrer)."""

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..checkin import tickets
from ..checkin.guests import guest_by_token
from ..core import qr
from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.extensions import csrf, db
from ..core.html import json_script
from ..core.urls import external_url
from ..live import snapshot
from . import board, scoring, sentences
from .api import delegate_view
from .models import Interest

bp = Blueprint("matchmaking_pages", __name__)


def _strings():
    """The texts the board scripts need, translated (German msgids)."""
    return {
        "live": _("Live"),
        "connecting": _("Verbinde…"),
        "offline": _("Offline"),
        "as_of": _("Stand {time} ({ago})"),
        "ago": _("vor {d}"),
        "just_now": _("gerade eben"),
        "min": _("{n} min"),
        "hmin": _("{h} Std. {m} min"),
        "h": _("{h} Std."),
        # A municipality's stage as a label beside its name (the sentences come with the board: sentences.py).
        "stage_runs": _("im Betrieb"),
        "stage_plans": _("in Planung"),
        "stage_interested": _("interessiert"),
        "stage_title": _("{city} · {topic}: {stage}"),
        "score": _("{score} Punkte"),
        "score_one": _("{score} Punkt"),
        "contact": _("Ansprechpartner/in: {name}"),
        "table": _("Tisch {n}"),
        "meeting": _("Treffen"),
        "topic_table": _("Thementisch"),
        "table_line": _("Tisch {n}, {time}: {topic} – {cities}"),
        "no_topics": _("Noch hat keine Kommune Themen eingetragen."),
        "topics_empty": _("Noch ohne Kommune: {topics}"),
        "no_matches": _("Noch keine Verbindungen: sobald zwei Kommunen dasselbe Thema angeben, erscheinen sie hier."),
        "no_tables": _("Noch keine Tische geplant."),
        "mine_only": _("Nur meine Kommune ({city})"),
        "mine_missing": _("Ihre Kommune ({city}) ist noch nicht auf dem Board."),
        "nothing_mine": _("Hier gibt es noch nichts für Ihre Kommune."),
        "schematic": _("schematisch"),
        "map_label": _("Karte von Rheinland-Pfalz (schematisch): {n} Kommunen, {m} Verbindungen"),
        "graph_label": _("Netz aus Kommunen und Themen: {n} Kommunen, {m} Themen"),
        "host": _("Gastgeberin"),
        "tables_at": _("{session}, {time} Uhr"),
        # [singular, plural]: the page picks by n (static/js/i18n.js)
        "more_matches": [_("und 1 weitere Verbindung"), _("und {n} weitere Verbindungen")],
        "more_tables": [_("und 1 weiterer Tisch"), _("und {n} weitere Tische")],
        "show_all": _("Alle {n} Verbindungen zeigen"),
        "new_link": _("Neue Verbindung"),
        "more_new": _("(und {n} weitere)"),
        "time_session": _("{time} Uhr · {session}"),
    }


def _public_page(template, event, **extra):
    if not event.board_enabled:
        abort(404)  # this meeting uses no board
    state = json_script(snapshot(event))
    return render_template(template, event=event, state=state, strings=_strings(), score_rule=_score_rule(), **extra)


def _score_rule():
    """How the points are counted, in one line in the page's language (from scoring.PAIR_WEIGHTS)."""
    return sentences.score_rule(get_locale().language, scoring.PAIR_WEIGHTS)


@bp.get("/e/<slug>/board")
def public_board(slug):
    return _public_page("matchmaking/board.html", event_or_404(slug))


@bp.get("/e/<slug>/board/screen")
def board_screen(slug):
    event = event_or_404(slug)
    # The QR opens the public board at the address phones reach (PUBLIC_URL when it is set).
    board_url = external_url("matchmaking_pages.public_board", slug=event.slug)
    code = qr.inline_svg(board_url, _("QR-Code: das Board auf dem Handy öffnen"), "qr")
    return _public_page("matchmaking/screen.html", event, board_url=board_url, qr=code)


# ---- a delegate's own pages ------------------------------------------------------------------------


def _delegate_or_404(token):
    """(guest, None) for a delegate of one of the event's municipalities; (guest, "no_municipality") for a
    guest whose town is not on the event's list, (guest, "not_confirmed") for one not (yet) confirmed as its
    delegate; 404 for anything else (unknown or cancelled ticket)."""
    try:
        return board.delegate(token), None
    except DomainError as exc:
        if exc.code in ("no_municipality", "not_confirmed"):
            return guest_by_token(token), exc.code
        abort(404)


class InviteForm(FlaskForm):
    code = StringField(
        _l("Einladungscode"), validators=[DataRequired(_l("Bitte den Einladungscode eingeben.")), Length(max=20)]
    )


@bp.post("/t/<token>/board/confirm")
@csrf.exempt  # the form checks its CSRF token itself, so a stale page shows a message, not a 400
def confirm_delegate(token):
    """A guest of a municipality becomes its delegate with the municipality's invitation code."""
    guest, problem = _delegate_or_404(token)
    if problem != "not_confirmed":
        return redirect(url_for(".delegate_board", token=token))
    form = InviteForm()
    if form.validate_on_submit():
        if board.confirm_with_invite_code(guest, form.code.data):
            return redirect(url_for(".delegate_board", token=token))
        form.code.errors = [_("Dieser Code gehört nicht zu %(city)s.", city=guest.municipality.name)]
    return render_template("matchmaking/delegate.html", event=guest.event, guest=guest, problem=problem, form=form), 422


def _shows_contact(guest):
    return (
        db.session.execute(
            select(Interest.id).where(
                Interest.municipality_id == guest.municipality_id, Interest.contact_guest_id == guest.id
            )
        ).first()
        is not None
    )


def _sessions_by_id(event):
    return {s.id: s for s in event.sessions}


def _plan_rows(event, plan, municipality_name):
    """The plan entries of one municipality with the time as text, the room and the partners."""
    sessions = _sessions_by_id(event)
    rows = []
    for item in plan:
        session = sessions.get(item["session_id"])
        start = datetime.fromisoformat(item["start"])
        rows.append(
            {
                **item,
                "time": start.strftime("%H:%M"),
                "room": session.room.name if session is not None and session.room is not None else "",
                "partners": [c for c in item["cities"] if c != municipality_name],
            }
        )
    rows.sort(key=lambda r: (r["start"], r["table"]))
    return rows


def _delegate_strings():
    return {
        **_strings(),
        "saving": _("Wird gespeichert…"),
        "saved": _("Gespeichert."),
        "dirty": _("Nicht gespeicherte Änderungen"),
        "draft_restored": _("Ihre noch nicht gespeicherten Eingaben wurden wiederhergestellt."),
        "save_failed": _("Nicht gespeichert: {message}"),
        "offline_failed": _(
            "Keine Verbindung zum Server. Ihre Eingaben bleiben erhalten; bitte noch einmal versuchen."
        ),
        "request_failed": _("Das hat nicht geklappt: {message}"),
        "request": _("Treffen anfragen"),
        "request_sent": _("Anfrage an {city} gesendet."),
        "accept": _("Annehmen"),
        "decline": _("Ablehnen"),
        "status_requested": _("offen"),
        "status_accepted": _("angenommen"),
        "status_declined": _("abgelehnt"),
        "incoming": _("{city} möchte sich mit Ihnen zum Thema {topic} treffen."),
        "outgoing": _("Ihre Anfrage an {city} zum Thema {topic}: {status}"),
        "no_suggestions": _(
            "Noch keine Vorschläge. Sie erscheinen, sobald Ihre Kommune auf dem Board ist und andere Kommunen dieselben Themen angeben."
        ),
        "no_requests": _("Keine Anfragen."),
        "no_plan": _("Für Ihre Kommune ist noch kein Tisch geplant."),
        "topic_for": _("Thema für das Treffen mit {city}"),
        "with": _("mit {cities}"),
        "plan_line": _("{time} Uhr · Tisch {n} · {topic}"),
    }


@bp.get("/t/<token>/board")
def delegate_board(token):
    guest, problem = _delegate_or_404(token)
    event = guest.event
    if problem:
        return render_template(
            "matchmaking/delegate.html", event=event, guest=guest, problem=problem, form=InviteForm()
        ), 403 if problem == "not_confirmed" else 409
    view = delegate_view(guest)
    page = {
        "token": guest.token,
        "municipality": guest.municipality.name,
        "consent_contact": guest.consent_contact,
        "contact": _shows_contact(guest),
        "topics": [{"slug": t.slug, "name": t.name} for t in event.topics],
        "view": view,
    }
    return render_template(
        "matchmaking/delegate.html",
        event=event,
        guest=guest,
        problem=None,
        view=view,
        page=json_script(page),
        state=json_script(snapshot(event)),
        strings=_delegate_strings(),
        score_rule=_score_rule(),
    )


@bp.get("/t/<token>/plan")
def delegate_plan(token):
    guest, problem = _delegate_or_404(token)
    if problem:
        abort(404)
    event = guest.event
    rows = _plan_rows(event, board.municipality_plan(event, guest.municipality), guest.municipality.name)
    return render_template(
        "matchmaking/plan.html", event=event, guest=guest, rows=rows, date=tickets.event_date(event)[0]
    )
