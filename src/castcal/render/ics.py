"""Meetings as iCalendar bytes: the series to subscribe to, and one file per meeting to
add to a calendar, written by icalendar around each meeting's VEVENT (vevent.py).

Each meeting's VEVENT is rendered on its own, so the build can keep it and reuse it in the
series and in the meeting's own file: a build after one change renders one VEVENT, not a
thousand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from castcal.content.models import Event, Project
from castcal.content.tzrules import yearly_rules
from castcal.render import vevent as vevent_writer

if TYPE_CHECKING:
    from icalendar import Calendar, Component
    from icalendar.prop import vInline

PRODID = "-//castcal//castcal//NB"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
END = b"END:VCALENDAR\r\n"
END_VEVENT = b"END:VEVENT\r\n"


# The part of a calendar before its VEVENTs (its properties and VTIMEZONE): the series'
# or a meeting's own file's, and the years its VTIMEZONE spans (None: no meetings).
Opening = tuple[str, range | None]
SERIES, SINGLE = "series", "single"


def openings(project: Project) -> list[Opening]:
    """The openings the series and every meeting's own file need: the series', and one
    for each span of years a meeting has (a handful, whatever the number of meetings)."""
    spans = {_years((event,)) for event in project.events}
    singles = sorted((y for y in spans if y is not None), key=lambda y: (y.start, y.stop))
    return [series_opening(project), *((SINGLE, years) for years in singles)]


def series_opening(project: Project) -> Opening:
    """The opening of the series."""
    return SERIES, _years(project.events)


def opening_of(event: Event) -> Opening:
    """The opening of ``event``'s own file."""
    return SINGLE, _years((event,))


def opening(project: Project, which: Opening) -> bytes:
    """An opening as icalendar writes it. Kept by the build between builds, so a build
    that renders one VEVENT again needs no icalendar (its import alone is ~30 ms)."""
    config = project.config.calendar
    assert config is not None
    kind, years = which
    cal = _calendar(config.timezone, years)
    if kind == SINGLE:
        cal.add("method", "PUBLISH")
        return _opening(cal)
    from icalendar import vDuration

    for name, text in (
        ("description", config.description),
        ("x-wr-caldesc", config.description),
        ("name", config.name),
        ("x-wr-calname", config.name),
    ):
        cal.add(name, _text(text))
    cal.add("x-wr-timezone", config.timezone)
    cal.add("refresh-interval", config.refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(config.refresh))
    return _opening(cal)


def series(opening: bytes, vevents: Iterable[bytes]) -> bytes:
    """The whole series as one subscribable calendar: no METHOD, no calendar UID, no
    alarm; ``opening`` is the series' (see ``opening``), ``vevents`` the meetings'
    VEVENTs in order, as ``vevent`` renders them."""
    return opening + b"".join(vevents) + END


def single(project: Project, opening: bytes, event: Event, vevent: bytes) -> bytes:
    """One meeting to add to a calendar: METHOD:PUBLISH, the series' UID, and one alarm
    when the calendar sets one (never for a cancelled meeting); ``opening`` is that of
    ``opening_of(event)``."""
    config = project.config.calendar
    assert config is not None
    if config.alarm is not None and not event.cancelled:
        vevent = _with_alarm(vevent, event, config.alarm)
    return opening + vevent + END


def _with_alarm(vevent: bytes, event: Event, before: timedelta) -> bytes:
    """The VEVENT with a VALARM where icalendar puts a subcomponent (RFC 5545 3.6: a
    component is BEGIN, its properties, its subcomponents, END)."""
    assert vevent.endswith(END_VEVENT)
    return vevent[: -len(END_VEVENT)] + vevent_writer.alarm(event, before) + END_VEVENT


def vtimezone(tzid: str, years: range) -> Component:
    """An RRULE-style VTIMEZONE (one DAYLIGHT, one STANDARD, yearly rules) from zoneinfo:
    the shape Outlook keeps and ical.js, vobject and Radicale read right."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    timezone = Timezone()
    timezone.add("tzid", tzid)
    timezone.add("x-lic-location", tzid)
    for rule in yearly_rules(ZoneInfo(tzid), years):
        observance = TimezoneDaylight() if rule.daylight else TimezoneStandard()
        observance.add("dtstart", rule.first_onset())
        if rule.offset_from != rule.offset_to:
            observance.add(
                "rrule",
                {
                    "freq": "yearly",
                    "bymonth": rule.month,
                    "byday": f"{rule.week}{_WEEKDAYS[rule.weekday]}",
                },
            )
        observance.add("tzname", rule.name)
        observance.add("tzoffsetfrom", rule.offset_from)
        observance.add("tzoffsetto", rule.offset_to)
        timezone.add_component(observance)
    return timezone


def _text(value: str) -> vInline:
    """A TEXT value escaped as the meetings' text is (vevent.py), for properties
    icalendar would write unescaped (NAME, X-WR-CALNAME, X-WR-CALDESC: it knows them
    as no type) or escape otherwise (a backslash followed by N)."""
    from icalendar.prop import vInline

    return vInline(vevent_writer.escape_text(value))


def _calendar(tzid: str, years: range | None) -> Calendar:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if years is not None:
        cal.add_component(vtimezone(tzid, years))
    return cal


def _opening(cal: Calendar) -> bytes:
    """A calendar as icalendar writes it, less its END line: a calendar is its
    properties, then its components (the VTIMEZONE here, the VEVENTs after), then END."""
    data = bytes(cal.to_ical())
    assert data.endswith(END)
    return data[: -len(END)]


def _years(events: Iterable[Event]) -> range | None:
    starts, ends = [e.start.year for e in events], [e.end.year for e in events]
    return range(min(starts), max(ends) + 1) if starts else None
