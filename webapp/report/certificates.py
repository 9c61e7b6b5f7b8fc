"""Certificates of attendance (Teilnahmebescheinigungen): who gets one (a guest with a check-in, nobody
else), the options an organiser chooses per download, and each certificate's lines in its language. The
PDF (webapp/report/pdf.py) lays the lines out, one A4 page per guest."""

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..checkin.guests import sort_key
from ..checkin.models import CheckIn, Guest
from ..core.errors import DomainError
from ..core.extensions import db
from .figures import host_place, utc
from .labels import DATE_LOCALES, hhmm, long_date, medium_date

LANGUAGES = ("de", "en")
GUEST_LANGUAGE = "guest"  # each certificate in the language of its guest (Guest.language)
MAX_OPTION = 200
TITLE_MARK = "\x00title\x00"  # where the event's title stands in the translated sentence


@dataclass
class Options:
    language: str = "de"  # de | en | guest
    signature: bool = True
    signer: str = ""  # under the signature line; "" = the event's host
    place: str = ""  # "" = the host municipality
    issued: date | None = None  # None = today in the event's time zone


def _text(args, key):
    value = " ".join((args.get(key) or "").split())
    if len(value) > MAX_OPTION:
        raise DomainError("invalid", _("Höchstens %(n)d Zeichen.", n=MAX_OPTION), field=key)
    return value


def parse_options(args):
    """The download's options from the query string (all optional); DomainError for a bad one."""
    language = args.get("language") or "de"
    if language not in (*LANGUAGES, GUEST_LANGUAGE):
        raise DomainError("invalid", _("Unbekannte Sprache."), field="language")
    issued = None
    if args.get("date"):
        try:
            issued = date.fromisoformat(args["date"])
        except ValueError:
            raise DomainError("invalid", _("Das Datum ist ungültig."), field="date") from None
    return Options(
        language=language,
        signature=args.get("signature", "1") not in ("0", "", "off", "false"),
        signer=_text(args, "signer"),
        place=_text(args, "place"),
        issued=issued,
    )


def attended(event, guest_ids=None):
    """The guests who were checked in (optionally only these ids), by town then name."""
    query = (
        select(Guest)
        .join(CheckIn, CheckIn.guest_id == Guest.id)
        .where(Guest.event_id == event.id, CheckIn.event_id == event.id)
    )
    if guest_ids is not None:
        query = query.where(Guest.id.in_(guest_ids))
    guests = db.session.execute(query).scalars().all()
    return sorted(guests, key=lambda g: ((g.municipality.name if g.municipality else g.city).casefold(), sort_key(g)))


def certificate_for(event, guest_id):
    """One guest's certificate, only if that guest of this event was checked in; else DomainError 404."""
    found = attended(event, [guest_id]) if isinstance(guest_id, int) else []
    if not found:
        raise DomainError("not_found", _("Eine Teilnahmebescheinigung gibt es nur für eingecheckte Gäste."), 404)
    return found[0]


def language_of(guest, options):
    if options.language == GUEST_LANGUAGE:
        return guest.language if guest.language in LANGUAGES else "de"
    return options.language


def _person(guest, lang):
    """The name as printed; in German with Frau/Herr before it ("Frau Dr. Käthe Muster")."""
    name = " ".join(guest.name.split())
    if lang == "de" and guest.salutation in ("Frau", "Herr"):
        return f"{guest.salutation} {name}"
    return name


def _affiliation(guest):
    town = guest.municipality.name if guest.municipality else guest.city
    parts = [p.strip() for p in (guest.role, guest.organisation) if p and p.strip()]
    if town and not any(town.casefold() in p.casefold() for p in parts):
        parts.append(town.strip())
    return ", ".join(parts)


@dataclass
class Certificate:
    language: str
    heading: str
    person: str
    affiliation: str
    body: list  # lines; the one that is the title is in `title_line`
    title_line: int
    venue: str
    host: str
    place_date: str
    place_label: str
    signer: str
    demo_note: str


def certificate(event, guest, options, today=None):
    """The lines of one guest's certificate, in the language chosen (the catalogue's words)."""
    lang = language_of(guest, options)
    tz = ZoneInfo(event.timezone)
    start, end = utc(event.starts_at).astimezone(tz), utc(event.ends_at).astimezone(tz)
    issued = options.issued or today or datetime.now(timezone.utc).astimezone(tz).date()
    with force_locale(DATE_LOCALES[lang]):
        if start.date() == end.date():
            sentence = _(
                "hat am %(date)s\nvon %(start)s bis %(end)s Uhr\nan der Veranstaltung\n%(title)s\nteilgenommen.",
                date=long_date(start, lang),
                start=hhmm(start),
                end=hhmm(end),
                title=TITLE_MARK,
            )
        else:
            sentence = _(
                "hat vom %(first)s\nbis zum %(last)s\nan der Veranstaltung\n%(title)s\nteilgenommen.",
                first=long_date(start, lang),
                last=long_date(end, lang),
                title=TITLE_MARK,
            )
        body = sentence.split("\n")
        title_line = next((i for i, line in enumerate(body) if TITLE_MARK in line), len(body))
        if title_line == len(body):
            body.append(TITLE_MARK)
        body[title_line] = body[title_line].replace(TITLE_MARK, event.title)
        place = options.place or host_place(event)
        issued_text = medium_date(issued, lang)
        return Certificate(
            language=lang,
            heading=_("Teilnahmebescheinigung"),
            person=_person(guest, lang),
            affiliation=_affiliation(guest),
            body=body,
            title_line=title_line,
            venue=_("Veranstaltungsort: %(venue)s", venue=event.venue) if event.venue else "",
            host=_("Veranstalter: %(host)s", host=event.host) if event.host else "",
            place_date=f"{place}, {issued_text}" if place else issued_text,
            place_label=_("Ort, Datum"),
            signer=(options.signer or event.host) if options.signature else "",
            demo_note=_("Demo-Veranstaltung mit erfundenen Daten: keine gültige Bescheinigung.")
            if event.is_demo
            else "",
        )
