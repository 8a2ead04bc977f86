"""The breakfast-meeting calendars, read by the parsers calendar clients are built on."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import Run, need_program, snapshot
from tests.test_calendar_parts import calendar_properties

OSLO = ZoneInfo("Europe/Oslo")
SERIES = "frokost.ics"


def build(project: Path, castcal: Callable[..., Run]) -> Path:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return project / "feeds"


def calendars(feeds: Path) -> list[Path]:
    return [feeds / SERIES, *sorted((feeds / "events").glob("*.ics"))]


def vevents(path: Path) -> dict[str, Any]:
    """The VEVENTs of a file by UID (typed loosely: icalendar's property types are a union)."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def local_times(project: Path) -> dict[str, tuple[datetime, datetime]]:
    """Each sample meeting's start and end as written in events/, read with tomllib."""
    times = {}
    for path in sorted((project / "events").glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        start = data["start"]
        if not isinstance(start, datetime):
            start = datetime.combine(start, datetime.min.time().replace(hour=8))
        end = data.get("end", start + timedelta(hours=1, minutes=30))
        times[f"{path.stem}@www.example.org"] = (start, end)
    return times


def test_every_file_parses_with_icalendar_and_ical(
    project: Path, castcal: Callable[..., Run]
) -> None:
    feeds = build(project, castcal)
    files = calendars(feeds)
    assert len(files) == 1 + 4
    for path in files:
        data = path.read_bytes()
        cal = icalendar.Calendar.from_ical(data)
        assert cal.to_ical() == data  # round trip, byte for byte
        assert not cal.get_missing_tzids()
        strict = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
        assert [e.uid for e in strict.events] == [str(e["UID"]) for e in cal.walk("VEVENT")]


def test_utc_instants_match_zoneinfo(project: Path, castcal: Callable[..., Run]) -> None:
    feeds = build(project, castcal)
    expected = {
        uid: (s.replace(tzinfo=OSLO).astimezone(UTC), e.replace(tzinfo=OSLO).astimezone(UTC))
        for uid, (s, e) in local_times(project).items()
    }
    cal = icalendar.Calendar.from_ical((feeds / SERIES).read_bytes())
    found = {
        str(e["UID"]): (e.start.astimezone(UTC), e.end.astimezone(UTC))
        for e in recurring_ical_events.of(cal).between(date(2016, 1, 1), date(2030, 1, 1))
    }
    assert found == expected
    strict = IcsCalendarStream.calendar_from_ics((feeds / SERIES).read_text("utf-8"))
    assert {
        e.uid: (e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC))  # type: ignore[union-attr]
        for e in strict.events
    } == expected


def add_event(project: Path, name: str, body: str) -> None:
    (project / "events" / f"{name}.toml").write_text(body, "utf-8")


def test_meetings_on_dst_change_days(project: Path, castcal: Callable[..., Run]) -> None:
    add_event(project, "2027-03-28-sommertid", 'title = "Sommertid"\nstart = 2027-03-28T08:00:00\n')
    add_event(project, "2027-10-31-vintertid", 'title = "Vintertid"\nstart = 2027-10-31T08:00:00\n')
    feeds = build(project, castcal)
    for path in (feeds / SERIES, feeds / "events" / "2027-03-28-sommertid.ics"):
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        starts = {
            str(e["UID"]).split("@")[0]: e.start.astimezone(UTC)
            for e in recurring_ical_events.of(cal).between(date(2027, 1, 1), date(2028, 1, 1))
        }
        assert starts["2027-03-28-sommertid"] == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
        if path.name == SERIES:
            assert starts["2027-10-31-vintertid"] == datetime(2027, 10, 31, 7, 0, tzinfo=UTC)


def test_vtimezone_is_rrule_style_and_matches_zoneinfo_for_15_years(
    project: Path, castcal: Callable[..., Run]
) -> None:
    feeds = build(project, castcal)
    cal = icalendar.Calendar.from_ical((feeds / SERIES).read_bytes())
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert isinstance(vtimezone, icalendar.Timezone)
    assert [c.name for c in vtimezone.subcomponents] == ["DAYLIGHT", "STANDARD"]
    for observance in vtimezone.subcomponents:
        assert "RRULE" in observance and "RDATE" not in observance
    ours = vtimezone.to_tz(lookup_tzid=False)  # built from our rules, not looked up by name

    def same(moment: datetime) -> bool:
        return moment.astimezone(ours).utcoffset() == moment.astimezone(OSLO).utcoffset()

    day, days, change_days = datetime(2017, 1, 1, tzinfo=UTC), 0, 0
    while day.year < 2032:  # every day of 15 years
        assert same(day + timedelta(hours=7)), day
        if (
            day.astimezone(OSLO).utcoffset()
            != (day + timedelta(days=1)).astimezone(OSLO).utcoffset()
        ):  # a change day: every quarter of an hour
            change_days += 1
            for quarter in range(96):
                assert same(day + timedelta(minutes=15 * quarter)), day
        day += timedelta(days=1)
        days += 1
    assert days == 365 * 15 + 3 and change_days == 30  # 2020, 2024 and 2028 are leap years


def test_text_format_crlf_folding_utf8_no_bom(project: Path, castcal: Callable[..., Run]) -> None:
    long_text = " ".join(["Æøå-omstilling i førstelinjetjenesten på Ålesund-Bodø-aksen"] * 12)
    add_event(
        project,
        "2027-02-10-aeoeaa",
        f'title = "Ærlig talt: {long_text[:200]}"\nstart = 2027-02-10T08:00:00\n'
        f'description = "{long_text}"\n\n[[speakers]]\nname = "Åse Øverbø"\n'
        'affiliation = "Særdeles lang etatsbetegnelse for Østlandsområdet"\n',
    )
    feeds = build(project, castcal)
    for path in calendars(feeds):
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert data.endswith(b"\r\n")
        assert b"\n" not in data.replace(b"\r\n", b"")
        for line in data.split(b"\r\n"):
            assert len(line) <= 75, line
            line.decode("utf-8")  # a fold never splits a character
    event = vevents(feeds / SERIES)["2027-02-10-aeoeaa@www.example.org"]
    assert long_text in str(event["DESCRIPTION"])
    assert "- Åse Øverbø, Særdeles lang etatsbetegnelse for Østlandsområdet" in str(
        event["DESCRIPTION"]
    )


def test_calendar_properties(project: Path, castcal: Callable[..., Run]) -> None:
    feeds = build(project, castcal)
    series: Any = icalendar.Calendar.from_ical((feeds / SERIES).read_bytes())
    assert series["NAME"] == series["X-WR-CALNAME"] == "Endring til frokost"
    written = calendar_properties((feeds / SERIES).read_bytes())
    assert written["X-WR-CALDESC"] == written["DESCRIPTION"]  # both TEXT, both escaped
    assert "erfaringer\\, metoder" in written["X-WR-CALDESC"]
    assert series["X-WR-TIMEZONE"] == "Europe/Oslo"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H" in (feeds / SERIES).read_text()
    assert "X-PUBLISHED-TTL:PT12H" in (feeds / SERIES).read_text()
    assert "UID" not in series and "METHOD" not in series
    for path in calendars(feeds):
        text = path.read_text("utf-8")
        assert "ATTENDEE" not in text and "METHOD:REQUEST" not in text
    series_events = vevents(feeds / SERIES)
    for event in series_events.values():
        assert not event.walk("VALARM")  # never alarms in a subscription
        assert event["DTSTART"].params["TZID"] == "Europe/Oslo"
        assert event["LOCATION"] and event["URL"]
    first = series_events["2017-03-03-endringsledelse-i-praksis@www.example.org"]
    description = str(first["DESCRIPTION"])
    for speaker in ("Karine Rikheim", "Stine Olsen", "Ingunn Botheim"):
        assert speaker in description
    assert "Påmelding: https://www.example.org/endringspodden/frokost/pamelding" in description
    for path in sorted((feeds / "events").glob("*.ics")):
        single: Any = icalendar.Calendar.from_ical(path.read_bytes())
        assert single["METHOD"] == "PUBLISH" and "X-WR-CALNAME" not in single
        ((uid, event),) = vevents(path).items()
        assert uid == f"{path.stem}@www.example.org" and uid in series_events
        alarms = event.walk("VALARM")
        if event["STATUS"] == "CANCELLED":
            assert not alarms
        else:
            (alarm,) = alarms
            assert alarm["ACTION"] == "DISPLAY"
            assert alarm["TRIGGER"].dt == -timedelta(hours=1)


def test_cancelled_meeting_stays_published_as_cancelled(
    project: Path, castcal: Callable[..., Run]
) -> None:
    feeds = build(project, castcal)
    uid = "2026-12-09-et-aar-med-endringsledelse@www.example.org"
    for path in (feeds / SERIES, feeds / "events" / "2026-12-09-et-aar-med-endringsledelse.ics"):
        event = vevents(path)[uid]
        assert event["STATUS"] == "CANCELLED" and event["TRANSP"] == "TRANSPARENT"
        assert str(event["SUMMARY"]).startswith("AVLYST: ")
        assert str(event["DESCRIPTION"]).startswith("Møtet er avlyst.")


def revision(feeds: Path, uid: str) -> tuple[int, datetime, datetime]:
    event = vevents(feeds / SERIES)[uid]
    return int(event["SEQUENCE"]), event["LAST-MODIFIED"].dt, event["DTSTAMP"].dt


def rebuild_later(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, days: int
) -> Path:
    epoch = int(os.environ["SOURCE_DATE_EPOCH"]) + days * 86400
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return build(project, castcal)


UID = "2027-01-20-endring-og-medvirkning@www.example.org"
EVENT = "events/2027-01-20-endring-og-medvirkning.toml"


def edit(project: Path, old: str, new: str) -> None:
    path = project / EVENT
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def test_changing_the_time_bumps_sequence_once(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = build(project, castcal)
    sequence, modified, _ = revision(feeds, UID)
    before = snapshot(feeds)
    edit(project, "start = 2027-01-20T08:00:00", "start = 2027-01-20T08:30:00")
    feeds = rebuild_later(project, castcal, monkeypatch, days=3)
    new_sequence, new_modified, stamp = revision(feeds, UID)
    assert new_sequence == sequence + 1
    assert new_modified == modified + timedelta(days=3) == stamp
    after = snapshot(feeds)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        SERIES,
        "events/2027-01-20-endring-og-medvirkning.ics",
        "frokost.atom",
        "index.html",
        "moter/2027-01-20-endring-og-medvirkning.html",
        "manifest.json",
    }
    # and a build with nothing changed changes no byte
    rebuild_later(project, castcal, monkeypatch, days=5)
    assert snapshot(feeds) == after


def test_changing_only_the_description_keeps_sequence(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = build(project, castcal)
    sequence, modified, _ = revision(feeds, UID)
    edit(project, "Vi ser på", "Vi drøfter")
    feeds = rebuild_later(project, castcal, monkeypatch, days=1)
    assert revision(feeds, UID)[0] == sequence
    assert revision(feeds, UID)[1] == modified + timedelta(days=1)


def test_cancelling_bumps_sequence_and_gives_the_cancelled_form(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = build(project, castcal)
    sequence = revision(feeds, UID)[0]
    edit(project, 'status = "tentative"', 'status = "cancelled"')
    feeds = rebuild_later(project, castcal, monkeypatch, days=2)
    for path in (feeds / SERIES, feeds / "events" / "2027-01-20-endring-og-medvirkning.ics"):
        event = vevents(path)[UID]
        assert int(event["SEQUENCE"]) == sequence + 1
        assert event["STATUS"] == "CANCELLED" and event["TRANSP"] == "TRANSPARENT"
        assert str(event["SUMMARY"]) == (
            "AVLYST: Endring til frokost: medvirkning når organisasjonen endres"
        )
        assert str(event["DESCRIPTION"]).startswith("Møtet er avlyst.\n\n")
        assert not event.walk("VALARM")


def test_calcurse_imports_every_meeting_at_the_right_time(
    project: Path, castcal: Callable[..., Run], tmp_path: Path
) -> None:
    calcurse = need_program("calcurse")
    feeds = build(project, castcal)
    env = {**os.environ, "TZ": "Europe/Oslo", "HOME": str(tmp_path)}
    expected = local_times(project)
    for path in calendars(feeds):
        data_dir = tmp_path / f"calcurse-{path.stem}"
        data_dir.mkdir()
        imported = subprocess.run(
            [calcurse, "-D", str(data_dir), "-i", str(path)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        count = len(vevents(path))
        assert re.search(rf"\b{count} apps?\b", imported.stdout), imported.stdout
        assert re.search(r"\b0 skipped\b", imported.stdout), imported.stdout
        listed = subprocess.run(
            [
                calcurse,
                "-D",
                str(data_dir),
                "-Q",
                "--from",
                "01/01/2017",
                "--days",
                "4000",
                "--format-apt",
                "%(start:%Y-%m-%d %H:%M)|%(end:%Y-%m-%d %H:%M)|%m\\n",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        seen = sorted(line for line in listed.stdout.splitlines() if "|" in line)
        in_file = vevents(path)
        want = sorted(
            f"{expected[uid][0]:%Y-%m-%d %H:%M}|{expected[uid][1]:%Y-%m-%d %H:%M}|{e['SUMMARY']}"
            for uid, e in in_file.items()
        )
        assert seen == want


def test_meetings_in_years_of_other_clock_rules_are_a_content_problem(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Until 1996 Norway's summer time ended in September: one yearly rule cannot describe
    1995 and 2027. A typo like that is reported on the meeting's file, and nothing is
    written, not a traceback."""
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    before = snapshot(project / "feeds")
    events = project / "events"
    later = (events / "2027-01-20-endring-og-medvirkning.toml").read_text()
    (events / "1995-01-20-endring-og-medvirkning.toml").write_text(
        later.replace("2027-01-20", "1995-01-20")
    )
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert "events/1995-01-20-endring-og-medvirkning.toml: start:" in result.stderr
    assert "1995 and 2027" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "feeds") == before


RECORDING = "https://www.example.org/endringspodden/episoder/hva-er-endringsledelse.html"


def name_meeting(project: Path, meeting: str) -> None:
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    text = toml.read_text("utf-8")
    toml.write_text(
        text.replace('notes = "notes.md"', f'notes = "notes.md"\nmeeting = "{meeting}"')
    )


def descriptions(feeds: Path, uid: str) -> list[str]:
    """The meeting's VEVENT description in the series and in its own file."""
    own = feeds / "events" / uid.replace("@www.example.org", ".ics")
    return [str(vevents(path)[uid]["DESCRIPTION"]) for path in (feeds / SERIES, own)]


def test_a_recorded_meeting_names_its_recording_once_it_has_ended(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    name_meeting(project, "2027-01-20-endring-og-medvirkning")
    before = descriptions(build(project, castcal), UID)  # the build is in September 2026
    assert len(before) == 2 and not any("Opptak" in d or RECORDING in d for d in before)
    after = descriptions(rebuild_later(project, castcal, monkeypatch, days=130), UID)
    for description in after:
        assert description.endswith(f"\n\nOpptak: {RECORDING}")
    assert [d.removesuffix(f"\n\nOpptak: {RECORDING}") for d in after] == before


def test_only_the_recorded_meeting_names_a_recording(
    project: Path, castcal: Callable[..., Run]
) -> None:
    name_meeting(project, "2017-03-03-endringsledelse-i-praksis")
    feeds = build(project, castcal)
    for uid, event in vevents(feeds / SERIES).items():
        held = uid.startswith("2017-03-03-")
        assert (f"Opptak: {RECORDING}" in str(event["DESCRIPTION"])) == held, uid
