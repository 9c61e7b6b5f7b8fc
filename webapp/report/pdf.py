"""The report and the certificates as PDF (fpdf2, pure Python), A4 portrait.

Fonts: DejaVu Sans from the system (Debian's fonts-dejavu-core, /usr/share/fonts/truetype/dejavu/), embedded
as a subset, so that umlauts, „quotes“ and dashes print and the text can be searched and copied. Without it
fpdf2's built-in Helvetica is used with the Windows-1252 encoding: umlauts and „“–… still print, rarer
characters become "?". Nothing is vendored (docs/report.md)."""

from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF, FontFace, XPos, YPos

from . import labels
from .chart import arrivals_chart

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),  # Fedora, Arch
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
CORE_FAMILY = "helvetica"
# What the built-in fonts cannot print, in their nearest words.
CORE_REPLACEMENTS = str.maketrans({"→": "->", "←": "<-", "−": "-", "\u2009": " ", "\u202f": " ", "\u00a0": " "})
MARGIN = 15
GREY = (90, 90, 96)
BRAND = (160, 0, 42)
HEADING_FILL = (238, 236, 232)


def font_files():
    """{style: path} of DejaVu Sans regular and bold, or None if the system has no such font."""
    for folder in FONT_DIRS:
        files = {style: folder / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in files.values()):
            return files
    return None


class Document(FPDF):
    """An A4 page with the event's footer (name, page n of N) and one font family, TTF or built-in."""

    def __init__(self, footer_text="", lang="de"):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.page_label = _("Seite %(n)s von %(total)s", n="{n}", total="{nb}")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)
        self.set_creator("Treffpunkt")
        self.set_lang(lang)
        files = font_files()
        if files:
            for style, path in files.items():
                self.add_font(FAMILY, style, str(path))
            self.family = FAMILY
        else:
            self.core_fonts_encoding = "windows-1252"
            self.family = CORE_FAMILY
        self.alias_nb_pages()

    def normalize_text(self, text):
        if not self.is_ttf_font:
            text = text.translate(CORE_REPLACEMENTS).encode("cp1252", "replace").decode("cp1252")
        return super().normalize_text(text)

    def font(self, size=10, bold=False, color=(0, 0, 0)):
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def footer(self):
        if not self.footer_text:
            return
        self.set_y(-MARGIN)
        self.font(8, color=GREY)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.page_label.replace("{n}", str(self.page_no())), align="R")

    def line_of(self, text, size=10, bold=False, color=(0, 0, 0), height=None, align="L"):
        self.font(size, bold, color)
        self.multi_cell(0, height or size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text, size=13):
        if self.get_y() > self.h - 60:  # a heading does not stand alone at the foot of a page
            self.add_page()
        self.ln(4)
        self.line_of(text, size, bold=True, color=BRAND, height=size * 0.55)
        self.ln(1)

    def grid(self, header, rows, widths, align=None):
        """A table over the page width that breaks across pages, repeating its header."""
        self.font(8.5)
        with self.table(
            col_widths=widths,
            width=self.epw,
            text_align=align or "LEFT",
            line_height=4.2,
            padding=1.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            borders_layout="HORIZONTAL_LINES",
            repeat_headings=1,
        ) as table:
            head = table.row()
            for text in header:
                head.cell(str(text))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
        self.ln(2)


# ---- the report ------------------------------------------------------------------------------------------


def _summary(pdf, pairs):
    pdf.line_of("  ·  ".join(f"{label}: {value}" for label, value in pairs), 9.5, height=5)
    pdf.ln(1)


def _chart(pdf, buckets, minutes, day):
    width = pdf.epw
    chart = arrivals_chart(buckets)
    if chart is None:
        return
    scale = width / chart["width"]
    height = chart["height"] * scale
    if pdf.get_y() + height > pdf.h - MARGIN - 10:
        pdf.add_page()
    x0, y0 = pdf.l_margin, pdf.get_y()

    def at(x, y):
        return x0 + x * scale, y0 + y * scale

    plot = chart["plot"]
    pdf.set_draw_color(200, 198, 192)
    pdf.set_line_width(0.2)
    pdf.font(7, color=GREY)
    for tick in chart["y_ticks"]:
        left, y = at(plot["left"], tick["y"])
        right, _y = at(plot["right"], tick["y"])
        pdf.line(left, y, right, y)
        pdf.text(left - 6, y + 1, str(tick["n"]))
    pdf.set_fill_color(*BRAND)
    for bar in chart["bars"]:
        if bar["h"]:
            x, y = at(bar["x"], bar["y"])
            pdf.rect(x, y, bar["w"] * scale, bar["h"] * scale, style="F")
    pdf.set_draw_color(11, 79, 138)
    pdf.set_line_width(0.5)
    pdf.polyline([at(*map(float, p.split(","))) for p in chart["line"].split()])
    for label in chart["x_labels"]:
        x, y = at(label["x"], plot["bottom"])
        pdf.text(x, y + 4, labels.when(label["start"], day))
    right, top = at(plot["right"], chart["total_y"])
    pdf.text(right + 1, top + 2, str(chart["total"]))
    pdf.set_draw_color(0, 0, 0)  # the table after the chart draws with the defaults again
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.2)
    pdf.set_y(y0 + height)
    pdf.line_of(
        _(
            "Balken: Ankünfte je %(minutes)s Minuten; Linie: Summe bis %(total)s.",
            minutes=minutes,
            total=chart["total"],
        ),
        7.5,
        color=GREY,
        height=4,
    )


def _event_lines(pdf, event, day_text, made_at, day):
    pdf.line_of(event.title, 13, bold=True, height=6.5)
    if event.subtitle:
        pdf.line_of(event.subtitle, 10, color=GREY, height=5)
    for text in (day_text, event.venue, event.host and _("Veranstalter: %(host)s", host=event.host)):
        if text:
            pdf.line_of(text, 9.5, height=5)
    pdf.line_of(_("Stand: %(when)s", when=made_at.strftime("%d.%m.%Y %H:%M")), 8.5, color=GREY, height=5)
    if event.is_demo:
        pdf.line_of(_("Demo-Veranstaltung: Uhrzeiten, Räume, Gäste und Board-Angaben sind erfunden."), 8.5, height=5)


def report_pdf(report):
    event, arrivals, programme, board = report.event, report.arrivals, report.programme, report.board
    lang = labels.language()
    day = labels.event_day(event)
    pdf = Document(footer_text=f"Treffpunkt · {event.title}", lang=lang)
    pdf.set_title(_("Bericht: %(title)s", title=event.title))
    pdf.set_author(event.host or "Treffpunkt")
    pdf.add_page()
    pdf.line_of(_("Bericht zur Veranstaltung"), 17, bold=True, color=BRAND, height=9)
    _event_lines(pdf, event, labels.event_when(event), report.made_at, day)

    total = arrivals.total
    pdf.heading(_("Teilnahme"))
    _summary(
        pdf,
        [
            (_("Angemeldet"), total.registered),
            (_("gekommen"), f"{total.arrived} ({labels.percent(total.rate)})"),
            (_("nicht erschienen"), total.no_shows),
            (_("storniert"), total.cancelled),
            (_("Warteliste"), total.waiting),
        ],
    )
    pdf.grid(
        [_("Kommune"), _("Angemeldet"), _("Gekommen"), _("Nicht erschienen"), _("Anteil")],
        [
            [
                labels.town_name(t) + (f" ({labels.town_kind(t)})" if labels.town_kind(t) else ""),
                t.registered,
                t.arrived,
                t.no_shows,
                labels.percent(t.rate),
            ]
            for t in [*arrivals.towns, total]
        ],
        (70, 25, 25, 30, 20),
        ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    )
    if arrivals.buckets:
        pdf.heading(_("Ankünfte über die Zeit"), 11)
        _chart(pdf, arrivals.buckets, arrivals.bucket_minutes, day)

    pdf.heading(_("Programm"))
    _summary(pdf, labels.programme_summary(programme))
    pdf.grid(
        [_("Geplant"), _("Tatsächlich"), _("Programmpunkt"), _("Raum"), _("Abweichung"), _("Änderungen")],
        [
            [
                f"{labels.hhmm(s.planned_start)}–{labels.hhmm(s.planned_end)}",
                "–" if s.state == "cancelled" else f"{labels.hhmm(s.start)}–{labels.hhmm(s.end)}",
                f"{s.title} ({labels.kind(s.kind)})",
                s.room or "–",
                labels.session_remarks(s, day) or _("wie geplant"),
                "; ".join(labels.note_text(n, day) for n in s.notes),
            ]
            for s in programme.sessions
        ],
        (22, 22, 50, 24, 29, 33),
    )

    if board.enabled:
        pdf.heading(_("Matchmaking-Board"))
        _summary(pdf, labels.board_summary(board))
        if board.matches:
            pdf.heading(_("Verbindungen"), 11)
            pdf.grid(
                [_("Kommunen"), _("Punkte"), _("Gründe")],
                [[" – ".join(m["cities"]), labels.number(m["score"]), " ".join(m["reasons"])] for m in board.matches],
                (50, 15, 115),
                ("LEFT", "RIGHT", "LEFT"),
            )
        if board.accepted:
            pdf.heading(_("Vereinbarte Treffen"), 11)
            pdf.grid(
                [_("Kommunen"), _("Thema"), _("Zugesagt"), _("Fand statt")],
                [
                    [
                        f"{a['from']} – {a['to']}",
                        a["topic"],
                        labels.when(a["answered_at"], day),
                        labels.yes(a["took_place"]),
                    ]
                    for a in board.accepted
                ],
                (60, 60, 30, 30),
            )
        if board.tables:
            pdf.heading(_("Treffen und Thementische im Programm"), 11)
            pdf.grid(
                [_("Zeit"), _("Tisch"), _("Art"), _("Thema"), _("Kommunen"), _("Fand statt")],
                [
                    [
                        labels.hhmm(t.start),
                        t.table,
                        labels.TABLE_KINDS.get(t.kind, t.kind),
                        t.topic,
                        ", ".join(t.cities),
                        labels.table_outcome(t),
                    ]
                    for t in board.tables
                ],
                (14, 12, 24, 40, 55, 35),
            )
    return bytes(pdf.output())


# ---- certificates ----------------------------------------------------------------------------------------


def _certificate_page(pdf, c):
    pdf.add_page()
    pdf.set_lang(c.language)
    pdf.set_y(45)
    pdf.line_of(c.heading, 26, bold=True, color=BRAND, height=13, align="C")
    pdf.ln(16)
    pdf.line_of(c.person, 20, bold=True, height=10, align="C")
    if c.affiliation:
        pdf.ln(1)
        pdf.line_of(c.affiliation, 11.5, color=GREY, height=6, align="C")
    pdf.ln(10)
    for i, line in enumerate(c.body):
        if i == c.title_line:
            pdf.ln(2)
            pdf.line_of(line, 15, bold=True, height=7.5, align="C")
            pdf.ln(2)
        elif line.strip():
            pdf.line_of(line, 13, height=7, align="C")
    pdf.ln(10)
    for line in (c.venue, c.host):
        if line:
            pdf.line_of(line, 10.5, height=5.5, align="C")
    # Place and date on the left, the signature on the right, each over a line with its label below.
    y = max(pdf.get_y() + 20, 228)
    left, right = pdf.l_margin + 10, pdf.w / 2 + 10
    width = pdf.w / 2 - pdf.l_margin - 20
    pdf.font(11)
    pdf.set_xy(left, y)
    pdf.cell(width, 6, c.place_date)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.line(left, y + 7, left + width, y + 7)
    pdf.set_xy(left, y + 8)
    pdf.font(8.5, color=GREY)
    pdf.cell(width, 4.5, c.place_label)
    if c.signer:
        pdf.line(right, y + 7, right + width, y + 7)
        pdf.set_xy(right, y + 8)
        pdf.font(9.5)
        pdf.multi_cell(width, 4.8, c.signer, align="L")
    if c.demo_note:
        pdf.set_xy(pdf.l_margin, pdf.h - MARGIN - 12)
        pdf.line_of(c.demo_note, 8.5, color=BRAND, height=4.5, align="C")


def certificates_pdf(event, certificates):
    """All certificates in one file, one A4 page each (no page breaks inside one)."""
    pdf = Document(lang=certificates[0].language if certificates else "de")
    pdf.set_auto_page_break(False)
    pdf.set_title(certificates[0].heading if len(certificates) == 1 else _("Teilnahmebescheinigungen"))
    pdf.set_author(event.host or "Treffpunkt")
    for c in certificates:
        _certificate_page(pdf, c)
    return bytes(pdf.output())
