"""Signals other areas listen to, sent inside the transaction that changes guests (before commit), so a
listener's own changes land in the same transaction."""

from blinker import Namespace

_signals = Namespace()

# sender: the Event whose guest list changed (someone registered, was imported, cancelled or restored)
guests_changed = _signals.signal("guests-changed")
