"""The caches behind fast rebuilds only ever save work: any change of an input reaches
every output made from it, and without the caches the output is the same."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from castcal.build import cache
from tests.conftest import Run, snapshot


def build(project: Path, castcal: Callable[..., Run]) -> Run:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return result


def contents(feeds: Path) -> dict[str, str]:
    return {name: digest for name, (digest, _) in snapshot(feeds).items()}


def test_a_config_change_reaches_feeds_and_tags(project: Path, castcal: Callable[..., Run]) -> None:
    build(project, castcal)
    config = project / "config.toml"
    config.write_text(
        config.read_text().replace('title = "Difis endringspodd"', 'title = "Endringspodden"')
    )
    build(project, castcal)
    feeds = project / "feeds"
    assert "<title>Endringspodden</title>" in (feeds / "podcast.xml").read_text()
    tags = ID3(feeds / "audio/hva-er-endringsledelse.mp3")  # type: ignore[no-untyped-call]
    assert str(tags["TALB"]) == "Endringspodden"
    assert "Endringspodden: Endringsnemda" in (feeds / "endringsnemda.xml").read_text()


def test_replacing_audio_with_the_same_size_is_seen(
    project: Path, castcal: Callable[..., Run]
) -> None:
    build(project, castcal)
    first = project / "episodes/hva-er-endringsledelse/audio.mp3"
    second = project / "episodes/digital-transformasjon/audio.mp3"
    data = bytearray(first.read_bytes())
    data[-200] ^= 0xFF  # same size; a new mtime
    first.write_bytes(bytes(data))
    before = contents(project / "feeds")
    build(project, castcal)
    after = contents(project / "feeds")
    assert after["audio/hva-er-endringsledelse.mp3"] != before["audio/hva-er-endringsledelse.mp3"]
    assert after["audio/digital-transformasjon.mp3"] == before["audio/digital-transformasjon.mp3"]
    assert second.exists()


def assert_same_without_caches(project: Path, castcal: Callable[..., Run]) -> None:
    """A build with no caches and no output records writes nothing new: the warm build
    before it made the same bytes."""
    warm = contents(project / "feeds")
    shutil.rmtree(project / ".castcal-cache")
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == warm


def test_without_caches_the_output_is_the_same(
    project: Path, castcal: Callable[..., Run], tmp_path: Path
) -> None:
    build(project, castcal)
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace('start = "0:11"', 'start = "0:12"'))
    build(project, castcal)
    assert_same_without_caches(project, castcal)


def test_meetings_changed_and_added_match_a_build_without_caches(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """The series, Atom feed, page and manifest reuse the pieces of unchanged meetings."""
    build(project, castcal)
    events = project / "events"
    first = events / "2017-03-03-endringsledelse-i-praksis.toml"
    first.write_text(first.read_text().replace("Hvordan leder vi", "Hvordan styrer vi"))
    later = (events / "2027-01-20-endring-og-medvirkning.toml").read_text()
    (events / "2031-02-05-endring-i-lengden.toml").write_text(
        later.replace("2027-01-20", "2031-02-05")
    )
    build(project, castcal)
    assert_same_without_caches(project, castcal)
    series = (project / "feeds/frokost.ics").read_text()
    assert "Hvordan styrer vi" in series
    assert "DTSTART;TZID=Europe/Oslo:20310205T080000" in series


def test_a_renamed_meeting_file_gets_its_new_uid_everywhere(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """A meeting without a uid takes it from its file name: renamed, its content is the
    same but no piece of the old name may be reused."""
    build(project, castcal)
    events = project / "events"
    old, new = "2017-05-24-ny-digital-hverdag", "2017-05-24-digital-hverdag"
    (events / f"{old}.toml").rename(events / f"{new}.toml")
    result = castcal("build", "--config", project / "config.toml", "--allow-removal")
    assert result.exit_code == 0, result.stderr
    for name in ("frokost.ics", f"events/{new}.ics", "manifest.json", "index.html"):
        text = (project / "feeds" / name).read_text()
        assert f"{new}@" in text or f"#{new}" in text or f'"{new}' in text, name
        assert f"{old}@" not in text and f"{old}.ics" not in text, name
    assert_same_without_caches(project, castcal)


@pytest.mark.parametrize("damage", ["garbage", "cut short"])
def test_a_damaged_cache_is_started_afresh(
    project: Path, castcal: Callable[..., Run], damage: str
) -> None:
    build(project, castcal)
    before = contents(project / "feeds")
    database = project / cache.PATH
    data = database.read_bytes()
    database.write_bytes(
        b"\x80\x04 not what it was" if damage == "garbage" else data[: len(data) // 2]
    )
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before
    again = build(project, castcal)  # the cache made afresh serves the next build
    assert "0 files written, 32 unchanged" in again.stdout


def test_the_cache_holds_nothing_loading_could_run(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Every value castcal remembers is JSON or text it rendered: reading the cache runs
    no code, whoever wrote the file."""
    build(project, castcal)
    with sqlite3.connect(project / cache.PATH) as db:
        for table, column in [("facts", "value"), ("content", "value"), ("content", "stamps")]:
            for (value,) in db.execute(f"SELECT {column} FROM {table}"):
                assert isinstance(json.loads(value), dict | list | str)
        for (value,) in db.execute("SELECT value FROM pieces"):
            value.decode("utf-8")  # XML, HTML, iCalendar text
            assert not value.startswith((b"\x80", b"(dp", b"cos\n"))  # no pickle


KILL_IN_CACHE = """
import os, signal, sys
from castcal.build import cache
original = cache.Store.__init__
def start(self, root):
    original(self, root)
    connection = self.connection
    class Dying:
        calls = 0
        def __getattr__(self, name):
            return getattr(connection, name)
        def execute(self, sql, *args):
            if sql == "COMMIT" and sys.argv[1] == "commit":
                os.kill(os.getpid(), signal.SIGKILL)
            return connection.execute(sql, *args)
        def executemany(self, *args):
            Dying.calls += 1
            if str(Dying.calls) == sys.argv[1]:
                os.kill(os.getpid(), signal.SIGKILL)
            return connection.executemany(*args)
    self.connection = Dying()
cache.Store.__init__ = start
from castcal.cli import cli
cli(sys.argv[2:])
"""


@pytest.mark.parametrize("when", ["1", "4", "commit"])
def test_a_build_killed_while_it_writes_the_cache_leaves_it_whole(
    project: Path, castcal: Callable[..., Run], when: str
) -> None:
    """A build writes the cache in one transaction: killed at its n-th write or as it
    commits, the next build finds the cache as it was before, and publishes what an
    unbroken build would."""
    build(project, castcal)
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    config = str(project / "config.toml")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_IN_CACHE, when, "build", "--config", config],
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    with sqlite3.connect(project / cache.PATH) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    build(project, castcal)
    assert "Hva er ledelse?" in (project / "feeds/podcast.xml").read_text()
    assert "0 files written" in build(project, castcal).stdout
    assert_same_without_caches(project, castcal)


def test_a_moved_project_does_not_reuse_old_paths(
    project: Path, castcal: Callable[..., Run], tmp_path: Path
) -> None:
    build(project, castcal)
    moved = tmp_path / "moved"
    shutil.copytree(project, moved, copy_function=shutil.copy2)  # sizes and mtimes kept
    shutil.rmtree(project)
    (moved / "feeds/audio/digital-transformasjon.mp3").unlink()  # to be made again
    build(moved, castcal)
    assert (moved / "feeds/audio/digital-transformasjon.mp3").is_file()


def test_a_relative_and_an_absolute_config_path_do_not_share_paths(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The loaded models hold paths as the config path gave them: a build started inside
    the project must not hand its relative paths to one started elsewhere."""
    monkeypatch.chdir(project)
    result = castcal("build", "--config", "config.toml")
    assert result.exit_code == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    (project / "feeds/audio/digital-transformasjon.mp3").unlink()  # to be made again
    build(project, castcal)
    assert (project / "feeds/audio/digital-transformasjon.mp3").is_file()


def rebuilt_as_before(project: Path, castcal: Callable[..., Run], before: dict[str, str]) -> None:
    """Built with config.toml touched (a build with nothing to do would load nothing): no
    file written, every output as ``before``."""
    config = project / "config.toml"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before


def test_cached_models_of_another_shape_are_loaded_afresh(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """An episode or meeting kept by a castcal whose models differed (an editable install,
    a development build) no longer validates: it is read again from its files."""
    build(project, castcal)
    before = contents(project / "feeds")
    with sqlite3.connect(project / cache.PATH) as db:
        rows = db.execute("SELECT key, value FROM content").fetchall()
        assert len(rows) == 6  # two episodes, four meetings
        for key, value in rows:
            changed = json.loads(value) | {"added": 1}
            db.execute("UPDATE content SET value = ? WHERE key = ?", (json.dumps(changed), key))
    rebuilt_as_before(project, castcal, before)
    with sqlite3.connect(project / cache.PATH) as db:
        assert all('"added"' not in v for (v,) in db.execute("SELECT value FROM content"))


def test_a_cache_made_by_another_castcal_is_emptied(
    project: Path, castcal: Callable[..., Run]
) -> None:
    build(project, castcal)
    before = contents(project / "feeds")
    with sqlite3.connect(project / cache.PATH) as db:
        db.execute("UPDATE meta SET value = '0.0.1' WHERE key = 'castcal'")
        db.execute("UPDATE outputs SET print = 'x', size = 1")
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before
    with sqlite3.connect(project / cache.PATH) as db:
        assert db.execute("SELECT count(*) FROM outputs WHERE print = 'x'").fetchone() == (0,)


def test_what_castcal_made_before_its_code_changed_is_made_again_and_its_facts_kept(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """An upgrade or an edited checkout of the same version may render the same sources
    otherwise: the rendered pieces, the content as loaded and the outputs' records of
    another code go; the facts about the audio (probed, measured) stay."""
    build(project, castcal)
    before = contents(project / "feeds")
    with sqlite3.connect(project / cache.PATH) as db:
        facts = db.execute("SELECT * FROM facts WHERE kind = 'audio' ORDER BY key").fetchall()
        assert len(facts) == 2
        assert db.execute("SELECT count(*) FROM pieces").fetchone()[0] > 10
        db.execute("UPDATE meta SET value = 'another' WHERE key = 'code'")
        db.execute("UPDATE pieces SET value = ?", (b"<made-by-another-castcal/>",))
        db.execute("UPDATE outputs SET print = 'x'")
    rebuilt_as_before(project, castcal, before)
    with sqlite3.connect(project / cache.PATH) as db:
        kept = db.execute("SELECT * FROM facts WHERE kind = 'audio' ORDER BY key").fetchall()
        assert kept == facts
        assert db.execute("SELECT value FROM meta WHERE key = 'code'").fetchone() == (cache.code(),)


def test_after_a_build_of_other_code_every_output_is_checked_again(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """A castcal of other code (an upgrade, another checkout) opened the cache, which let
    go of what this code had recorded, and was killed: the next build takes no output for
    done, not even with nothing changed."""
    build(project, castcal)
    before = contents(project / "feeds")
    with sqlite3.connect(project / cache.PATH) as db:
        db.execute("UPDATE meta SET value = 'another' WHERE key = 'code'")
    (project / "feeds/podcast.xml").write_text("left by the other castcal\n")
    result = build(project, castcal)
    assert "1 file written" in result.stdout
    assert contents(project / "feeds") == before


def test_the_output_folder_holds_only_what_is_published(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """No state, cache or lock of castcal's in the folder that is published as it is."""
    for _ in range(2):
        build(project, castcal)
        names = sorted(
            p.relative_to(project / "feeds").as_posix() for p in (project / "feeds").rglob("*")
        )
        assert not [n for n in names if any(part.startswith(".") for part in n.split("/"))]
        manifest = json.loads((project / "feeds/manifest.json").read_text())
        published = {f for f in names if (project / "feeds" / f).is_file()}
        assert {"podcast.xml", "frokost.ics", "index.html", "manifest.json"} <= published
        assert len(published) == 32 and len(manifest["episodes"]) == 2


def test_a_renamed_episode_folder_built_with_allow_removal_is_published_anew(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """The old episode leaves the feeds and its files go; the new one is published."""
    build(project, castcal)
    episodes = project / "episodes"
    (episodes / "hva-er-endringsledelse").rename(episodes / "hva-er-ledelse")
    result = castcal("build", "--config", project / "config.toml", "--allow-removal")
    assert result.exit_code == 0, result.stderr
    feeds = project / "feeds"
    for name in ("podcast.xml", "endringspraten.xml", "index.html", "manifest.json"):
        text = (feeds / name).read_text()
        assert "hva-er-ledelse" in text and "hva-er-endringsledelse" not in text, name
    assert (feeds / "audio/hva-er-ledelse.mp3").is_file()
    assert not list(feeds.rglob("hva-er-endringsledelse*"))
    assert_same_without_caches(project, castcal)


def test_audio_probed_by_a_build_that_fails_is_not_probed_again(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor's mistake elsewhere fails the build; the audio it probed is remembered all
    the same (an MP3 without a Xing header is read whole to be timed)."""
    from castcal.media import probe as audio

    probed: list[str] = []
    original = audio.probe

    def counting(path: Path) -> object:
        probed.append(path.parent.name)
        return original(path)

    monkeypatch.setattr(audio, "probe", counting)
    meeting = project / "events" / "2017-05-24-ny-digital-hverdag.toml"
    good = meeting.read_text("utf-8")
    meeting.write_text(good.replace("start = 2017-05-24", "start = 2017-13-24"), "utf-8")
    failed = castcal("build", "--config", project / "config.toml")
    assert failed.exit_code == 1 and "2017-05-24-ny-digital-hverdag.toml" in failed.stderr
    assert sorted(probed) == ["digital-transformasjon", "hva-er-endringsledelse"]
    meeting.write_text(good, "utf-8")
    probed.clear()
    assert build(project, castcal).exit_code == 0
    assert probed == []


def _imports_pydantic(project: Path) -> tuple[bool, str]:
    """Whether a build of ``project`` loaded the content models, and what it printed."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "castcal", "build"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return " pydantic\n" in run.stderr, run.stdout


@pytest.mark.parametrize("meetings", [True, False], ids=["with-events", "no-events-folder"])
def test_a_build_with_nothing_to_do_loads_no_content(project: Path, meetings: bool) -> None:
    """Nothing changed: the build finds so from the files' sizes and times alone, and says
    what a full build says. Anything changed (a file touched, the same bytes): it loads."""
    if not meetings:
        shutil.rmtree(project / "events")  # a podcast without meetings has no events/
    loaded, said = _imports_pydantic(project)
    assert loaded and "0 unchanged" in said
    loaded, shortcut = _imports_pydantic(project)
    assert not loaded
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    os.utime(toml, ns=(toml.stat().st_atime_ns, toml.stat().st_mtime_ns + 10**9))
    loaded, full = _imports_pydantic(project)
    assert loaded and " 0 files written" in full
    assert shortcut == full
    assert _imports_pydantic(project) == (False, full)
