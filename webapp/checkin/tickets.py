"""Tickets: the QR code of a guest's ticket URL, the typed code as
people read it, and what the ticket page and the printed tickets show about a guest; badges.

The ticket QR encodes the absolute ticket URL (`guests.ticket_url(guest, external=True)`), so any phone camera
opens the guest's own page and the staff scanner reads the token out of it (service.find_guest).
A badge is worn in view of everyone: its QR carries only the guest's badge check-in code ("TPB-" + badge_code),
which checks the guest in at the door and opens no page; it shows no ticket code either.
The codes themselves are drawn by core/qr.py.
"""

from datetime import timezone
from zoneinfo import ZoneInfo

from flask_babel import format_date

from ..agenda import domain
from ..core.qr import inline_svg
from . import guests
from .models import BADGE_PREFIX

SIZES = ("a4", "badge")
# A sheet of badge inserts: 2 columns × 5 rows of 90 × 55 mm on A4 (static/css/ticket.css, "badge sheets").
SHEET_COLUMNS, SHEET_ROWS = 2, 5
BADGES_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS
BADGE_MM = (90, 55)
A4_MM = (210, 297)


def format_code(code):
    """The typed code in two groups of four, as printed and read aloud: "ABCD EFGH"."""
    return f"{code[:4]} {code[4:]}" if len(code) == 8 else code


def local(dt, event):
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(ZoneInfo(event.timezone))


def event_date(event):
    """The event's date and start time as people read them ("Freitag, 26. Oktober 2018", "14:00")."""
    start = local(event.starts_at, event)
    return format_date(start.date(), "full"), start.strftime("%H:%M")


def checked_in_time(guest):
    """hh:mm in the event's time zone, or None."""
    return local(guest.checkin.at, guest.event).strftime("%H:%M") if guest.checkin else None


def agenda_items(event):
    """What the ticket page needs to list a guest's favourites (kept in the browser, see static/js/agenda.js):
    id, title, expected start, room, cancelled."""
    return [
        {
            "id": s.id,
            "title": s.title,
            "start": local(domain.expected_start(s), event).strftime("%H:%M"),
            "room": s.room.name if s.room else "",
            "cancelled": s.status == "cancelled",
        }
        for s in event.sessions
    ]


def ticket_view(guest, label):
    """Everything a ticket (page or print) shows about one guest."""
    url = guests.ticket_url(guest, external=True)
    date_text, time_text = event_date(guest.event)
    return {
        "guest": guest,
        "event": guest.event,
        "url": url,
        "qr": inline_svg(url, label),
        "code": format_code(guest.code),
        "date": date_text,
        "time": time_text,
        "checked_in": checked_in_time(guest),
    }


# ---- badges ------------------------------------------------------------------------------------------


def badge_text(guest):
    """What a badge's QR says: the badge check-in code, nothing that opens a page."""
    return BADGE_PREFIX + guest.badge_code


def badge_qr(guest, label):
    return inline_svg(badge_text(guest), label)


def badge_sheets(views):
    """Badges in A4 sheets of BADGES_PER_SHEET, in order (the last one may be part-filled)."""
    return [views[i : i + BADGES_PER_SHEET] for i in range(0, len(views), BADGES_PER_SHEET)]


def cut_marks(gap=2, length=6):
    """The cut marks of a badge sheet as lines (x1, y1, x2, y2) in mm on the A4 page: in the margins, on
    the continuation of every cut line between and around the badges (the grid is centred on the page),
    `gap` mm away from the badges."""
    (page_w, page_h), (w, h) = A4_MM, BADGE_MM
    left, top = (page_w - SHEET_COLUMNS * w) / 2, (page_h - SHEET_ROWS * h) / 2
    right, bottom = left + SHEET_COLUMNS * w, top + SHEET_ROWS * h
    lines = []
    for i in range(SHEET_COLUMNS + 1):
        x = left + i * w
        lines += [(x, top - gap - length, x, top - gap), (x, bottom + gap, x, bottom + gap + length)]
    for j in range(SHEET_ROWS + 1):
        y = top + j * h
        lines += [(left - gap - length, y, left - gap, y), (right + gap, y, right + gap + length, y)]
    return lines
