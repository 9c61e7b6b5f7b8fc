"""QR codes drawn on the server with the `qrcode` package (no script, no remote image): inline SVG for pages
(tickets, badges, the projector's and door screens' "open on your phone"), a standalone SVG and a PNG (the
ticket's image URLs and the ticket mail). Error correction M (15 %: survives a scratched print or a glare
spot) and the standard 4-module quiet zone."""

import io
from functools import lru_cache

import qrcode
from markupsafe import Markup, escape
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathFillImage

BORDER = 4  # modules of quiet zone on each side (the QR standard's minimum)
PNG_BOX = 10  # pixels per module of the PNG


def make(text, box_size=PNG_BOX):
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, box_size=box_size)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def svg_bytes(text):
    """A standalone SVG document (qrcode's SvgPathImage with a white background)."""
    buf = io.BytesIO()
    make(text).make_image(image_factory=SvgPathFillImage).save(buf)
    return buf.getvalue()


def png_bytes(text, box_size=PNG_BOX):
    buf = io.BytesIO()
    make(text, box_size).make_image(image_factory=PyPNGImage).save(buf)
    return buf.getvalue()


@lru_cache(maxsize=2048)
def _path(text):
    """The dark modules as one SVG path (horizontal runs), and the side length including the quiet zone."""
    matrix = make(text).get_matrix()
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
    """An <svg> element with the QR code of `text` for embedding in a page: `label` is its accessible name
    (role="img"); it scales to its CSS width, with crisp edges and a white quiet zone (so it reads on a dark
    screen too). Presentation attributes only: the CSP forbids inline styles."""
    path, size = _path(text)
    return Markup(
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges" preserveAspectRatio="xMidYMid meet">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/><path fill="#000000" d="{path}"/></svg>'
    )


def matrix(text):
    """The module matrix (with quiet zone) as tuples of 0/1, for tests comparing the SVG with the PNG."""
    return tuple(tuple(int(bool(v)) for v in row) for row in make(text).get_matrix())
