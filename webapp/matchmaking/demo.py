"""Demo data for the board of kl-2018: invented stages (the seed names the projects and fields, not who
runs or wants what) and one invented delegation per municipality, so the board and the table plan have
something to show on `make run`. Three guest towns have not agreed to the board, as in real life. The
projects get the phrases an organiser would type on the set-up page; the fields (Bildung, Verwaltung,
Sicherheit) and the names that are no noun (KLAR, Digitale Dörfer, …) keep the derived wording."""

from ..checkin.guests import new_guest
from ..core.extensions import db
from .board import replan
from .models import Interest

STAGES = {
    "Kaiserslautern": {
        "park-app": "runs",
        "mobiles-wlan": "runs",
        "drohnenschule": "runs",
        "bus-fussgaengerzone": "runs",
        "klar": "runs",
        "asyl-cube": "runs",
        "raumentwicklung": "plans",
    },
    "Ludwigshafen": {"park-app": "plans", "mobiles-wlan": "interested", "verwaltung": "runs"},
    "Trier": {"park-app": "plans", "bus-fussgaengerzone": "interested", "bildung": "runs"},
    "Koblenz": {"mobiles-wlan": "runs", "drohnenschule": "interested", "verwaltung": "plans"},
    "Neustadt an der Weinstraße": {"park-app": "interested", "raumentwicklung": "plans", "bildung": "interested"},
    "Pirmasens": {"asyl-cube": "interested", "bildung": "plans", "sicherheit": "interested"},
    "Mayen": {"digitale-doerfer": "interested", "mobiles-wlan": "plans", "sicherheit": "plans"},
    "Eisenberg (Pfalz)": {"digitale-doerfer": "runs", "bildung": "interested", "sicherheit": "interested"},
}

# How the board's sentences name the demo's projects: (German definite, indefinite, English), accusative.
PHRASES = {
    "bus-fussgaengerzone": (
        "den teilautonomen Bus in der Fußgängerzone",
        "einen teilautonomen Bus in der Fußgängerzone",
        "the semi-autonomous bus in the pedestrian zone",
    ),
    "drohnenschule": ("die Drohnenschule", "eine Drohnenschule", "the drone school"),
    "park-app": ("die Park App", "eine Park App", "the Park App"),
    "mobiles-wlan": ("das mobile WLAN", "ein mobiles WLAN", "the mobile Wi-Fi"),
    "asyl-cube": ("den Asyl Cube", "einen Asyl Cube", "the Asyl Cube"),
}


def load_board_demo(event):
    """Fill the demo event's board once (no revisions: this is the starting state)."""
    if db.session.query(Interest).filter_by(event_id=event.id).first() is not None:
        return False
    topics = {t.slug: t for t in event.topics}
    for slug, (phrase, indefinite, english) in PHRASES.items():
        topic = topics[slug]
        topic.phrase, topic.phrase_indefinite, topic.phrase_en = phrase, indefinite, english
    for municipality in event.municipalities:
        new_guest(
            event,
            {
                "name": f"Demo-Delegation {municipality.name}",
                "city": municipality.name,
                "organisation": f"Stadtverwaltung {municipality.name}",
                "role": "Digitalisierung",
            },
        )
        stages = STAGES.get(municipality.name)
        if stages is None:
            continue
        municipality.board_consent = True
        for slug, stage in stages.items():
            db.session.add(
                Interest(event_id=event.id, municipality_id=municipality.id, topic_id=topics[slug].id, stage=stage)
            )
    db.session.flush()
    replan(event)
    db.session.commit()
    return True
