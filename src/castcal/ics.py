"""Meetings -> iCalendar bytes. The only module that imports icalendar. Pure: revisions
and times come in as arguments; no clock, no disk, no network.

icalendar makes the calendars' properties and VTIMEZONEs (once a build); each meeting's
VEVENT is written here, as icalendar writes it (its property order, escaping and folding),
at a third of its cost, a thousand times in a first build. One difference: icalendar reads
a backslash followed by N in a text as a line break; here it stays the text it is."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vDuration

from castcal.errors import ContentError, Problem, display_path
from castcal.manifest import Revision
from castcal.models import Event, Project
from castcal.tzrules import RuleError, yearly_rules

PRODID = "-//castcal//castcal//NB"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def vtimezone(tzid: str, years: range) -> Timezone:
    """An RRULE-style VTIMEZONE (one DAYLIGHT, one STANDARD, yearly rules) from zoneinfo."""
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


def _summary(event: Event) -> str:
    return f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545, 3.3.11): backslash, semicolon, comma, line breaks."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded as icalendar folds it: a line of 75 octets or more goes on
    in lines that start with a space, each at most 74 octets besides it, never split
    inside a character, and a backslash (or RFC 6868 caret) that ends a line goes to
    the next with the character it escapes."""
    if len(line) < 75 and (line.isascii() or len(line.encode()) < 75):
        return line
    lines: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = 1 if char < "\x80" else len(char.encode())
        if current and count + size >= 75:
            carried = current.pop() if len(current) > 1 and current[-1] in "\\^" else ""
            lines.append("".join(current))
            current = [carried] if carried else []
            count = len(carried)
        current.append(char)
        count += size
    lines.append("".join(current))
    return "\r\n ".join(lines)


def _clock(moment: datetime) -> str:
    """A DATE-TIME value's digits, without a zone (whole seconds, as icalendar writes)."""
    day = f"{moment.year:04}{moment.month:02}{moment.day:02}"
    return f"{day}T{moment.hour:02}{moment.minute:02}{moment.second:02}"


def _utc(moment: datetime) -> str:
    return _clock(moment.astimezone(UTC)) + "Z"


@functools.lru_cache(maxsize=16)
def _zone_id(zone: tzinfo | None, name: str | None) -> str | None:
    """The TZID of times in ``zone`` as icalendar gives it; None for UTC, whose times end
    in Z instead."""
    from icalendar.timezone.tzid import tzid_from_tzinfo

    found = tzid_from_tzinfo(zone)
    found = name if found is None else found
    return None if found == "UTC" else found


def _local(name: str, moment: datetime) -> str:
    """A DATE-TIME property of ``moment``, with the TZID of its zone."""
    tzid = _zone_id(moment.tzinfo, moment.tzname())
    if tzid is None:
        return f"{name}:{_utc(moment)}"
    return f"{name};TZID={tzid}:{_clock(moment)}"


def _vevent_lines(project: Project, event: Event, revision: Revision) -> list[str]:
    """One meeting's VEVENT content lines, its properties in the order icalendar writes
    them (SUMMARY, DTSTART, DTEND, DTSTAMP, UID, SEQUENCE, then by name)."""
    calendar = project.config.calendar
    assert calendar is not None
    url = event.meta.url or event.meta.registration or calendar.url or project.base_url
    # No METHOD in the series: DTSTAMP is then the last revision time (RFC 5545 3.8.7.2),
    # and the per-event files use the same value, so no byte depends on the clock.
    return [
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(_summary(event))}",
        _local("DTSTART", event.start),
        _local("DTEND", event.end),
        f"DTSTAMP:{_utc(revision.last_modified)}",
        f"UID:{_text(event.uid)}",
        f"SEQUENCE:{int(revision.sequence)}",
        f"CREATED:{_utc(revision.created)}",
        f"DESCRIPTION:{_text(event.details())}",
        f"LAST-MODIFIED:{_utc(revision.last_modified)}",
        f"LOCATION:{_text(event.location)}",
        f"STATUS:{_STATUS[event.meta.status]}",
        f"TRANSP:{'TRANSPARENT' if event.cancelled else 'OPAQUE'}",
        f"URL:{url}",
    ]


END = b"END:VCALENDAR\r\n"


def _calendar(tzid: str, years: range | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if years is not None:
        cal.add_component(vtimezone(tzid, years))
    return cal


def _opening(cal: Calendar) -> bytes:
    """A calendar serialized by icalendar, less its END line. A calendar's text is its
    properties, then each component's text, then END; so VEVENTs serialized by icalendar
    on their own complete it, and one VTIMEZONE serves a thousand meetings."""
    data = bytes(cal.to_ical())
    assert data.endswith(END)
    return data[: -len(END)]


def _years(events: tuple[Event, ...]) -> range | None:
    if not events:
        return None
    return range(min(e.start.year for e in events), max(e.end.year for e in events) + 1)


@functools.lru_cache(maxsize=64)
def _single_opening(tzid: str, years: range) -> bytes:
    cal = _calendar(tzid, years)
    cal.add("method", "PUBLISH")
    return _opening(cal)


def vevent_text(project: Project, event: Event, revision: Revision) -> str:
    """One meeting's VEVENT as it stands in the series calendar. Written here, not by
    icalendar (0.7 ms a meeting, for a thousand in a first build): the tests parse every
    calendar back with icalendar and ical."""
    lines = _vevent_lines(project, event, revision)
    return "\r\n".join(map(_fold, lines)) + "\r\nEND:VEVENT\r\n"


def series_years(project: Project) -> range | None:
    """The years the series' VTIMEZONE covers: those of its meetings."""
    return _years(project.events)


def _zone_problem(project: Project, events: tuple[Event, ...], error: RuleError) -> ContentError:
    """The meetings span years whose clock changes no one yearly rule describes (as
    Europe/Oslo's before and after 1996): named on the earliest meeting, the likeliest typo."""
    first = min(events, key=lambda e: (e.start, e.id))
    last = max(events, key=lambda e: (e.end, e.id))
    path = display_path(project.root / "events" / f"{first.id}.toml", project.root)
    message = (
        f"{error}: the calendar describes its time zone with one yearly rule, and the clocks "
        f"did not change by the same rule in {first.start.year} and {last.end.year}; "
        "check this meeting's year"
    )
    return ContentError([Problem(path, "start", message)])


def series_opening(project: Project) -> str:
    """The series calendar up to its first VEVENT: its properties and the VTIMEZONE, which
    depend only on the calendar's settings and ``series_years``."""
    config = project.config.calendar
    assert config is not None
    try:
        cal = _calendar(config.timezone, series_years(project))
    except RuleError as exc:
        raise _zone_problem(project, project.events, exc) from None
    cal.calendar_name = config.name
    cal.description = config.description
    cal.add("x-wr-timezone", config.timezone)
    cal.add("refresh-interval", config.refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(config.refresh))
    return _opening(cal).decode("utf-8")


def series(
    project: Project,
    revisions: dict[str, Revision],
    vevents: list[str] | None = None,
    opening: str | None = None,
) -> bytes:
    """The whole series as one subscribable calendar: no METHOD, no calendar UID, no alarm.
    ``vevents`` may hold each meeting's VEVENT text, as ``vevent_text`` gives it, and
    ``opening`` the text ``series_opening`` gives."""
    if opening is None:
        opening = series_opening(project)
    if vevents is None:
        vevents = [vevent_text(project, e, revisions[e.uid]) for e in project.events]
    return (opening + "".join(vevents)).encode("utf-8") + END


def single(project: Project, event: Event, revision: Revision, vevent: str | None = None) -> bytes:
    """One meeting to add to a calendar: METHOD:PUBLISH, the series' UID, maybe one alarm.
    ``vevent`` may hold the meeting's VEVENT text, as ``vevent_text`` gives it."""
    config = project.config.calendar
    assert config is not None
    text = vevent if vevent is not None else vevent_text(project, event, revision)
    if config.alarm is not None and not event.cancelled:
        # A component's text is its properties, its subcomponents, then its END line.
        alarm = [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_text(event.meta.title)}",
            f"TRIGGER:{_duration(-config.alarm)}",
            "END:VALARM",
        ]
        assert text.endswith(END_VEVENT)
        text = text[: -len(END_VEVENT)] + "".join(_fold(a) + "\r\n" for a in alarm) + END_VEVENT
    years = _years((event,))
    assert years is not None
    try:
        opening = _single_opening(config.timezone, years)
    except RuleError as exc:
        raise _zone_problem(project, (event,), exc) from None
    return opening + text.encode("utf-8") + END


END_VEVENT = "END:VEVENT\r\n"


@functools.lru_cache(maxsize=16)
def _duration(value: timedelta) -> str:
    """A DURATION value (an alarm's TRIGGER), as icalendar writes it."""
    return bytes(vDuration(value).to_ical()).decode("ascii")  # type: ignore[no-untyped-call]
