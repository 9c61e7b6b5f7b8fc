"""Signals other areas listen to, sent inside the transaction that changes the programme (before commit), so
a listener's own changes land in the same transaction."""

from blinker import Namespace

_signals = Namespace()

# sender: the Event whose programme is about to lose sessions or rename topics: the board notes what it
# shows now (the database cascades would otherwise take its tables and answers away unseen)
programme_changing = _signals.signal("programme-changing")
# sender: the Event whose programme lost sessions or renamed topics: the board re-plans the tables and
# sends one change if what it shows differs from what it noted
programme_changed = _signals.signal("programme-changed")
