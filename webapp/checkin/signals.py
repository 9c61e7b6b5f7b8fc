"""Signals other areas listen to, sent inside the transaction that changes guests (before commit), so a
listener's own changes land in the same transaction."""

from blinker import Namespace

_signals = Namespace()

# sender: the Event whose guest list changed (someone registered, was imported, cancelled or restored)
guests_changed = _signals.signal("guests-changed")

# sender: the Event; guest=the Guest who registered herself (registered or on the waiting list)
guest_registered = _signals.signal("guest-registered")
# sender: the Event; guests=those who moved up from the waiting list to a place
guests_moved_up = _signals.signal("guests-moved-up")
