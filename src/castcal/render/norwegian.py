"""The Norwegian words castcal publishes: dates as readers write them (no locale, so the
same text on every machine) and a meeting described in plain text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from castcal.content.models import Event

MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def norwegian_date(moment: datetime) -> str:
    return f"{moment.day}. {MONTHS[moment.month - 1]} {moment.year}"


def local_time(moment: datetime, zone: str | None) -> datetime:
    """``moment`` in ``zone`` (an IANA name); without one, at the offset it was written with."""
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def day_and_time(moment: datetime) -> str:
    """As an editor reads a time: "tirsdag 17. desember 2026 07:00"."""
    return f"{WEEKDAYS[moment.weekday()]} {norwegian_date(moment)} {moment:%H:%M}"


def scheduled_mark(moment: datetime) -> str:
    """The page's mark on an episode not yet published: "Planlagt: tirsdag 17. desember
    kl. 07.00" (``moment`` already in local time)."""
    day = f"{WEEKDAYS[moment.weekday()]} {moment.day}. {MONTHS[moment.month - 1]}"
    return f"Planlagt: {day} kl. {moment:%H.%M}"


def summary(event: Event) -> str:
    """A meeting's title as calendars and feeds show it: marked when it is called off."""
    return f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title


def details(event: Event, recording: str | None = None) -> str:
    """The meeting as text, for calendars, the Atom feed and calendar links: clients show
    no structured speakers, so they go here; ``recording``: the URL of the page of the
    episode recorded at the meeting, once it has been held."""
    parts = []
    if event.cancelled:
        parts.append("Møtet er avlyst.")
    if event.meta.description:
        parts.append(event.meta.description)
    if event.meta.speakers:
        parts.append("Innledere:\n" + "\n".join(f"- {s.line()}" for s in event.meta.speakers))
    if event.meta.registration:
        parts.append(f"Påmelding: {event.meta.registration}")
    if recording:
        parts.append(f"Opptak: {recording}")
    return "\n\n".join(parts)
