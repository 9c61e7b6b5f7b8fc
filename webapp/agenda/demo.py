"""The demo event from the seed press release (KL, 26 October 2018). Facts from the seed: title, host,
date and start, venue, the opening by the mayor, the talks of the CDO and of KL.digital's managing
director, the guest municipalities, the project topics and the cooperation fields. Invented (and marked as
demo data in the UI and README): the times of single sessions, the rooms, and who pitches which project."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.extensions import db
from ..core.models import Event, Municipality
from .models import Room, Session, Speaker, Topic

SLUG = "kl-2018"
TZ = ZoneInfo("Europe/Berlin")
DAY = datetime(2018, 10, 26, tzinfo=TZ)

ROOMS = [("Forum", "forum"), ("Seminarraum 1", "seminarraum-1"), ("Seminarraum 2", "seminarraum-2"), ("Foyer", "foyer")]

TOPICS = [
    ("bus-fussgaengerzone", "Teilautonomer Bus in der Fußgängerzone"),
    ("raumentwicklung", "Digitalisierung und Raumentwicklung"),
    ("drohnenschule", "Drohnenschule"),
    ("park-app", "Park App"),
    ("mobiles-wlan", "Mobiles WLAN"),
    ("asyl-cube", "Asyl Cube"),
    ("klar", "KLAR"),
    ("digitale-doerfer", "Digitale Dörfer"),
    ("bildung", "Bildung"),
    ("verwaltung", "Verwaltung"),
    ("sicherheit", "Sicherheit"),
]

# (name, slug, latitude, longitude, note): the host and the ten guests named in the seed.
MUNICIPALITIES = [
    ("Kaiserslautern", "kaiserslautern", 49.4447, 7.7690, "Gastgeberin"),
    ("Ludwigshafen", "ludwigshafen", 49.4774, 8.4452, ""),
    ("Trier", "trier", 49.7499, 6.6371, ""),
    ("Koblenz", "koblenz", 50.3569, 7.5890, ""),
    ("Neustadt an der Weinstraße", "neustadt-weinstrasse", 49.3501, 8.1390, ""),
    ("Zweibrücken", "zweibruecken", 49.2465, 7.3697, ""),
    ("Pirmasens", "pirmasens", 49.2010, 7.6053, ""),
    ("Frankenthal", "frankenthal", 49.5340, 8.3540, ""),
    ("Bad Kreuznach", "bad-kreuznach", 49.8450, 7.8670, ""),
    ("Mayen", "mayen", 50.3276, 7.2228, ""),
    ("Eisenberg (Pfalz)", "eisenberg-pfalz", 49.5600, 8.0700, "Digitale Dörfer"),
]

SPEAKERS = {
    "weichel": ("Dr. Klaus Weichel", "Oberbürgermeister der Stadt Kaiserslautern"),
    "rombach": ("Prof. Dr. Dieter Rombach", "Chief Digital Officer, Stadt Kaiserslautern"),
    "verlage": ("Dr. Martin Verlage", "Geschäftsführer KL.digital GmbH"),
    "kldigital": ("Team KL.digital", "KL.digital GmbH"),
}

# (start hh:mm, minutes, room, kind, title, speakers, topics, abstract)
SESSIONS = [
    (
        "13:30",
        30,
        "Foyer",
        "arrival",
        "Ankommen, Registrierung und Kaffee",
        [],
        [],
        "Check-in am Eingang des IT-Campus im PRE-Gelände.",
    ),
    (
        "14:00",
        15,
        "Forum",
        "opening",
        "Begrüßung und Eröffnung",
        ["weichel"],
        [],
        "Oberbürgermeister Dr. Klaus Weichel eröffnet das Netzwerktreffen der rheinland-pfälzischen Kommunen.",
    ),
    (
        "14:15",
        30,
        "Forum",
        "talk",
        "Die herzlich digitale Stadt: Strukturen, Roadmap und (Teil-)Ziele",
        ["rombach"],
        ["verwaltung"],
        "Die neu entstandenen Strukturen der herzlich digitalen Stadt, die Roadmap und die (Teil-)Ziele auf dem "
        "Weg in eine digitale Zukunft.",
    ),
    (
        "14:45",
        30,
        "Forum",
        "talk",
        "Projekte, Strategien und Kooperation",
        ["verlage"],
        ["bildung", "verwaltung", "sicherheit"],
        "KL.digital stellt Projekte und Strategien vor und lädt zur Kooperation in Bildung, Verwaltung und "
        "Sicherheit ein.",
    ),
    ("15:15", 20, "Foyer", "break", "Kaffeepause", [], [], ""),
    (
        "15:35",
        20,
        "Forum",
        "pitch",
        "Teilautonomes Fahren mit einem Bus in der Fußgängerzone",
        ["kldigital"],
        ["bus-fussgaengerzone"],
        "",
    ),
    ("15:55", 20, "Forum", "pitch", "Park App", ["kldigital"], ["park-app"], ""),
    ("16:15", 20, "Forum", "pitch", "Mobiles WLAN", ["kldigital"], ["mobiles-wlan"], ""),
    (
        "15:35",
        20,
        "Seminarraum 1",
        "pitch",
        "Einfluss der Digitalisierung auf die Raumentwicklung",
        ["kldigital"],
        ["raumentwicklung"],
        "",
    ),
    ("15:55", 20, "Seminarraum 1", "pitch", "Drohnenschule", ["kldigital"], ["drohnenschule"], ""),
    ("16:15", 20, "Seminarraum 1", "pitch", "Asyl Cube", ["kldigital"], ["asyl-cube"], ""),
    ("15:35", 20, "Seminarraum 2", "pitch", "KLAR", ["kldigital"], ["klar"], ""),
    (
        "15:55",
        40,
        "Seminarraum 2",
        "workshop",
        "Digitale Dörfer: Erfahrungen aus Eisenberg (Pfalz)",
        [],
        ["digitale-doerfer"],
        "",
    ),
    (
        "16:40",
        50,
        "Foyer",
        "networking",
        "Kooperationsrunden an Thementischen: Bildung, Verwaltung, Sicherheit",
        [],
        ["bildung", "verwaltung", "sicherheit"],
        "Die Städte finden sich an Thementischen zusammen; Vorschläge kommen vom Matchmaking-Board.",
    ),
    (
        "17:30",
        15,
        "Forum",
        "talk",
        "Ausblick: die nächsten Netzwerktreffen",
        ["verlage"],
        [],
        "Das Treffen ist der Auftakt einer Reihe regionenübergreifender Netzwerktreffen.",
    ),
    ("17:45", 75, "Foyer", "networking", "Get-together", [], [], ""),
]


def load_demo():
    """Create the demo event if it is not there; returns (event, created). Safe to run again."""
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one_or_none()
    if event is not None:
        return event, False
    event = Event(
        slug=SLUG,
        series="Digitale Netzwerktreffen Rheinland-Pfalz",
        title="Digitales Netzwerktreffen – rheinland-pfälzische Städte zu Gast in KL",
        subtitle="Herzlich digitale Stadt: Treffpunkt zum Austausch",
        host="KL.digital GmbH für die Stadt Kaiserslautern",
        venue="IT-Campus im PRE-Gelände, Kaiserslautern",
        description="IT-Expertinnen und -Experten und Wirtschaftsförderer aus Ludwigshafen, Trier, Koblenz, "
        "Neustadt an der Weinstraße, Zweibrücken, Pirmasens, Frankenthal, Bad Kreuznach, Mayen und "
        "Eisenberg (Pfalz) tauschen sich über digitale Projekte aus. Demo-Daten: Uhrzeiten der "
        "einzelnen Programmpunkte und Räume sind erfunden.",
        timezone="Europe/Berlin",
        starts_at=DAY.replace(hour=13, minute=30),
        ends_at=DAY.replace(hour=19),
        is_demo=True,
    )
    db.session.add(event)
    for name, slug, lat, lon, note in MUNICIPALITIES:
        db.session.add(
            Municipality(
                event=event,
                name=name,
                slug=slug,
                latitude=lat,
                longitude=lon,
                note=note,
                is_host=name == "Kaiserslautern",
            )
        )
    rooms = {name: Room(event=event, name=name, slug=slug, position=i) for i, (name, slug) in enumerate(ROOMS)}
    topics = {slug: Topic(event=event, slug=slug, name=name) for slug, name in TOPICS}
    speakers = {key: Speaker(event=event, name=name, role=role) for key, (name, role) in SPEAKERS.items()}
    for hhmm, minutes, room, kind, title, who, about, abstract in SESSIONS:
        hour, minute = map(int, hhmm.split(":"))
        start = DAY.replace(hour=hour, minute=minute)
        session = Session(
            event=event,
            title=title,
            kind=kind,
            abstract=abstract,
            room=rooms[room],
            planned_start=start,
            planned_end=start + timedelta(minutes=minutes),
        )
        session.speakers = [speakers[k] for k in who]
        session.topics = [topics[t] for t in about]
        db.session.add(session)
    db.session.commit()
    return event, True
