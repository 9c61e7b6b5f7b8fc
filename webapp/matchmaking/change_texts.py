"""The board's changes as the change log words them, in the reader's language, from each change's facts
(`Change.details`, written by board.py and by privacy when a contact person goes). Registered by the
board's init_app (live.register_change_text); a row without facts shows its stored German summary."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..live import register_change_text


def updated(d):
    reason = d.get("reason")
    if reason == "programme":
        return _("Board an die Programmänderung angepasst")
    if reason == "contact":
        return _("Kontaktperson vom Board entfernt")
    if reason == "purge":
        return _("Personenbezogene Daten nach der Veranstaltung vom Board entfernt")
    if d["on_board"]:
        return ngettext(
            "%(town)s: Angaben zu %(num)d Thema, auf dem Board",
            "%(town)s: Angaben zu %(num)d Themen, auf dem Board",
            d["topics"],
            town=d["municipality"],
        )
    return ngettext(
        "%(town)s: Angaben zu %(num)d Thema, nicht auf dem Board",
        "%(town)s: Angaben zu %(num)d Themen, nicht auf dem Board",
        d["topics"],
        town=d["municipality"],
    )


def planned(d):
    if d.get("reason") == "meeting":
        return _("Gespräch vereinbart: %(a)s und %(b)s zu „%(topic)s“", a=d["from"], b=d["to"], topic=d["topic"])
    return _("Tischplan angepasst")


def requested(d):
    return _("Gesprächsanfrage von %(a)s an %(b)s zu „%(topic)s“", a=d["from"], b=d["to"], topic=d["topic"])


def register():
    register_change_text("board.updated", updated, _l("Board"))
    register_change_text("board.planned", planned, _l("Tischplan"))
    register_change_text("meeting.requested", requested, _l("Gesprächsanfrage"))
