"""A build with many episodes' audio to probe or make uses every core: the build's pool of
helper processes probes the new files and makes the published audio. What is published is
the same, byte for byte, as one process makes it; a helper that fails or dies, or a build
that fails after its helpers worked, publishes nothing and leaves no temporary file and
no process behind."""

from __future__ import annotations

import datetime
import errno
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import pytest
from filelock import FileLock

from castcal.build import audio as making
from castcal.build import gather, parallel
from castcal.content.models import AudioFacts
from castcal.errors import OutputError
from castcal.write import lock
from tests.conftest import Run, snapshot
from tests.test_guards import KILLER, assert_valid

COPIES = 10  # with the sample's two: more episodes than a helper is started for
SOURCE = "hva-er-endringsledelse"

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="helpers need fork (Linux)")


@pytest.fixture
def many(project: Path) -> Path:
    """The sample project with ten more episodes, copies of its first one."""
    source = project / "episodes" / SOURCE
    text = (source / "episode.toml").read_text("utf-8")
    for number in range(COPIES):
        folder = project / "episodes" / f"kopi-{number:02d}"
        shutil.copytree(source, folder)
        copy = text.replace("number = 1", f"number = {10 + number}", 1)
        copy = copy.replace("published = 2017-03-01", f"published = 2018-01-{number + 1:02d}", 1)
        copy = copy.replace("Hva er endringsledelse?", f"Kopi {number}", 1)
        (folder / "episode.toml").write_text(copy, "utf-8")
    assert len(list((project / "episodes").iterdir())) >= making.FEWEST
    # Else a thread an earlier test left running would keep every build here from forking.
    assert parallel.can_fork(), f"threads running: {threading.enumerate()}"
    return project


class Staging:
    """Which process staged each file: the build's own, or a helper (logged to a file, as
    a helper's memory is its own)."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def made(self, out: Path) -> dict[str, int]:
        """The files staged in ``out``, each with the process that staged it."""
        made: dict[str, int] = {}
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            pid, path = line.split(" ", 1)
            if not Path(path).is_relative_to(out):
                continue  # a cache, not an output
            name = Path(path).relative_to(out).as_posix()
            assert name not in made, f"{name} staged twice"
            made[name] = int(pid)
        return made

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Staging:
    from castcal.write import writer

    log, original = tmp_path / "staged.log", writer._create

    def logged(dest: str, token: str) -> tuple[int, str]:
        with log.open("a") as out:
            out.write(f"{os.getpid()} {dest}\n")
        return original(dest, token)

    monkeypatch.setattr(writer, "_create", logged)
    return Staging(log)


def build(project: Path, castcal: Callable[..., Run], *args: str | Path) -> Run:
    return castcal("build", "--config", project / "config.toml", *args)


def hashes(folder: Path) -> dict[str, str]:
    return {name: digest for name, (digest, _) in snapshot(folder).items()}


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def assert_no_helper_left(feeds: Path) -> None:
    """A helper holds the build's lock while it lives: the lock is free once all are gone."""
    held = FileLock(lock.lock_file(feeds.parent, feeds), timeout=0)
    held.acquire()
    held.release()


def test_helpers_publish_what_one_process_makes(
    many: Path, tmp_path: Path, castcal: Callable[..., Run], staging: Staging
) -> None:
    assert build(many, castcal, "--jobs", "1", "--out", tmp_path / "one").exit_code == 0
    alone = staging.made(tmp_path / "one")
    assert set(alone.values()) == {os.getpid()}
    shutil.rmtree(many / ".castcal-cache")  # the second build as cold as the first
    staging.clear()

    result = build(many, castcal, "--jobs", "2", "--out", tmp_path / "two")
    assert result.exit_code == 0, result.stderr
    together = staging.made(tmp_path / "two")
    assert together.keys() == alone.keys()  # every file, each staged once
    helped = {name for name, pid in together.items() if pid != os.getpid()}
    assert helped == {name for name in together if name.startswith("audio/")}
    assert len({together[name] for name in helped}) == 2  # both helpers took episodes
    # Whole episodes: a helper makes an episode's tagged copy and its segment cuts.
    for name in helped:
        episode = re.sub(r"-(endringspraten|endringsnemda)$", "", Path(name).stem)
        assert f"audio/{episode}.mp3" in helped and f"audio/{episode}-endringsnemda.mp3" in helped
    assert hashes(tmp_path / "one") == hashes(tmp_path / "two")
    assert temp_files(tmp_path / "two") == []
    assert_no_helper_left(tmp_path / "two")


def test_a_build_with_little_audio_to_make_starts_no_helper(
    many: Path, castcal: Callable[..., Run], staging: Staging
) -> None:
    assert build(many, castcal, "--jobs", "2").exit_code == 0
    staging.clear()
    (many / "episodes" / SOURCE / "notes.md").write_text("Nye notater.\n")
    (many / "feeds" / "audio" / "kopi-03.mp3").unlink()
    result = build(many, castcal, "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    made = staging.made(many / "feeds")
    assert made["audio/kopi-03.mp3"] == os.getpid()
    assert set(made.values()) == {os.getpid()}


def test_jobs_must_be_a_positive_number(many: Path, castcal: Callable[..., Run]) -> None:
    result = build(many, castcal, "--jobs", "0")
    assert result.exit_code == 2 and "--jobs" in result.stderr


def fail_in(monkeypatch: pytest.MonkeyPatch, helper: bool, folder: str, fault: str) -> None:
    """Make the first write to a file staged in ``folder``, by a helper or by the build
    itself, fail as on a full disk (``fault="full"``) or kill the process writing it."""
    original, build_pid = os.write, os.getpid()

    def write(fd: int, data: bytes) -> int:
        target = Path(f"/proc/self/fd/{fd}").readlink()
        in_helper = os.getpid() != build_pid
        if target.name.endswith(".tmp") and target.parent.name == folder and in_helper == helper:
            if fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.fixture
def rebuilt(many: Path, castcal: Callable[..., Run]) -> Iterator[tuple[Path, dict[str, str]]]:
    """The project built once, then changed so that every episode's audio is made again
    (the show's author is in every file's tags), with the published files as they were."""
    assert build(many, castcal, "--jobs", "1").exit_code == 0
    config = many / "config.toml"
    text = config.read_text("utf-8")
    author = re.search(r'(?m)^author = "(.*)"$', text)
    assert author is not None
    config.write_text(text.replace(author[0], f'author = "{author[1]} og venner"', 1))
    yield many, hashes(many / "feeds")


@pytest.mark.parametrize("fault", ["full", "kill"])
def test_a_helper_that_fails_publishes_nothing(
    rebuilt: tuple[Path, dict[str, str]],
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    project, before = rebuilt
    fail_in(monkeypatch, helper=True, folder="audio", fault=fault)
    result = build(project, castcal, "--jobs", "2")
    assert result.exit_code == 1
    if fault == "full":
        assert re.search(r"feeds/audio/[^:]+: the disk is full", result.stderr), result.stderr
    else:
        assert "a helper process making audio files was stopped by signal 9 (SIGKILL)" in (
            result.stderr
        )
    assert "Traceback" not in result.stderr
    assert hashes(project / "feeds") == before
    assert temp_files(project / "feeds") == []
    assert_no_helper_left(project / "feeds")
    monkeypatch.undo()
    assert build(project, castcal, "--jobs", "2").exit_code == 0
    assert_valid(project / "feeds")


def test_a_build_that_fails_after_helpers_worked_publishes_nothing(
    rebuilt: tuple[Path, dict[str, str]],
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The build's own write fails (a meeting's calendar, staged after the helpers made
    the audio): what the helpers staged goes with everything else."""
    project, before = rebuilt
    meeting = project / "events" / "2017-05-24-ny-digital-hverdag.toml"
    meeting.write_text(
        meeting.read_text("utf-8").replace("start = 2017-05-24", "start = 2017-05-31")
    )
    fail_in(monkeypatch, helper=False, folder="events", fault="full")
    result = build(project, castcal, "--jobs", "2")
    assert result.exit_code == 1 and "feeds/events/" in result.stderr, result.stderr
    assert hashes(project / "feeds") == before
    assert temp_files(project / "feeds") == []
    assert_no_helper_left(project / "feeds")


def test_a_build_with_helpers_killed_at_any_moment_leaves_valid_output(
    rebuilt: tuple[Path, dict[str, str]], tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    """The build or a helper killed while staging, syncing or renaming: the output stays
    valid, and the next build publishes what an unbroken one would."""
    project, _ = rebuilt
    old = tmp_path / "old-feeds"
    shutil.copytree(project / "feeds", old)
    reference = tmp_path / "reference"
    shutil.copytree(project, reference, ignore=shutil.ignore_patterns(".castcal-cache"))
    assert build(reference, castcal, "--jobs", "1").exit_code == 0
    expected = hashes(reference / "feeds")
    points = [
        *(("build", "write", "before", n) for n in (1, 4)),  # while it stages
        ("build", "sync", "before", 1), ("build", "sync", "after", 1),
        ("build", "replace", "before", 3), ("build", "replace", "after", 30),
        *(("helper", "write", when, n) for when in ("before", "after") for n in (1, 7)),
    ]  # fmt: skip
    for who, target, when, n in points:
        shutil.rmtree(project / "feeds")
        shutil.copytree(old, project / "feeds")
        command = [sys.executable, "-c", KILLER, who, target, when, str(n)]
        run = subprocess.run(
            [*command, "build", "--jobs", "2", "--config", str(project / "config.toml")],
            capture_output=True,
            text=True,
            check=False,
        )
        if who == "helper":  # the build says so, and publishes nothing
            assert run.returncode == 1, run.stderr
            assert "a helper process making audio files was stopped by signal 9" in run.stderr
            assert hashes(project / "feeds") == hashes(old)
            assert temp_files(project / "feeds") == []
        else:
            assert run.returncode == -9, run.stderr
        assert_valid(project / "feeds")
        again = build(project, castcal, "--jobs", "2", "--wait", "60")
        assert again.exit_code == 0, again.stderr
        assert hashes(project / "feeds") == expected
        assert temp_files(project / "feeds") == []


@pytest.fixture
def probed_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], dict[str, int]]:
    """Which process probed each audio file, a helper or the build (logged to a file); and
    helpers for as few as two files to probe, as the sample's are few."""
    from castcal.media import probe as audio

    monkeypatch.setattr(gather, "FEWEST_PROBES", 2)
    log, original = tmp_path / "probed.log", audio.probe

    def logged(path: Path) -> AudioFacts:
        facts = original(path)
        with log.open("a") as out:
            out.write(f"{os.getpid()} {path.parent.name}/{path.name}\n")
        return facts

    monkeypatch.setattr(audio, "probe", logged)

    def read() -> dict[str, int]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        probed = {name: int(pid) for pid, name in (line.split(" ", 1) for line in lines)}
        assert len(probed) == len(lines), "a file probed twice"
        return probed

    return read


def test_helpers_probe_new_audio_as_one_process_does(
    many: Path, tmp_path: Path, castcal: Callable[..., Run], probed_by: Callable[[], dict[str, int]]
) -> None:
    assert build(many, castcal, "--jobs", "1", "--out", tmp_path / "one").exit_code == 0
    alone = probed_by()
    assert len(alone) == 2 + COPIES and set(alone.values()) == {os.getpid()}
    facts = remembered_facts(many)
    shutil.rmtree(many / ".castcal-cache")

    assert build(many, castcal, "--jobs", "2", "--out", tmp_path / "two").exit_code == 0
    together = probed_by()
    assert together.keys() == alone.keys()  # each file probed once
    assert os.getpid() not in together.values() and len(set(together.values())) == 2
    assert remembered_facts(many) == facts
    assert hashes(tmp_path / "one") == hashes(tmp_path / "two")


def remembered_facts(project: Path) -> dict[str, object]:
    """The audio facts the project's cache holds, by file."""
    from castcal.build import cache

    with sqlite3.connect(project / cache.PATH) as db:
        rows = db.execute("SELECT key, value FROM facts WHERE kind = 'audio'").fetchall()
    return {key: json.loads(value) for key, value in rows}


def test_a_file_a_helper_cannot_probe_is_reported_as_by_one_process(
    many: Path, castcal: Callable[..., Run], probed_by: Callable[[], dict[str, int]]
) -> None:
    audio = many / "episodes" / "kopi-04" / "audio.mp3"
    audio.write_bytes(audio.read_bytes()[:-50])
    alone = build(many, castcal, "--jobs", "1")
    assert alone.exit_code == 1 and "episodes/kopi-04/audio.mp3: audio:" in alone.stderr
    assert "truncated" in alone.stderr
    probed_by()
    shutil.rmtree(many / ".castcal-cache", ignore_errors=True)  # none kept: the build failed
    together = build(many, castcal, "--jobs", "2")
    assert together.exit_code == 1
    assert together.stderr == alone.stderr
    assert os.getpid() not in probed_by().values()
    assert not (many / "feeds").exists() or snapshot(many / "feeds") == {}


def test_a_probing_helper_that_is_killed_fails_the_build(
    many: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from castcal.media import probe as audio

    monkeypatch.setattr(gather, "FEWEST_PROBES", 2)
    original, build_pid = audio.probe, os.getpid()

    def probe(path: Path) -> AudioFacts:
        if os.getpid() != build_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(path)

    monkeypatch.setattr(audio, "probe", probe)
    result = build(many, castcal, "--jobs", "2")
    assert result.exit_code == 1
    stopped = "a helper process probing and measuring audio files was stopped by signal 9"
    assert f"{stopped} (SIGKILL)" in result.stderr
    assert not (many / "feeds").exists() or snapshot(many / "feeds") == {}


def die(item: int) -> int:
    """A task whose helper is killed as it starts."""
    os.kill(os.getpid(), signal.SIGKILL)
    return item


class Handed(Sequence[int]):
    """Items the pool takes one by one: after the first, the next come only once the pool
    knows a helper died, as happens when a helper dies while a big task is still being
    handed over (seen once in CI: the build failed with exit 70 and a traceback)."""

    def __init__(self, pool: parallel.Pool, size: int) -> None:
        self.pool, self.size = pool, size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        return range(self.size)[index]

    def __iter__(self) -> Iterator[int]:
        yield 0
        executor: Any = self.pool._executor  # the pool's only sign of a dead helper
        for _ in range(3000):
            if executor._broken:
                break
            time.sleep(0.01)
        assert executor._broken, "the helper was not seen to die within 30 s"
        yield from range(1, self.size)


def test_a_helper_killed_while_work_is_handed_over_fails_the_build_with_its_signal() -> None:
    with parallel.Pool(2) as pool, pytest.raises(OutputError) as raised:
        pool.start(die, Handed(pool, 100), fewest=1, task="doing the test").results()
    assert str(raised.value) == (
        "a helper process doing the test was stopped by signal 9 (SIGKILL); nothing was published"
    )


@pytest.fixture
def read_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], dict[str, int]]:
    """Which process read each meeting's file (logged to a file, as a helper's memory is
    its own); each call gives those read since the last."""
    from castcal.content import meetings

    log, original = tmp_path / "read.log", meetings.read

    def logged(path: Path, *args: Any) -> Any:
        with log.open("a") as out:
            out.write(f"{os.getpid()} {path.name}\n")
        return original(path, *args)

    monkeypatch.setattr(meetings, "read", logged)

    def read() -> dict[str, int]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return {name: int(pid) for pid, name in (line.split(" ", 1) for line in lines)}

    return read


def many_meetings(project: Path) -> list[Path]:
    """More meetings than the build hands to its helpers: a copy of the first one each
    week of 2030 and 2031."""
    source = sorted((project / "events").iterdir())[0]
    text, day = source.read_text("utf-8"), source.name[:10]
    made = []
    for week in range(gather.FEWEST_READS + 16):
        date = (datetime.date(2030, 1, 7) + datetime.timedelta(weeks=week)).isoformat()
        path = project / "events" / f"{date}-kopi.toml"
        path.write_text(text.replace(day, date), "utf-8")
        made.append(path)
    return made


def test_helpers_read_many_meetings_as_one_process_does(
    project: Path,
    tmp_path: Path,
    castcal: Callable[..., Run],
    read_by: Callable[[], dict[str, int]],
) -> None:
    copies = many_meetings(project)
    assert build(project, castcal, "--jobs", "1", "--out", tmp_path / "one").exit_code == 0
    alone = read_by()
    assert len(alone) == len(copies) + 4 and set(alone.values()) == {os.getpid()}
    shutil.rmtree(project / ".castcal-cache")

    assert build(project, castcal, "--jobs", "2", "--out", tmp_path / "two").exit_code == 0
    together = read_by()
    assert together.keys() == alone.keys()
    assert os.getpid() not in together.values() and len(set(together.values())) == 2
    assert hashes(tmp_path / "one") == hashes(tmp_path / "two")


def test_a_meeting_a_helper_finds_wrong_is_reported_as_by_one_process(
    project: Path, castcal: Callable[..., Run], read_by: Callable[[], dict[str, int]]
) -> None:
    copies = many_meetings(project)
    for path, wrong in [(copies[5], 'status = "kanskje"'), (copies[40], "end = 2030-99-01")]:
        text = path.read_text("utf-8")
        key = wrong.split(" ", 1)[0]
        path.write_text(re.sub(rf"(?m)^{key} = .*$", wrong, text, count=1), "utf-8")
    alone = build(project, castcal, "--jobs", "1")
    assert alone.exit_code == 1
    assert f"events/{copies[5].name}: status:" in alone.stderr
    assert f"events/{copies[40].name}:" in alone.stderr
    read_by()
    together = build(project, castcal, "--jobs", "2")
    assert (together.exit_code, together.stderr) == (1, alone.stderr)
    assert os.getpid() not in read_by().values()
    assert not (project / "feeds").exists() or snapshot(project / "feeds") == {}
