"""Meetings as iCalendar bytes, written by icalendar: the series to subscribe to, and one
file per meeting to add to a calendar.

Each meeting's VEVENT is rendered on its own (``vevent``), so the build can keep it and
reuse it in the series and in the meeting's own file: a build after one change renders one
VEVENT, not a thousand.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from castcal.content.models import Event, Project
from castcal.content.tzrules import yearly_rules
from castcal.render import norwegian
from castcal.render.facts import Revision

if TYPE_CHECKING:
    from icalendar import Calendar, Component

PRODID = "-//castcal//castcal//NB"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}
END = b"END:VCALENDAR\r\n"
END_VEVENT = b"END:VEVENT\r\n"


def vevent_key(event: Event, revision: Revision) -> tuple[object, ...]:
    """Everything a meeting's VEVENT is made from besides the project: its file (by its
    fingerprint), its UID and its revision."""
    return ("vevent", event.fingerprint, event.uid, revision.sequence,
            revision.created, revision.last_modified)  # fmt: skip


def vevent(project: Project, event: Event, revision: Revision) -> bytes:
    """A meeting's VEVENT, as it stands in both calendars (no alarm): stable UID, no
    ATTENDEE, speakers in the description, and DTSTAMP the last revision's time (RFC 5545
    3.8.7.2, for a calendar without METHOD), so no byte depends on the clock."""
    from icalendar import Event as VEvent

    from castcal.render.icaltext import Text

    calendar = project.config.calendar
    assert calendar is not None
    component = VEvent()
    component.add("summary", Text(norwegian.summary(event)))
    component.add("dtstart", event.start)
    component.add("dtend", event.end)
    component.add("dtstamp", revision.last_modified)
    component.add("uid", event.uid)
    component.add("sequence", revision.sequence)
    component.add("created", revision.created)
    component.add("description", Text(norwegian.details(event)))
    component.add("last-modified", revision.last_modified)
    component.add("location", Text(event.location))
    component.add("status", _STATUS[event.meta.status])
    component.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    url = event.meta.url or event.meta.registration or calendar.url or project.base_url
    component.add("url", url)
    return bytes(component.to_ical())


def series(project: Project, vevents: Iterable[bytes]) -> bytes:
    """The whole series as one subscribable calendar: no METHOD, no calendar UID, no
    alarm; ``vevents`` are the meetings' VEVENTs in order, as ``vevent`` renders them."""
    from icalendar import vDuration

    config = project.config.calendar
    assert config is not None
    cal = _calendar(config.timezone, _years(project.events))
    cal.calendar_name = config.name
    cal.description = config.description
    cal.add("x-wr-timezone", config.timezone)
    cal.add("refresh-interval", config.refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(config.refresh))
    return _opening(cal) + b"".join(vevents) + END


def single(project: Project, event: Event, vevent: bytes) -> bytes:
    """One meeting to add to a calendar: METHOD:PUBLISH, the series' UID, and one alarm
    when the calendar sets one (never for a cancelled meeting)."""
    config = project.config.calendar
    assert config is not None
    if config.alarm is not None and not event.cancelled:
        vevent = _with_alarm(vevent, event, config.alarm)
    years = _years((event,))
    return _single_opening(config.timezone, years) + vevent + END


def _with_alarm(vevent: bytes, event: Event, before: object) -> bytes:
    """The VEVENT with a VALARM, put where icalendar puts a subcomponent (RFC 5545 3.6: a
    component is BEGIN, its properties, its subcomponents, END). Spliced, not rendered
    again: icalendar takes 0.6 ms to render a VEVENT, so each meeting's own file would
    double the calendars' cost of a first build (0.6 s more at 1,000 meetings); the
    VALARM is rendered by icalendar all the same."""
    from icalendar import Alarm

    from castcal.render.icaltext import Text

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", Text(event.meta.title))
    alarm.add("trigger", -before)  # type: ignore[operator]
    assert vevent.endswith(END_VEVENT)
    return vevent[: -len(END_VEVENT)] + bytes(alarm.to_ical()) + END_VEVENT


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


@functools.lru_cache(maxsize=64)
def _single_opening(tzid: str, years: range | None) -> bytes:
    cal = _calendar(tzid, years)
    cal.add("method", "PUBLISH")
    return _opening(cal)
