"""The caches behind fast rebuilds only ever save work: any change of an input reaches
every output made from it, and without the caches the output is the same."""

from __future__ import annotations

import functools
import io
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from castcal import state
from castcal.models import Strict
from tests.conftest import Run, snapshot


def sealed_pickle(content: object) -> bytes:
    """``content`` as castcal writes a cache: pickled, then sealed."""
    buffer = io.BytesIO()
    state.sealed(functools.partial(pickle.dump, content))(buffer)
    return buffer.getvalue()


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
    (project / "feeds/.castcal-state.pickle").unlink()
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
def test_damaged_caches_are_ignored(
    project: Path, castcal: Callable[..., Run], damage: str
) -> None:
    build(project, castcal)
    before = contents(project / "feeds")
    caches = [p for p in (project / ".castcal-cache").rglob("*") if p.is_file()]
    # probes, loaded models, the pieces of feeds, calendar and page, compiled templates
    assert len(caches) >= 6
    for cache in caches:
        data = cache.read_bytes()
        cache.write_bytes(
            b"\x80\x04 not what it was" if damage == "garbage" else data[: len(data) // 2]
        )
    (project / "feeds/.castcal-state.pickle").write_bytes(b"\x80\x04 not a pickle")
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before


def test_a_cache_torn_while_rewritten_in_place_is_not_read(tmp_path: Path) -> None:
    """Caches are rewritten in place: one that a killed build left half new, half old, or
    with a byte changed, fails its seal and is not read."""
    (tmp_path / "events").mkdir()
    (tmp_path / "events/m.toml").write_text("title = 'Møte'\n")
    loaded = state.Loaded(tmp_path)
    loaded.put("event:m.toml", "config", ["events/m.toml"], "x" * 5000, [])
    loaded.save()
    path = loaded._path(loaded._shard("event:m.toml"))
    assert state.Loaded(tmp_path).get("event:m.toml", "config") == ("x" * 5000, [])
    whole = path.read_bytes()
    loaded.put("event:m.toml", "config", ["events/m.toml"], "y", [])
    loaded.save()
    shorter = path.read_bytes()
    assert len(shorter) < len(whole)  # the old, longer copy was cut to the new length
    assert state.Loaded(tmp_path).get("event:m.toml", "config") == ("y", [])
    torn = shorter[:-30] + whole[len(shorter) - 30 :]  # the end of the old copy remains
    changed = bytearray(whole)
    changed[len(whole) // 2] ^= 1
    for damaged in (torn, bytes(changed), whole[:-1]):
        path.write_bytes(damaged)
        assert state.Loaded(tmp_path).get("event:m.toml", "config") is None


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


def test_a_cache_made_for_other_models_is_ignored(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """The same castcal version with changed models (an editable install, a development
    build) must not unpickle objects of the old ones."""
    build(project, castcal)
    before = contents(project / "feeds")
    cache = min((project / ".castcal-cache").glob("loaded-episodes-*.pickle"))
    old_header = pickle.loads(cache.read_bytes())[0]

    class Added(Strict):  # a model the cache was not made with
        added: int = 0

    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before
    new_header = pickle.loads(cache.read_bytes())[0]
    assert new_header != old_header  # the cache was made afresh
    assert "Added(added)" in new_header[-1]


def test_a_loaded_entry_is_read_only_from_its_own_shard(tmp_path: Path) -> None:
    """A cache file of an older layout, in which every meeting was in one file, must not
    bring back stale copies of entries that now live in a shard of their own."""
    from castcal.state import Loaded

    (tmp_path / "events").mkdir()
    meeting = tmp_path / "events/m.toml"
    meeting.write_text("title = 'Før'\n")
    first = Loaded(tmp_path)
    first.put("event:m.toml", "config", ["events/m.toml"], "before", [])
    first.save()
    own = first._path(first._shard("event:m.toml"))
    other = first._path("other")
    header, _, entries = pickle.loads(own.read_bytes())
    other.write_bytes(sealed_pickle((header, entries)))  # as before shards were named
    meeting.write_text("title = 'Etter'\n")
    second = Loaded(tmp_path)
    assert second.get("event:m.toml", "config") is None  # changed since: not valid
    second.put("event:m.toml", "config", ["events/m.toml"], "after", [])
    second.save()
    assert Loaded(tmp_path).get("event:m.toml", "config") == ("after", [])


def test_output_records_of_another_layout_are_not_read(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Records written by a build of the same version but another layout (a development
    build) are ignored, not misread."""
    from castcal import __version__

    build(project, castcal)
    before = contents(project / "feeds")
    state = project / "feeds/.castcal-state.pickle"
    entries = {name: {"fingerprint": "x", "size": 1, "mtime": 1} for name in before}
    state.write_bytes(sealed_pickle({"castcal": __version__, "entries": entries, "whole": ""}))
    result = build(project, castcal)
    assert "0 files written" in result.stdout
    assert contents(project / "feeds") == before


def test_audio_probed_by_a_build_that_fails_is_not_probed_again(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor's mistake elsewhere fails the build; the audio it probed is remembered all
    the same (an MP3 without a Xing header is read whole to be timed)."""
    from castcal import audio

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
