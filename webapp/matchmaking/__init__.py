"""Matchmaking board: municipalities state per topic whether they run, plan or are interested in a
project; the board links them with reasons, suggests meetings and topic tables, and plans them into the
networking slots."""

from ..agenda.signals import programme_changed, programme_changing
from ..checkin.signals import guests_changed
from ..core.extensions import csrf
from ..live import register_snapshot_part
from . import api, board, pages


def init_app(app):
    for blueprint in (api.bp, pages.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # ticket-token and bearer requests; no cookies involved
    register_snapshot_part(board.board_part)
    guests_changed.connect(board.refresh_plan)  # a late registration or a cancellation re-plans the tables
    # a session or topic taken out of the programme: tables and answers follow, phones are told
    programme_changing.connect(board.note_board)
    programme_changed.connect(board.board_after_programme_change)
