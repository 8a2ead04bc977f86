"""The command line as a user and a scheduled job meet it."""

from __future__ import annotations

import ctypes
import errno
import os
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
