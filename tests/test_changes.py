"""Every kind of change an editor makes, built on the output and cache of the build
before it, gives what a build from nothing gives: the shortcuts of a warm build never skip
work whose inputs changed, the clock passing a meeting's end or an episode's publication
time included."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.test_incremental import build, contents

LATER_EPOCH = 1_796_900_000  # 2026-12-10: the meeting of 2026-12-09 has ended


def add_episode(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    episodes = project / "episodes"
    shutil.copytree(episodes / "digital-transformasjon", episodes / "tredje-episode")
    toml = episodes / "tredje-episode/episode.toml"
    text = toml.read_text().replace("number = 2", "number = 3")
    toml.write_text(text.replace("2017-04-20", "2017-06-01"))


def delete_episode(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(project / "episodes/hva-er-endringsledelse")


def rename_episode(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    episodes = project / "episodes"
    (episodes / "hva-er-endringsledelse").rename(episodes / "hva-er-ledelse")


def edit_episode(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = project / "episodes/digital-transformasjon/episode.toml"
    toml.write_text(toml.read_text().replace("Digitaliseringsrådet", "Digitaliseringsrådet, ja"))


def add_meeting(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = project / "events"
    text = (events / "2027-01-20-endring-og-medvirkning.toml").read_text()
    (events / "2027-03-03-nytt-mote.toml").write_text(text.replace("2027-01-20", "2027-03-03"))


def delete_meeting(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "events/2017-05-24-ny-digital-hverdag.toml").unlink()


def rename_meeting(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = project / "events"
    (events / "2017-05-24-ny-digital-hverdag.toml").rename(events / "2017-05-24-ny-hverdag.toml")


def edit_meeting(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "events/2027-01-20-endring-og-medvirkning.toml"
    path.write_text(path.read_text().replace("T08:00:00", "T08:15:00"))


def touch_everything(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in project.rglob("*"):
        if path.is_file() and "feeds" not in path.parts and ".castcal-cache" not in path.parts:
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def edit_config(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project / "config.toml"
    text = config.read_text().replace('name = "Endring til frokost"', 'name = "Frokost"')
    config.write_text(text.replace('title = "Endringsnemda"', 'title = "Nemda"'))


def replace_cover(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image, ImageDraw

    with Image.open(project / "cover.jpg") as image:
        changed = image.convert("RGB")
    ImageDraw.Draw(changed).rectangle((0, 0, 400, 400), fill=(200, 30, 30))
    changed.save(project / "cover.jpg", "JPEG", quality=90)


def replace_audio(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    episodes = project / "episodes"
    shutil.copy(
        episodes / "digital-transformasjon/audio.mp3", episodes / "hva-er-endringsledelse/audio.mp3"
    )


def pass_a_meeting_end(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(LATER_EPOCH))


CHANGES = [
    add_episode,
    delete_episode,
    rename_episode,
    edit_episode,
    add_meeting,
    delete_meeting,
    rename_meeting,
    edit_meeting,
    touch_everything,
    edit_config,
    replace_cover,
    replace_audio,
    pass_a_meeting_end,
]


def cold_build(project: Path, folder: Path, published: bytes, castcal: Callable[..., Run]) -> None:
    """The project built in a fresh folder with no cache and no output of its own, given
    only what was published (the manifest, as --guard-url would give a fresh checkout):
    the revisions of meetings it records are the one input a cold build cannot know."""
    (folder / "feeds").mkdir(parents=True)
    for name in ("config.toml", "cover.jpg", "episodes", "events"):
        source = project / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, folder / name)
    (folder / "feeds/manifest.json").write_bytes(published)
    result = castcal("build", "--config", folder / "config.toml", "--allow-removal")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_warm_build_after_a_change_is_a_cold_build(
    project: Path,
    castcal: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Path, pytest.MonkeyPatch], None],
) -> None:
    """Each kind of change, built on the output and cache of the build before it, gives
    the very bytes a build from nothing gives: the no-change shortcut skips nothing
    whose inputs changed. Then a build with nothing changed writes nothing."""
    build(project, castcal)
    published = (project / "feeds/manifest.json").read_bytes()
    before = contents(project / "feeds")
    change(project, monkeypatch)
    warm = castcal("build", "--config", project / "config.toml", "--allow-removal")
    assert warm.exit_code == 0, warm.stderr
    cold = tmp_path / "cold"
    cold_build(project, cold, published, castcal)
    after = contents(project / "feeds")
    assert after == contents(cold / "feeds")
    if change is not touch_everything:
        assert after != before
    assert "0 files written" in build(project, castcal).stdout


def test_the_clock_passing_an_episodes_time_is_a_cold_build(
    project: Path, castcal: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An episode scheduled between two builds is published by the second as a build
    from nothing publishes it; the build after writes nothing."""
    add_episode(project, monkeypatch)
    toml = project / "episodes/tredje-episode/episode.toml"
    toml.write_text(toml.read_text().replace("2017-06-01T07:00", "2026-10-01T07:00"))
    build(project, castcal)
    published = (project / "feeds/manifest.json").read_bytes()
    assert b"tredje-episode" not in published
    before = contents(project / "feeds")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(LATER_EPOCH))
    build(project, castcal)
    cold = tmp_path / "cold"
    cold_build(project, cold, published, castcal)
    after = contents(project / "feeds")
    assert after == contents(cold / "feeds")
    assert "audio/tredje-episode.mp3" in set(after) - set(before)
    assert "0 files written" in build(project, castcal).stdout
