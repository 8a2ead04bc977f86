"""castcal writes each meeting's VEVENT itself (icalendar took 0.7 ms a meeting). What it
writes is what icalendar writes for the same properties, byte for byte, for any text;
where icalendar alters text (it reads a backslash and N as a line break), castcal keeps
the text, and icalendar and ical read back exactly what the editor wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from castcal import content, ics
from castcal.manifest import Revision
from castcal.models import Event, Project
from tests.conftest import copy_sample

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
    root = copy_sample(tmp_path_factory.mktemp("vevent") / "project")
    return content.load(root / "config.toml")


def meeting(project: Project, title: str, description: str, location: str) -> Event:
    event = project.events[0]
    meta = event.meta.model_copy(update={"title": title, "description": description})
    return event.model_copy(update={"meta": meta, "location": location})


def by_icalendar(project: Project, event: Event, alarm: timedelta | None) -> str:
    """The VEVENT icalendar makes of the same properties, as castcal made it before."""
    calendar = project.config.calendar
    assert calendar is not None
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", REVISION.last_modified)
    vevent.add("created", REVISION.created)
    vevent.add("last-modified", REVISION.last_modified)
    vevent.add("sequence", REVISION.sequence)
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("summary", f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title)
    vevent.add("description", event.details())
    vevent.add("location", event.location)
    url = event.meta.url or event.meta.registration or calendar.url or project.base_url
    vevent.add("url", url)
    vevent.add("status", event.meta.status.upper())
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    if alarm is not None:
        reminder = icalendar.Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", event.meta.title)
        reminder.add("trigger", -alarm)
        vevent.add_component(reminder)
    return bytes(vevent.to_ical()).decode("utf-8")


@settings(max_examples=300, deadline=None)
@given(title=texts, description=texts, location=texts)
@example(title="Sak: C:\\Nye filer", description="", location="")
def test_the_vevent_is_what_icalendar_writes(
    project: Project, title: str, description: str, location: str
) -> None:
    event = meeting(project, title, description, location)
    calendar = project.config.calendar
    assert calendar is not None and calendar.alarm is not None
    single = ics.single(project, event, REVISION).decode("utf-8")
    written = single[single.index("BEGIN:VEVENT") : single.index("END:VCALENDAR")]
    for line in written.split("\r\n"):
        assert len(line.encode()) <= 75, line
    if "\\N" not in title + description + location:
        assert written == by_icalendar(project, event, calendar.alarm)

    # Read back: the text as written, each kind of line break as a line break.
    def same(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    (parsed,) = icalendar.Calendar.from_ical(single).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == same(title)
    assert str(parsed["LOCATION"]) == same(location)
    assert str(parsed["DESCRIPTION"]) == same(event.details())
    assert str(parsed.walk("VALARM")[0]["DESCRIPTION"]) == same(title)


@pytest.mark.parametrize("text", [*TRICKY, "Sak: C:\\Nye filer\\N"])
def test_ical_reads_the_text_as_written(project: Project, text: str) -> None:
    event = meeting(project, text, text, text)
    calendar = IcsCalendarStream.calendar_from_ics(ics.single(project, event, REVISION).decode())
    (parsed,) = calendar.events
    same = text.replace("\r\n", "\n").replace("\r", "\n")
    assert (parsed.summary, parsed.location) == (same, same)
    assert parsed.description is not None and parsed.description.startswith(same)


@pytest.mark.parametrize(
    "zone", ["UTC", "Etc/UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata"]
)
def test_times_in_any_zone_as_icalendar_writes_them(project: Project, zone: str) -> None:
    """The TZID of a zone as icalendar names it; UTC as times that end in Z."""
    tz: Any = ZoneInfo(zone)
    event = project.events[0]
    event = event.model_copy(
        update={"start": event.start.astimezone(tz), "end": event.end.astimezone(tz)}
    )
    written = ics.vevent_text(project, event, REVISION)
    assert written == by_icalendar(project, event, None)
