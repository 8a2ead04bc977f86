"""Calendars put together from parts (each meeting's VEVENT on its own, so a build reuses
the unchanged ones, and written by castcal as icalendar writes it, at a third of its cost)
are what icalendar renders of the whole calendar, byte for byte, for any text; where
icalendar alters text (a backslash and N), castcal keeps it; and icalendar and ical read
back exactly what the editor wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from castcal.content.models import Event, Project
from castcal.render import ics, norwegian, vevent
from castcal.render.facts import Revision
from tests.conftest import copy_sample
from tests.rendering import load

REVISION = Revision(
    sequence=3,
    created=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    last_modified=datetime(2026, 2, 1, 12, 0, 1, tzinfo=UTC),
    significant="",
    content="",
)
TRICKY = [
    "Frokost, kaffe; og \\ skråstrek",
    "Linje én\nlinje to\r\nlinje tre\rlinje fire",
    "Endringsledelse i offentlig sektor – erfaringer fra Difi, NAV og Skatteetaten 🎙️ æøå",
    "x" * 73 + "\\;" + "y" * 80,  # an escape where the first line ends
    "x" * 72 + "^n" + "ø" * 40,
    "ø" * 36 + "👍" + "å" * 50,  # a four-octet character where a line ends
    "",
]
texts = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=250),
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=4).map(" ".join),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = copy_sample(tmp_path_factory.mktemp("calendar") / "project")
    return load(root / "config.toml")


def meeting(project: Project, title: str, description: str, location: str) -> Event:
    event = project.events[0]
    meta = event.meta.model_copy(update={"title": title, "description": description})
    return event.model_copy(update={"meta": meta, "location": location})


def by_icalendar(project: Project, event: Event) -> icalendar.Event:
    """The meeting's VEVENT as icalendar makes it of the same properties."""
    calendar = project.config.calendar
    assert calendar is not None
    component = icalendar.Event()
    component.add("summary", norwegian.summary(event))
    component.add("dtstart", event.start)
    component.add("dtend", event.end)
    component.add("dtstamp", REVISION.last_modified)
    component.add("uid", event.uid)
    component.add("sequence", REVISION.sequence)
    component.add("created", REVISION.created)
    component.add("description", norwegian.details(event))
    component.add("last-modified", REVISION.last_modified)
    component.add("location", event.location)
    component.add("status", event.meta.status.upper())
    component.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    url = event.meta.url or event.meta.registration or calendar.url or project.base_url
    component.add("url", url)
    return component


def whole_single(project: Project, event: Event) -> bytes:
    """The meeting's own file as icalendar renders it in one piece."""
    calendar = project.config.calendar
    assert calendar is not None and calendar.alarm is not None
    component = by_icalendar(project, event)
    reminder = icalendar.Alarm()
    reminder.add("action", "DISPLAY")
    reminder.add("description", event.meta.title)
    reminder.add("trigger", -calendar.alarm)
    component.add_component(reminder)
    cal = icalendar.Calendar()
    cal.add("prodid", ics.PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    years = range(event.start.year, event.end.year + 1)
    cal.add_component(ics.vtimezone(calendar.timezone, years))
    cal.add("method", "PUBLISH")
    cal.add_component(component)
    return bytes(cal.to_ical())


@settings(max_examples=200, deadline=None)
@given(title=texts, description=texts, location=texts)
@example(title="Sak: C:\\Nye filer", description="", location="")
def test_a_meetings_file_is_what_icalendar_renders_whole(
    project: Project, title: str, description: str, location: str
) -> None:
    event = meeting(project, title, description, location)
    single = ics.single(project, event, vevent.vevent(project, event, REVISION))
    if "\\N" not in title + description + location:  # which icalendar alters (vevent.py)
        assert single == whole_single(project, event)
    for line in single.split(b"\r\n"):
        assert len(line) <= 75, line

    # Read back: the text as written, each kind of line break as a line break.
    def same(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    (parsed,) = icalendar.Calendar.from_ical(single).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == same(title)
    assert str(parsed["LOCATION"]) == same(location)
    assert str(parsed["DESCRIPTION"]) == same(norwegian.details(event))
    assert str(parsed.walk("VALARM")[0]["DESCRIPTION"]) == same(title)


def test_the_series_from_parts_is_what_icalendar_renders_whole(project: Project) -> None:
    vevents = [vevent.vevent(project, e, REVISION) for e in project.events]
    series = ics.series(project, vevents)
    whole = icalendar.Calendar.from_ical(series)
    assert bytes(whole.to_ical()) == series
    assert [str(e["UID"]) for e in whole.walk("VEVENT")] == [e.uid for e in project.events]


@pytest.mark.parametrize("text", [*TRICKY, "Sak: C:\\Nye filer\\N"])
def test_ical_reads_the_text_as_written(project: Project, text: str) -> None:
    event = meeting(project, text, text, text)
    data = ics.single(project, event, vevent.vevent(project, event, REVISION))
    (parsed,) = IcsCalendarStream.calendar_from_ics(data.decode()).events
    same = text.replace("\r\n", "\n").replace("\r", "\n")
    assert (parsed.summary, parsed.location) == (same, same)
    assert parsed.description is not None and parsed.description.startswith(same)


@pytest.mark.parametrize(
    "zone", ["UTC", "Etc/UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata"]
)
def test_times_in_any_zone_as_icalendar_writes_them(project: Project, zone: str) -> None:
    """The TZID of a zone as icalendar names it; UTC as times that end in Z."""
    tz = ZoneInfo(zone)
    event = project.events[0]
    moved = event.model_copy(
        update={"start": event.start.astimezone(tz), "end": event.end.astimezone(tz)}
    )
    assert vevent.vevent(project, moved, REVISION) == bytes(by_icalendar(project, moved).to_ical())
