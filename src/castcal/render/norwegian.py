"""The Norwegian words castcal publishes: dates as readers write them (no locale, so the
same text on every machine) and a meeting described in plain text."""

from __future__ import annotations

from datetime import datetime

from castcal.content.models import Event

MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def norwegian_date(moment: datetime) -> str:
    return f"{moment.day}. {MONTHS[moment.month - 1]} {moment.year}"


def summary(event: Event) -> str:
    """A meeting's title as calendars and feeds show it: marked when it is called off."""
    return f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title


def details(event: Event) -> str:
    """The meeting as text, for calendars, the Atom feed and calendar links: clients show
    no structured speakers, so they go here."""
    parts = []
    if event.cancelled:
        parts.append("Møtet er avlyst.")
    if event.meta.description:
        parts.append(event.meta.description)
    if event.meta.speakers:
        parts.append("Innledere:\n" + "\n".join(f"- {s.line()}" for s in event.meta.speakers))
    if event.meta.registration:
        parts.append(f"Påmelding: {event.meta.registration}")
    return "\n\n".join(parts)
