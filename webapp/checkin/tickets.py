"""Tickets: the QR code of a guest's ticket URL (SVG, PNG, and inline SVG for pages), the typed code as
people read it, and what the ticket page and the printed tickets show about a guest; badges.

The ticket QR encodes the absolute ticket URL (`guests.ticket_url(guest, external=True)`), so any phone camera
opens the guest's own page and the staff scanner reads the token out of it (service.find_guest).
A badge is worn in view of everyone: its QR carries only the guest's badge check-in code ("TPB-" + badge_code),
which checks the guest in at the door and opens no page; it shows no ticket code either.
Error correction M (15 %: survives a scratched print or a glare spot) and the standard 4-module quiet zone.
"""

import io
from datetime import timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import qrcode
from flask_babel import format_date
from markupsafe import Markup, escape
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathFillImage

from ..agenda import domain
from . import guests
from .models import BADGE_PREFIX

BORDER = 4  # modules of quiet zone on each side (the QR standard's minimum)
PNG_BOX = 10  # pixels per module of the PNG
SIZES = ("a4", "badge")
# A sheet of badge inserts: 2 columns × 5 rows of 90 × 55 mm on A4 (static/css/ticket.css, "badge sheets").
SHEET_COLUMNS, SHEET_ROWS = 2, 5
BADGES_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS
BADGE_MM = (90, 55)
A4_MM = (210, 297)


def _qr(text, box_size=PNG_BOX):
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, box_size=box_size)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def svg_bytes(text):
    """A standalone SVG document (qrcode's SvgPathImage with a white background)."""
    buf = io.BytesIO()
    _qr(text).make_image(image_factory=SvgPathFillImage).save(buf)
    return buf.getvalue()


def png_bytes(text, box_size=PNG_BOX):
    buf = io.BytesIO()
    _qr(text, box_size).make_image(image_factory=PyPNGImage).save(buf)
    return buf.getvalue()


@lru_cache(maxsize=2048)
def _path(text):
    """The dark modules as one SVG path (horizontal runs), and the side length including the quiet zone."""
    matrix = _qr(text).get_matrix()
    parts = []
    for y, row in enumerate(matrix):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return "".join(parts), len(matrix)


def inline_svg(text, label, css_class="qr"):
    """An <svg> element for embedding in a page: scales to its CSS width, crisp edges, white quiet zone.
    Presentation attributes only (no style attribute: the CSP forbids inline styles)."""
    path, size = _path(text)
    return Markup(
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges" preserveAspectRatio="xMidYMid meet">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/><path fill="#000000" d="{path}"/></svg>'
    )


def qr_matrix(text):
    """The module matrix (with quiet zone) as tuples of 0/1, for tests comparing the SVG with the PNG."""
    return tuple(tuple(int(bool(v)) for v in row) for row in _qr(text).get_matrix())


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
