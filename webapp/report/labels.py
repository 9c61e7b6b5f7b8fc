"""The report's words for stored codes and its formats of times and numbers, in the reader's language (the
page's, or the one chosen for a download). German msgids, English in translations/en."""

from datetime import timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..agenda.labels import label as agenda_label

STATES = {"held": _l("fand statt"), "cancelled": _l("abgesagt"), "upcoming": _l("steht noch aus")}
CHANGES = {
    "session.delayed": _l("Zeit verschoben"),
    "session.moved": _l("Raum gewechselt"),
    "session.cancelled": _l("abgesagt"),
    "session.restored": _l("findet wieder statt"),
    "session.added": _l("neu im Programm"),
    "session.edited": _l("geändert"),
    "session.overrun": _l("überzogen"),
    "session.ended": _l("beendet"),
}
STAGES = {"runs": _l("im Betrieb"), "plans": _l("in Planung"), "interested": _l("Interesse bekundet")}
TABLE_KINDS = {"meeting": _l("Treffen"), "table": _l("Thementisch")}
WHY_NOT = {
    "cancelled": _l("Programmpunkt abgesagt"),
    "upcoming": _l("steht noch aus"),
    "absent": _l("weniger als zwei der Kommunen anwesend"),
}
# Babel's locale data for dates: British English, as the rest of the English UI.
DATE_LOCALES = {"de": "de_DE", "en": "en_GB"}


def language():
    locale = get_locale()
    return locale.language if locale is not None and locale.language in DATE_LOCALES else "de"


def town_name(town):
    if town.kind == "total":
        return _("Summe")
    if town.kind == "none":
        return _("Ohne Angabe")
    return town.name


def town_kind(town):
    return {"host": _("Gastgeberin"), "other": _("weitere Kommune")}.get(town.kind, "")


def kind(code):
    return agenda_label(code, "kind")


def long_date(moment, lang=None):
    """ "Freitag, 26. Oktober 2018" / "Friday 26 October 2018"."""
    return babel_format_date(moment, "full", locale=DATE_LOCALES[lang or language()])


def medium_date(moment, lang=None):
    """ "26. Oktober 2018" / "26 October 2018"."""
    return babel_format_date(moment, "long", locale=DATE_LOCALES[lang or language()])


def hhmm(moment):
    return moment.strftime("%H:%M") if moment is not None else ""


def when(moment, day):
    """hh:mm on the event's day, else with the date (a change made the evening before, a late check-in)."""
    if moment is None:
        return ""
    return hhmm(moment) if moment.date() == day else moment.strftime("%d.%m. %H:%M")


def minutes(n):
    return _("%(n)s min", n=format(n, "+d")) if n else "0"


def percent(ratio):
    return format_percent(ratio) if ratio is not None else "–"


def number(value):
    return format_decimal(value)


def note_text(note, day):
    """One change of a session as a reader says it: "15:32 Zeit verschoben (+10 min)"."""
    what = str(CHANGES.get(note.kind, _("geändert")))
    detail = ""
    if note.kind == "session.delayed" and note.delay is not None:
        detail = minutes(note.delay) if note.delay else _("pünktlich")
    elif note.kind == "session.moved" and note.room:
        detail = note.room
    elif note.kind in ("session.overrun", "session.ended") and note.overrun is not None:
        detail = minutes(note.overrun)
    return f"{when(note.at, day)} {what}" + (f" ({detail})" if detail else "")


def session_remarks(row, day):
    """What differed from the plan, in a few words: delay, overrun, room change."""
    parts = []
    if row.state == "cancelled":
        return str(STATES["cancelled"])
    if row.delay:
        parts.append(_("Beginn %(n)s", n=minutes(row.delay)))
    if row.overrun:
        parts.append(_("überzogen %(n)s", n=minutes(row.overrun)))
    if row.moved:
        parts.append(_("Raum: %(planned)s → %(room)s", planned=row.planned_room or "–", room=row.room or "–"))
    return "; ".join(parts)


def local(moment, event):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(event.timezone))


def event_day(event):
    """The event's first day in its time zone (times on it are shown without the date)."""
    return local(event.starts_at, event).date()


def event_when(event, lang=None):
    """ "Freitag, 26. Oktober 2018, 13:30–19:15 Uhr" (or first and last day)."""
    start, end = local(event.starts_at, event), local(event.ends_at, event)
    if start.date() == end.date():
        return _("%(date)s, %(start)s–%(end)s Uhr", date=long_date(start, lang), start=hhmm(start), end=hhmm(end))
    return f"{long_date(start, lang)} – {long_date(end, lang)}"


def yes(value):
    return _("ja") if value else _("nein")


def table_outcome(table):
    if table.took_place:
        return _("ja") + f" ({', '.join(table.present)})"
    return _("nein") + f" ({WHY_NOT[table.why_not]})"


def programme_summary(p):
    """[(label, value)] of the programme's figures."""
    pairs = [
        (_("Geplant"), p.planned),
        (_("fanden statt"), p.held),
        (_("abgesagt"), p.cancelled),
    ]
    if p.upcoming:
        pairs.append((_("stehen noch aus"), p.upcoming))
    pairs.append((_("pünktlich"), p.on_time))
    delayed = str(p.delayed)
    if p.delayed:
        delayed += " " + _("(zusammen %(sum)s min, höchstens %(max)s min)", sum=p.delay_minutes, max=p.max_delay)
    pairs += [
        (_("später begonnen"), delayed),
        (_("früher begonnen"), p.early),
        (_("überzogen"), p.overran),
        (_("Raum gewechselt"), p.moved),
    ]
    return pairs


def board_summary(b):
    return [
        (_("Kommunen auf dem Board"), b.municipalities),
        (_("Angaben"), b.interests_total),
        *[(str(STAGES[stage]), n) for stage, n in b.interests.items()],
        (_("Verbindungen"), len(b.matches)),
        (_("Treffen-Anfragen angenommen"), f"{b.requests.get('accepted', 0)} / {sum(b.requests.values())}"),
        (_("Treffen, die stattfanden"), f"{b.meetings_held} / {sum(t.kind == 'meeting' for t in b.tables)}"),
        (_("Thementische, die stattfanden"), f"{b.tables_held} / {sum(t.kind == 'table' for t in b.tables)}"),
    ]
