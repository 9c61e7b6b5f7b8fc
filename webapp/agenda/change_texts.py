"""The agenda's changes as the change log words them, in the reader's language, from each change's facts
(`Change.details`, written by domain.py, follow.py and imports.py). Registered by the agenda's init_app
(live.register_change_text); a row without facts shows its stored German summary."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..live import register_change_text
from ..live.change_texts import clock, local_day

# What an edit changed (domain._EDITED_FIELDS, follow._details)
FIELDS = {
    "title": _l("Titel"),
    "abstract": _l("Beschreibung"),
    "kind": _l("Art"),
    "language": _l("Sprache"),
    "time": _l("Zeit"),
    "room": _l("Raum"),
    "speakers": _l("Mitwirkende"),
    "topics": _l("Themen"),
    "status": _l("Status"),
}


def _minutes(n):
    return ngettext("%(num)d Minute", "%(num)d Minuten", abs(n))


def _in_room(text, d):
    """ "Forum: …" when the session has a room."""
    return f"{d['room']}: {text}" if d.get("room") else text


def _with_following(text, d):
    """ "…; danach 2 Programmpunkte 10 Minuten später: Park App, Mobiles WLAN" """
    following, shift = d.get("following") or [], d.get("shift") or 0
    if not following:
        return text
    titles = ", ".join(following)
    if shift > 0:
        then = ngettext(
            "danach %(num)d Programmpunkt %(minutes)s später: %(titles)s",
            "danach %(num)d Programmpunkte %(minutes)s später: %(titles)s",
            len(following),
            minutes=_minutes(shift),
            titles=titles,
        )
    elif shift < 0:
        then = ngettext(
            "danach %(num)d Programmpunkt %(minutes)s früher: %(titles)s",
            "danach %(num)d Programmpunkte %(minutes)s früher: %(titles)s",
            len(following),
            minutes=_minutes(shift),
            titles=titles,
        )
    else:
        then = ngettext(
            "danach %(num)d Programmpunkt mitverschoben: %(titles)s",
            "danach %(num)d Programmpunkte mitverschoben: %(titles)s",
            len(following),
            titles=titles,
        )
    return f"{text}; {then}"


def _span(start, end):
    """A planned time from the file: "26. Okt., 10:00–11:00" (the end's day too when it is another)."""
    if start[:10] == end[:10]:
        return f"{local_day(start)}, {clock(start)}–{clock(end)}"
    return f"{local_day(start)}, {clock(start)} – {local_day(end)}, {clock(end)}"


def _room_name(name):
    return name or _("ohne Raum")


def delayed(d):
    if "planned_from" in d:  # the followed file moved it
        return _(
            "„%(title)s“ verschoben: %(from)s → %(to)s",
            title=d["title"],
            **{"from": _span(*d["planned_from"]), "to": _span(*d["planned_to"])},
        )
    times = {"title": d["title"], "from": d["from"], "to": d["to"]}
    minutes = d["minutes"]
    if minutes > 0:
        text = ngettext(
            "„%(title)s“ verschoben: %(from)s → %(to)s Uhr, %(num)d Minute später als geplant",
            "„%(title)s“ verschoben: %(from)s → %(to)s Uhr, %(num)d Minuten später als geplant",
            minutes,
            **times,
        )
    elif minutes < 0:
        text = ngettext(
            "„%(title)s“ verschoben: %(from)s → %(to)s Uhr, %(num)d Minute früher als geplant",
            "„%(title)s“ verschoben: %(from)s → %(to)s Uhr, %(num)d Minuten früher als geplant",
            -minutes,
            **times,
        )
    else:
        text = _("„%(title)s“ wieder pünktlich: %(to)s Uhr", title=d["title"], to=d["to"])
    return _with_following(_in_room(text, d), d)


def overrun(d):
    title, end, minutes = d["title"], d["end"], d["minutes"]
    if d.get("ended"):
        text = _("„%(title)s“ beendet um %(end)s Uhr", title=title, end=end)
    elif minutes > 0:
        text = _(
            "„%(title)s“ läuft %(minutes)s länger, bis %(end)s Uhr", title=title, minutes=_minutes(minutes), end=end
        )
    elif minutes < 0:
        text = _(
            "„%(title)s“ endet %(minutes)s früher, um %(end)s Uhr", title=title, minutes=_minutes(minutes), end=end
        )
    else:
        text = _("„%(title)s“ endet wie geplant um %(end)s Uhr", title=title, end=end)
    return _with_following(_in_room(text, d), d)


def moved(d):
    rooms = {"from": _room_name(d["from"]), "to": _room_name(d["to"])}
    return _with_following(_("„%(title)s“ verlegt: %(from)s → %(to)s", title=d["title"], **rooms), d)


def cancelled(d):
    return _with_following(_("„%(title)s“ abgesagt", title=d["title"]), d)


def restored(d):
    return _with_following(_("„%(title)s“ findet wieder statt", title=d["title"]), d)


def edited(d):
    fields = d.get("fields") or []
    if d.get("renamed_from") and fields == ["title"]:
        text = _("„%(old)s“ heißt jetzt „%(title)s“", old=d["renamed_from"], title=d["title"])
    elif fields:
        names = ", ".join(str(FIELDS[f]) if f in FIELDS else f for f in fields)
        text = _("„%(title)s“ geändert: %(fields)s", title=d["title"], fields=names)
    else:
        text = _("„%(title)s“ geändert", title=d["title"])
    return _with_following(text, d)


def added(d):
    when = {"title": d["title"], "day": local_day(d["start"]), "time": clock(d["start"])}
    if d.get("room"):
        return _("Neu im Programm: „%(title)s“, %(day)s, %(time)s Uhr, %(room)s", room=d["room"], **when)
    return _("Neu im Programm: „%(title)s“, %(day)s, %(time)s Uhr", **when)


def removed(d):
    if "count" in d:
        return ngettext(
            "%(num)d Programmpunkt aus dem Programm genommen",
            "%(num)d Programmpunkte aus dem Programm genommen",
            d["count"],
        )
    return _("„%(title)s“ aus dem Programm genommen", title=d["title"])


def imported(d):
    sessions = ngettext("%(num)d Programmpunkt", "%(num)d Programmpunkte", d["sessions"])
    rooms = ngettext("in %(num)d Raum", "in %(num)d Räumen", d["rooms"])
    return _("Programm neu eingelesen: %(sessions)s %(rooms)s", sessions=sessions, rooms=rooms)


TEXTS = {
    "session.delayed": (delayed, _l("Verschoben")),
    "session.overrun": (overrun, _l("Ende geändert")),
    "session.moved": (moved, _l("Anderer Raum")),
    "session.cancelled": (cancelled, _l("Abgesagt")),
    "session.restored": (restored, _l("Findet wieder statt")),
    "session.edited": (edited, _l("Geändert")),
    "session.added": (added, _l("Neu im Programm")),
    "session.removed": (removed, _l("Aus dem Programm")),
    "announcement.added": (lambda d: _("Durchsage: %(text)s", text=d["text"]), _l("Durchsage")),
    "announcement.withdrawn": (
        lambda d: _("Durchsage zurückgenommen: %(text)s", text=d["text"]),
        _l("Durchsage zurückgenommen"),
    ),
    "room.added": (lambda d: _("Neuer Raum: %(name)s", name=d["name"]), _l("Neuer Raum")),
    "room.renamed": (
        lambda d: _("Raum „%(old)s“ heißt jetzt „%(new)s“", old=d["from"], new=d["to"]),
        _l("Raum umbenannt"),
    ),
    "room.moved": (
        lambda d: _(
            "Reihenfolge der Räume: %(name)s jetzt an %(position)d. Stelle", name=d["name"], position=d["position"]
        ),
        _l("Reihenfolge der Räume"),
    ),
    "room.removed": (lambda d: _("Raum entfernt: %(name)s", name=d["name"]), _l("Raum entfernt")),
    "topic.renamed": (
        lambda d: _("Thema „%(old)s“ heißt jetzt „%(new)s“", old=d["from"], new=d["to"]),
        _l("Thema umbenannt"),
    ),
    "speaker.renamed": (lambda d: _("%(old)s heißt jetzt %(new)s", old=d["from"], new=d["to"]), _l("Name geändert")),
    "speaker.removed": (
        lambda d: ngettext(
            "%(name)s wirkt nicht mehr mit (%(num)d Programmpunkt)",
            "%(name)s wirkt nicht mehr mit (%(num)d Programmpunkte)",
            d["sessions"],
            name=d["name"],
        ),
        _l("Mitwirkung beendet"),
    ),
    "agenda.imported": (imported, _l("Programm eingelesen")),
}


def register():
    for kind, (render, label) in TEXTS.items():
        register_change_text(kind, render, label)
