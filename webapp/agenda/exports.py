"""Standard exports of an event's agenda: iCalendar, frab schedule.xml, c3voc schedule.json."""


def ical(event):
    raise NotImplementedError


def frab_xml(event):
    raise NotImplementedError


def c3voc_json(event):
    raise NotImplementedError
