"""Signals other areas listen to, sent inside the transaction that changes the programme (before commit), so
a listener's own changes land in the same transaction."""

from blinker import Namespace

_signals = Namespace()

# sender: the Event whose programme lost a session (the board re-plans the tables it held)
sessions_removed = _signals.signal("sessions-removed")
