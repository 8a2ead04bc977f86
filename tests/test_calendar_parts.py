"""Calendars put together from parts (each meeting's VEVENT on its own, so a build reuses
the unchanged ones, and written by castcal as icalendar writes it, at a third of its cost)
are what icalendar renders of the whole calendar, byte for byte, for any text; where
icalendar alters text (a backslash and N), castcal keeps it; and icalendar, ical and
calcurse read back exactly what the editor wrote, the calendar's name and description too."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from castcal.content.models import Event, Project
from castcal.render import ics, norwegian, paths, vevent
from castcal.render.facts import Revision
from tests.conftest import copy_sample, need_program, run_cli
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
    opening = ics.opening(project, ics.opening_of(event))
    single = ics.single(project, opening, event, vevent.vevent(project, event, REVISION))
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
    series = ics.series(ics.opening(project, ics.series_opening(project)), vevents)
    whole = icalendar.Calendar.from_ical(series)
    assert bytes(whole.to_ical()) == series
    assert [str(e["UID"]) for e in whole.walk("VEVENT")] == [e.uid for e in project.events]


@pytest.mark.parametrize("text", [*TRICKY, "Sak: C:\\Nye filer\\N"])
def test_ical_reads_the_text_as_written(project: Project, text: str) -> None:
    event = meeting(project, text, text, text)
    opening = ics.opening(project, ics.opening_of(event))
    data = ics.single(project, opening, event, vevent.vevent(project, event, REVISION))
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


def calendar_properties(data: bytes) -> dict[str, str]:
    """A calendar's own properties as written (those before its first component),
    unfolded, by name: to compare how two properties are escaped."""
    head = data.decode("utf-8").replace("\r\n ", "").split("\r\nBEGIN:V")[0]
    return dict(line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)


NAME = "Frokost; kaffe, te \\ og C:\\Nye filer"
DESCRIPTION = "Linje én; med komma, og \\ skråstrek\nlinje to\r\nlinje tre\rC:\\Nye filer"
TITLE = "Endring; i praksis, \\ del 2"
TEXT_EVENT = "2027-03-10-tekst"


def with_text_everywhere(project: Path) -> None:
    """The calendar's name and description, and a meeting's title, location and
    description, with what TEXT escapes (RFC 5545 3.3.11): ; , \\ and line breaks."""
    config = project / "config.toml"
    data = tomllib.loads(config.read_text("utf-8"))
    data["calendar"].update(name=NAME, description=DESCRIPTION)
    config.write_text(tomli_w.dumps(data), "utf-8")
    meeting = {
        "title": TITLE,
        "start": datetime(2027, 3, 10, 8, 0),
        "location": NAME,
        "description": DESCRIPTION,
    }
    (project / "events" / f"{TEXT_EVENT}.toml").write_text(tomli_w.dumps(meeting), "utf-8")


def built_with_text(folder: Path) -> Path:
    """The sample project, ``with_text_everywhere``, built: its feeds/ folder."""
    root = copy_sample(folder / "project")
    with_text_everywhere(root)
    result = run_cli("build", "--config", root / "config.toml")
    assert result.exit_code == 0, result.stderr
    return root / "feeds"


def vevent_of(path: Path, uid: str) -> icalendar.Event:
    (found,) = [e for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
                if str(e["UID"]) == uid]  # fmt: skip
    assert isinstance(found, icalendar.Event)
    return found


def test_text_with_separators_and_line_breaks_reads_back(tmp_path: Path) -> None:
    """Every TEXT property castcal writes reads back as written (each kind of line break
    as a line break), by icalendar and ical; X-WR-CALNAME and X-WR-CALDESC are escaped
    as NAME and DESCRIPTION are."""
    feeds = built_with_text(tmp_path)
    same = DESCRIPTION.replace("\r\n", "\n").replace("\r", "\n")
    series: Any = icalendar.Calendar.from_ical((feeds / paths.CALENDAR).read_bytes())
    strict = IcsCalendarStream.calendar_from_ics((feeds / paths.CALENDAR).read_text("utf-8"))
    assert (strict.name, strict.description) == ([NAME], [same])
    assert str(series["DESCRIPTION"]) == same
    written = calendar_properties((feeds / paths.CALENDAR).read_bytes())
    assert written["X-WR-CALNAME"] == written["NAME"]
    assert written["X-WR-CALDESC"] == written["DESCRIPTION"]
    uid = f"{TEXT_EVENT}@www.example.org"
    for path in (feeds / paths.CALENDAR, feeds / "events" / f"{TEXT_EVENT}.ics"):
        event = vevent_of(path, uid)
        (other,) = [
            e
            for e in IcsCalendarStream.calendar_from_ics(path.read_text("utf-8")).events
            if e.uid == uid
        ]
        assert str(event["SUMMARY"]) == other.summary == TITLE
        assert str(event["LOCATION"]) == other.location == NAME
        assert str(event["DESCRIPTION"]).startswith(same)
        assert (other.description or "").startswith(same)
    (alarm,) = vevent_of(feeds / "events" / f"{TEXT_EVENT}.ics", uid).walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == TITLE


def test_calcurse_reads_the_text_as_written(tmp_path: Path) -> None:
    calcurse = need_program("calcurse")
    feeds = built_with_text(tmp_path)
    env = {**os.environ, "TZ": "Europe/Oslo", "HOME": str(tmp_path)}
    for path in (feeds / paths.CALENDAR, feeds / "events" / f"{TEXT_EVENT}.ics"):
        data_dir = tmp_path / f"calcurse-{path.stem}"
        data_dir.mkdir()
        imported = subprocess.run(
            [calcurse, "-D", str(data_dir), "-i", str(path)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        assert re.search(r"\b0 skipped\b", imported.stdout), imported.stdout
        listed = subprocess.run(
            [calcurse, "-D", str(data_dir), "-Q", "--from", "03/10/2027", "--days", "1",
             "--format-apt", "%(start:%H:%M)|%m|%n\\n"],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        (line,) = [line for line in listed.stdout.splitlines() if "|" in line]
        start, summary, note = line.split("|")
        assert (start, summary) == ("08:00", TITLE)
        description = (data_dir / "notes" / note).read_text("utf-8")
        assert description.startswith(DESCRIPTION.replace("\r\n", "\n").replace("\r", "\n"))


def test_every_zone_is_named_as_icalendar_names_it() -> None:
    """The TZID castcal writes without asking icalendar is icalendar's, for every zone
    (Africa/Abidjan, at +00:00 since 1970, is UTC to icalendar: Z, no TZID)."""
    from icalendar.timezone.tzid import tzid_from_dt

    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    assert len(zones) > 300
    for key in zones:
        moment = datetime(2027, 3, 3, 8, 0, tzinfo=ZoneInfo(key))
        theirs = tzid_from_dt(moment)
        expected = None if theirs == "UTC" else theirs
        assert vevent._zone_id(moment.tzinfo, moment.tzname()) == expected, key
