"""report.csv: the report's tables one below the other, each under its title row and its header row, with
an empty row between them. As every CSV of Treffpunkt for Excel (webapp/checkin/staff_guests.py): UTF-8
with BOM, `;`, CRLF, German headers whatever the page language, cells that Excel would run as a formula
defused."""

from flask_babel import force_locale, format_decimal

from ..checkin.staff_guests import _cell as text_cell  # the same CSV-injection guard as attendance.csv
from ..checkin.staff_guests import excel_csv
from . import labels

TIME = "%d.%m.%Y %H:%M"


def _time(moment):
    return moment.strftime(TIME) if moment is not None else ""


def _share(ratio):
    return format_decimal(round(ratio * 100, 1)) if ratio is not None else ""


def report_csv(report):
    with force_locale("de"):
        return _rows(report)


def _rows(report):
    event, arrivals, programme, board = report.event, report.arrivals, report.programme, report.board
    day = labels.event_day(event)
    rows = [
        ["Datum", labels.event_when(event, "de")],
        ["Ort", text_cell(event.venue)],
        ["Veranstalter", text_cell(event.host)],
        ["Stand", _time(report.made_at)],
        [],
        ["Ankünfte nach Kommune"],
        [
            "Kommune",
            "Art",
            "Angemeldet",
            "Gekommen",
            "Nicht erschienen",
            "Anteil gekommen (%)",
            "Storniert",
            "Warteliste",
        ],
    ]
    for t in [*arrivals.towns, arrivals.total]:
        rows.append(
            [
                text_cell(labels.town_name(t)),
                labels.town_kind(t),
                t.registered,
                t.arrived,
                t.no_shows,
                _share(t.rate),
                t.cancelled,
                t.waiting,
            ]
        )
    rows += [[], ["Ankünfte über die Zeit"], ["Ab", "Ankünfte", "Summe"]]
    rows += [[_time(b.start), b.arrivals, b.total] for b in arrivals.buckets]
    rows += [
        [],
        ["Programm"],
        [
            "Geplanter Beginn",
            "Geplantes Ende",
            "Beginn",
            "Ende",
            "Programmpunkt",
            "Art",
            "Geplanter Raum",
            "Raum",
            "Verspätung (min)",
            "Überziehung (min)",
            "Status",
            "Änderungen",
        ],
    ]
    for s in programme.sessions:
        held = s.state != "cancelled"
        rows.append(
            [
                _time(s.planned_start),
                _time(s.planned_end),
                _time(s.start) if held else "",
                _time(s.end) if held else "",
                text_cell(s.title),
                labels.kind(s.kind),
                text_cell(s.planned_room),
                text_cell(s.room),
                s.delay,
                s.overrun,
                str(labels.STATES[s.state]),
                text_cell("; ".join(labels.note_text(n, day) for n in s.notes)),
            ]
        )
    if board.enabled:
        rows += [[], ["Verbindungen"], ["Kommune A", "Kommune B", "Punkte", "Themen", "Gründe"]]
        rows += [
            [
                text_cell(m["cities"][0]),
                text_cell(m["cities"][1]),
                labels.number(m["score"]),
                text_cell(", ".join(m.get("topics", []))),
                text_cell(" ".join(m["reasons"])),
            ]
            for m in board.matches
        ]
        rows += [[], ["Vereinbarte Treffen"], ["Von", "An", "Thema", "Zugesagt", "Fand statt"]]
        rows += [
            [
                text_cell(a["from"]),
                text_cell(a["to"]),
                text_cell(a["topic"]),
                _time(a["answered_at"]),
                labels.yes(a["took_place"]),
            ]
            for a in board.accepted
        ]
        rows += [
            [],
            ["Treffen und Thementische"],
            ["Programmpunkt", "Beginn", "Tisch", "Art", "Thema", "Kommunen", "Anwesend", "Fand statt", "Grund"],
        ]
        rows += [
            [
                text_cell(t.session),
                _time(t.start),
                t.table,
                str(labels.TABLE_KINDS.get(t.kind, t.kind)),
                text_cell(t.topic),
                text_cell(", ".join(t.cities)),
                text_cell(", ".join(t.present)),
                labels.yes(t.took_place),
                str(labels.WHY_NOT.get(t.why_not, "")),
            ]
            for t in board.tables
        ]
    return excel_csv(["Bericht", text_cell(event.title)], rows)
