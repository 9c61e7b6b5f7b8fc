"""Matchmaking board: municipalities state per topic whether they run, plan or are interested in a
project; the board links them with reasons, suggests meetings and topic tables, and plans them into the
networking slots."""

from flask_babel import lazy_gettext as _l

from ..agenda.signals import programme_changed, programme_changing
from ..checkin.signals import guests_changed
from ..core.extensions import csrf
from ..core.validation import register_field_labels
from ..live import register_snapshot_part
from . import api, board, change_texts, pages

# What the delegate page calls the fields the board's API checks (core.validation.field_label).
FIELDS = {
    "consent": _l("Sichtbarkeit"),
    "interests": _l("Themen"),
    "contact": _l("Ansprechpartner/in"),
    "version": _l("Stand der Angaben"),
    "with": _l("Gesprächspartner"),
    "topic": _l("Thema"),
    "accept": _l("Antwort"),
    "stage": _l("Stand"),
    "note": _l("Notiz"),
}


def init_app(app):
    for blueprint in (api.bp, pages.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # ticket-token and bearer requests; no cookies involved
    register_snapshot_part(board.board_part)
    change_texts.register()  # how its changes read in the change log, in either language
    guests_changed.connect(board.refresh_plan)  # a late registration or a cancellation re-plans the tables
    # a session or topic taken out of the programme: tables and answers follow, phones are told
    programme_changing.connect(board.note_board)
    programme_changed.connect(board.board_after_programme_change)
    register_field_labels(FIELDS)
