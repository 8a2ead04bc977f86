"""A meeting's VEVENT, and its alarm, written as icalendar writes them: the one place the
renderers write a format beside the library that owns it.

icalendar takes 0.6 ms to make and write a meeting's VEVENT (its properties' objects, its
content lines, its folding, a character at a time); this takes 0.2 ms. At 1,000 meetings
that is 0.4 s of a first build's 5, when the benchmark's target for it had 0.2 s to spare.
The same bytes for any text: a property test compares them with icalendar's for arbitrary
Unicode, and reads every calendar back with icalendar and ical. One difference: icalendar
turns a backslash followed by N into a backslash and n; here the text stays as written.
icalendar still writes the calendars around the VEVENTs (ics.py).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from castcal.content.fields import geo_point
from castcal.content.models import Event, Project
from castcal.render import norwegian, paths
from castcal.render.facts import Revision

_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def recordings(project: Project, now: datetime) -> dict[str, str]:
    """The URL of each held meeting's recording (its episode's page), by meeting id: of
    the meetings an episode names (``meeting``) that have ended by ``now``, the build's
    time; a meeting two episodes name gets the first published."""
    ended = {e.id for e in project.events if e.end <= now}
    found: dict[str, str] = {}
    for episode in project.episodes:  # oldest first
        name = episode.meta.meeting
        if name in ended:
            found.setdefault(name, paths.url(project, paths.episode_page(episode)))
    return found


def vevent_key(
    event: Event, revision: Revision, recording: str | None = None
) -> tuple[object, ...]:
    """Everything a meeting's VEVENT is made from besides the project: its file (by its
    fingerprint), its UID, its revision, and its recording's URL if it names one."""
    return ("vevent", event.fingerprint, event.uid, revision.sequence,
            revision.created, revision.last_modified, recording)  # fmt: skip


def vevent(
    project: Project, event: Event, revision: Revision, recording: str | None = None
) -> bytes:
    """A meeting's VEVENT, as it stands in both calendars (no alarm): stable UID, no
    ATTENDEE, speakers in the description, and DTSTAMP the last revision's time (RFC 5545
    3.8.7.2, for a calendar without METHOD), so no byte depends on the clock. Its
    properties in the order icalendar writes them: SUMMARY, DTSTART, DTEND, DTSTAMP,
    UID, SEQUENCE, then by name. ``recording``: the URL of the page of the episode
    recorded at the meeting, named in the description once the meeting has been held."""
    calendar = project.config.calendar
    assert calendar is not None
    url = event.meta.url or event.meta.registration or calendar.url or project.base_url
    lines = [
        "BEGIN:VEVENT",
        f"SUMMARY:{escape_text(norwegian.summary(event))}",
        _local("DTSTART", event.start),
        _local("DTEND", event.end),
        f"DTSTAMP:{_utc(revision.last_modified)}",
        f"UID:{escape_text(event.uid)}",
        f"SEQUENCE:{int(revision.sequence)}",
        f"CREATED:{_utc(revision.created)}",
        f"DESCRIPTION:{escape_text(norwegian.details(event, recording))}",
        *_geo(event),
        f"LAST-MODIFIED:{_utc(revision.last_modified)}",
        f"LOCATION:{escape_text(event.location)}",
        f"STATUS:{_STATUS[event.meta.status]}",
        f"TRANSP:{'TRANSPARENT' if event.cancelled else 'OPAQUE'}",
        f"URL:{url}",
        "END:VEVENT",
    ]
    return _joined(lines)


def _geo(event: Event) -> list[str]:
    """The venue's GEO, latitude;longitude as icalendar writes the floats; none without."""
    if event.meta.geo is None:
        return []
    latitude, longitude = geo_point(event.meta.geo)
    return [f"GEO:{latitude!r};{longitude!r}"]


def alarm(event: Event, before: timedelta) -> bytes:
    """A VALARM that shows the meeting's title ``before`` it starts."""
    lines = [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(event.meta.title)}",
        f"TRIGGER:{_duration(-before)}",
        "END:VALARM",
    ]
    return _joined(lines)


def _joined(lines: list[str]) -> bytes:
    return "".join(_fold(line) + "\r\n" for line in lines).encode("utf-8")


def escape_text(value: str) -> str:
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


# icalendar names a zone by its key unless it counts it as UTC (its times then end in Z),
# which it does for a zone at +00:00 at every one of its samples, 25 hours apart over
# 1970-2020: a zone off +00:00 on these days is not one. Knowing so spares a build that
# renders one VEVENT the import of icalendar (~30 ms).
_OFF_UTC_ON = (datetime(2000, 1, 15), datetime(2000, 7, 15))


@functools.lru_cache(maxsize=16)
def _zone_id(zone: tzinfo | None, name: str | None) -> str | None:
    """The TZID of times in ``zone`` as icalendar gives it; None for UTC, whose times end
    in Z instead."""
    if isinstance(zone, ZoneInfo) and zone.key and any(map(zone.utcoffset, _OFF_UTC_ON)):
        return zone.key
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


@functools.lru_cache(maxsize=16)
def _duration(value: timedelta) -> str:
    """A DURATION value (an alarm's TRIGGER), as icalendar writes it."""
    from icalendar import vDuration

    return bytes(vDuration(value).to_ical()).decode("ascii")  # type: ignore[no-untyped-call]
