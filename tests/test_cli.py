"""The command line as a user and a scheduled job meet it."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from castcal import __version__
from castcal.write import lock, syncfs
from castcal.write import writer as castcal_output
from tests.conftest import Run, snapshot


def test_version(castcal: Callable[..., Run]) -> None:
    result = castcal("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


@pytest.mark.parametrize("command", [[], ["build"], ["check"]])
def test_help(castcal: Callable[..., Run], command: list[str]) -> None:
    result = castcal(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_usage_error_exits_2(castcal: Callable[..., Run]) -> None:
    assert castcal("build", "--no-such-option").exit_code == 2
    assert castcal("frobnicate").exit_code == 2


def test_python_dash_m_runs_a_build(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "castcal", "build", "--config", "config.toml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 episodes, 4 meetings; ")
    assert (project / "feeds" / "podcast.xml").is_file()


def test_check_prints_one_line_summary(project: Path, castcal: Callable[..., Run]) -> None:
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("ok: 2 episodes, 4 meetings")
    assert not (project / "feeds").exists()


def test_quiet_prints_nothing(project: Path, castcal: Callable[..., Run]) -> None:
    result = castcal("build", "--quiet", "--config", project / "config.toml")
    assert result.exit_code == 0 and result.stdout == ""


def test_quiet_repeats_no_warning_when_nothing_is_written(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """A scheduled job's warnings come once, with the build that wrote the files, not every
    quarter of an hour; without --quiet every build says them."""
    episode = project / "episodes/digital-transformasjon/episode.toml"
    episode.write_text(episode.read_text().replace('transcript = "transcript.vtt"\n', ""))
    config = project / "config.toml"
    first = castcal("build", "--quiet", "--config", config)
    assert first.exit_code == 0 and first.stdout == ""
    assert "transcript: none" in first.stderr
    again = castcal("build", "--quiet", "--config", config)  # nothing to do
    assert again.exit_code == 0 and again.stdout == "" and again.stderr == ""
    os.utime(config)  # a full build that writes nothing new
    full = castcal("build", "--quiet", "--config", config)
    assert full.exit_code == 0 and full.stdout == "" and full.stderr == ""
    loud = castcal("build", "--config", config)
    assert "transcript: none" in loud.stderr and "0 files written" in loud.stdout


def test_out_option(project: Path, tmp_path: Path, castcal: Callable[..., Run]) -> None:
    out = tmp_path / "elsewhere"
    assert castcal("build", "--config", project / "config.toml", "--out", out).exit_code == 0
    assert (out / "podcast.xml").is_file() and not (project / "feeds").exists()


def test_every_problem_in_one_run(project: Path, castcal: Callable[..., Run]) -> None:
    ep = project / "episodes" / "hva-er-endringsledelse" / "episode.toml"
    ep.write_text(ep.read_text().replace("number = 1", "number = 0\nsesong = 1"))
    (project / "episodes" / "digital-transformasjon" / "audio.mp3").unlink()
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 4  # three problems and the closing line
    assert "episodes/hva-er-endringsledelse/episode.toml: number: " in result.stderr
    assert "episodes/hva-er-endringsledelse/episode.toml: sesong: unknown key" in result.stderr
    assert "episodes/digital-transformasjon/episode.toml: audio: " in result.stderr


def test_locked_output_exits_3(project: Path, castcal: Callable[..., Run]) -> None:
    feeds = project / "feeds"
    feeds.mkdir()
    held = lock.lock_file(project, feeds)
    held.parent.mkdir(parents=True)
    with FileLock(held):
        result = castcal("build", "--config", project / "config.toml", "--wait", "0.2")
    assert result.exit_code == 3
    assert "another castcal build" in result.stderr
    assert list(feeds.iterdir()) == []


@pytest.mark.parametrize("many", [False, True], ids=["fsync each", "one sync"])
@pytest.mark.parametrize(
    ("err", "message"),
    [(errno.EACCES, "not writable"), (errno.ENOSPC, "disk is full"), (errno.EROFS, "not writable")],
)
def test_write_failure_exits_1_and_keeps_old_files(
    project: Path,
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    err: int,
    message: str,
    many: bool,
) -> None:
    """A failure in the middle of writing (simulated at fsync, where a full disk or a
    read-only file system shows, or for many files at syncfs, which reports it for all of
    them) leaves every old file as it was and no temp file."""
    feeds = project / "feeds"
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    before = snapshot(feeds)
    notes = project / "episodes" / "hva-er-endringsledelse" / "notes.md"
    notes.write_text("Nye notater.\n")
    (project / "episodes" / "digital-transformasjon" / "notes.md").write_text("Også nye.\n")

    def failing_fsync(fd: int) -> None:
        raise OSError(err, os.strerror(err))

    def failing_syncfs(fd: int) -> int:
        ctypes.set_errno(err)
        return -1

    if many:
        monkeypatch.setattr(castcal_output, "ONE_SYNC_FROM", 0)
    if many and syncfs._call() is not None:
        monkeypatch.setattr(syncfs, "_call", lambda: failing_syncfs)
    else:
        monkeypatch.setattr(os, "fsync", failing_fsync)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(feeds) == before


def fail_staged_write(monkeypatch: pytest.MonkeyPatch, nth: int) -> list[str]:
    """Make the ``nth`` write to a staged temp file fail as on a full disk; returns the
    names of the staged files written to, in order."""
    original, names = os.write, []

    def write(fd: int, data: bytes) -> int:
        name = Path(f"/proc/self/fd/{fd}").readlink().name
        if name.endswith(".tmp"):
            names.append(name)
            if len(names) == nth:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(fd, data)

    monkeypatch.setattr(os, "write", write)
    return names


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_staged_file_that_cannot_be_written_fails_the_build_and_changes_nothing(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while a changed file is staged: the build names the file, exits 1, and
    leaves the old files and no temp file."""
    feeds = project / "feeds"
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    before = snapshot(feeds)
    for episode in ("hva-er-endringsledelse", "digital-transformasjon"):
        (project / "episodes" / episode / "notes.md").write_text("Nye notater.\n")
    names = fail_staged_write(monkeypatch, 2)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1
    failed = names[1][1:].rsplit(".", 2)[0]  # staged as .{name}.{process}.tmp
    assert f"{failed}: the disk is full" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(feeds) == before
    assert temp_files(feeds) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_first_build_that_fails_midway_publishes_nothing(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = project / "feeds"
    names = fail_staged_write(monkeypatch, 3)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1 and "the disk is full" in result.stderr
    assert len(names) == 3  # nothing was written after the failure
    assert snapshot(feeds) == {}
    assert temp_files(feeds) == []


def test_many_files_are_made_durable_with_one_syncfs(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ONE_SYNC_FROM staged files: one sync, then one syncfs that reports a failed
    write for all of them; only the folders are fsynced, after the renames. Where syncfs
    cannot report one (before Linux 5.8, not Linux), every staged file is fsynced."""
    monkeypatch.setattr(castcal_output, "ONE_SYNC_FROM", 0)
    synced, original = [], os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(f"/proc/self/fd/{fd}").readlink())
        original(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    feeds = project / "feeds"
    files = [p for p in synced if not p.is_dir()]  # the staged files, renamed since
    if syncfs._call() is not None:
        assert files == [] and synced and all(p.is_relative_to(feeds) for p in synced)
    else:
        assert len(files) >= len(snapshot(feeds))


def four_problems(project: Path) -> list[str]:
    """An unknown key in [podcast], a meeting that ends before it starts, a segment kind
    never declared and a number two episodes share: the four lines castcal must print."""
    config = project / "config.toml"
    config.write_text(config.read_text().replace('type = "episodic"', 'typ = "episodic"'))
    meeting = project / "events/2027-01-20-endring-og-medvirkning.toml"
    meeting.write_text(
        meeting.read_text().replace("end = 2027-01-20T09:30", "end = 2027-01-20T07:30")
    )
    first = project / "episodes/hva-er-endringsledelse/episode.toml"
    first.write_text(first.read_text().replace('kind = "endringsnemda"', 'kind = "endringsnemnda"'))
    episodes = project / "episodes"
    shutil.copytree(episodes / "digital-transformasjon", episodes / "digital-igjen")
    again = episodes / "digital-igjen/episode.toml"
    again.write_text(again.read_text().replace("2017-04-20", "2017-05-20"))
    return [
        "config.toml: podcast.typ: unknown key",
        "events/2027-01-20-endring-og-medvirkning.toml: end: 2027-01-20 07:30 is not after",
        "episodes/hva-er-endringsledelse/episode.toml: segments[1].kind: 'endringsnemnda' is "
        "not a segment kind declared in config.toml",
        "episodes/digital-igjen/episode.toml: number: episode number 2 is also used "
        "by digital-transformasjon",
    ]


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_problem_in_config_hides_no_other(
    project: Path, castcal: Callable[..., Run], command: str
) -> None:
    expected = four_problems(project)
    result = castcal(command, "--config", project / "config.toml")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for start in expected:
        assert [line for line in lines if line.startswith(start)], (start, result.stderr)
    assert lines[-1] == "4 problems found; nothing was written."
    assert not (project / "feeds").exists()


def break_config(project: Path, old: str, new: str) -> None:
    config = project / "config.toml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))


def test_what_depends_on_a_broken_section_is_said_once(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Segment kinds and meetings' times need [podcast.segments] and [calendar]: with
    those broken, one line says so instead of an error for every episode and meeting;
    what needs neither is still checked."""
    four_problems(project)
    break_config(project, 'title = "Endringspraten"', 'titel = "Endringspraten"')
    break_config(project, 'timezone = "Europe/Oslo"', 'timezone = "Europe/Osloo"')
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    said = [line for line in lines if "until [" in line]
    assert said == [
        "config.toml: calendar: the meetings in events/ are checked as files only until "
        "[calendar] is fixed: their times depend on it",
        "config.toml: podcast.segments: the episodes' segment kinds are not checked until "
        "[podcast.segments] is fixed",
    ]
    assert not [line for line in lines if "kind" in line and line.startswith("episodes/")]
    assert not [line for line in lines if line.startswith("events/")]
    assert [line for line in lines if line.startswith("config.toml: calendar.timezone: ")]
    assert [line for line in lines if "number: episode number 2 is also used" in line]
    assert lines[-1] == "7 problems found; nothing was written."


def test_a_meeting_file_is_checked_without_a_calendar(
    project: Path, castcal: Callable[..., Run]
) -> None:
    break_config(project, 'timezone = "Europe/Oslo"', 'timezone = "localtime"')
    meeting = project / "events/2017-05-24-ny-digital-hverdag.toml"
    meeting.write_text(meeting.read_text() + 'stauts = "cancelled"\n')
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert "events/2017-05-24-ny-digital-hverdag.toml: stauts: unknown key" in result.stderr


def test_an_unreadable_config_asks_for_no_calendar(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """config.toml that is not TOML at all: its parts are unknown, not missing."""
    break_config(project, "[calendar]", "[calendar")
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert "config.toml: " in result.stderr and "required" not in result.stderr
    assert result.stderr.splitlines()[-1] == "1 problem found; nothing was written."


@pytest.mark.parametrize(
    ("start", "meant"),
    [
        ("2027-06-10T08:00:00+02:00", "2027-06-10T08:00:00+02:00"),  # summer time
        ("2027-01-20T08:00:00+01:00", "2027-01-20T08:00:00+01:00"),  # winter time
        ("2027-10-31T03:30:00+01:00", "2027-10-31T03:30:00+01:00"),  # after the change
    ],
)
def test_a_meeting_written_with_the_zones_offset_is_accepted(
    project: Path, castcal: Callable[..., Run], start: str, meant: str
) -> None:
    import icalendar

    meeting = project / "events/2027-01-20-endring-og-medvirkning.toml"
    text = meeting.read_text().replace("start = 2027-01-20T08:00:00", f"start = {start}")
    meeting.write_text(text.replace("end = 2027-01-20T09:30:00\n", ""))
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    ics = (project / "feeds/events/2027-01-20-endring-og-medvirkning.ics").read_bytes()
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("DTSTART").isoformat() == meant
