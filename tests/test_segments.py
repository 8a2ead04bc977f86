"""Segment feeds: endringspraten and endringsnemda each as a podcast of their own, with
audio cut losslessly from the episode's MP3."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.id3 import ID3

from castcal.build.pipeline import Request
from castcal.build.pipeline import build as castcal_build
from castcal.media import cuts as mp3cut
from castcal.media import mpeg
from castcal.media import probe as audio
from tests.audio_factory import VARIANTS, decode, variant
from tests.conftest import DATA, Run, need_program, snapshot

KINDS = ("endringspraten", "endringsnemda")
EPISODES = ("digital-transformasjon", "hva-er-endringsledelse")  # newest first
FRAME = 576 / 22050  # one MPEG-2 Layer III frame at 22.05 kHz, about 26 ms


def build(project: Path, castcal: Callable[..., Run], *args: str) -> Run:
    result = castcal("build", "--config", project / "config.toml", *args)
    return result


def starts(project: Path, episode: str) -> list[float]:
    data = tomllib.loads((project / "episodes" / episode / "episode.toml").read_text())
    result = []
    for segment in data["segments"]:
        minutes, seconds = segment["start"].split(":")
        result.append(int(minutes) * 60 + float(seconds))
    return result


def audio_frames(data: bytes) -> list[bytes]:
    """The bytes of each audio frame, without ID3 tags or a Xing/Info/VBRI frame."""
    return [data[f.offset : f.offset + f.size] for f in mpeg.scan(data).frames if not f.vbr_header]


@pytest.fixture
def feeds(project: Path, castcal: Callable[..., Run]) -> Path:
    assert build(project, castcal).exit_code == 0
    return project / "feeds"


def test_each_segment_feed_lists_one_item_per_episode(feeds: Path, project: Path) -> None:
    manifest_guids = {}
    manifest = json.loads((feeds / "manifest.json").read_text())
    for kind in KINDS:
        path = feeds / f"{kind}.xml"
        parsed = feedparser.parse(path)
        assert not parsed.bozo
        with path.open("rb") as f:
            gpodder = podcastparser.parse(f"https://www.example.org/endringspodden/{kind}.xml", f)
        assert gpodder["title"].endswith(kind.capitalize())
        assert len(parsed.entries) == len(gpodder["episodes"]) == len(EPISODES)
        for entry, episode in zip(gpodder["episodes"], EPISODES, strict=True):
            main_title = feedparser.parse(feeds / "podcast.xml")
            whole = next(
                e for e in main_title.entries if f"/audio/{episode}." in e.enclosures[0].href
            )
            segment = tomllib.loads((project / "episodes" / episode / "episode.toml").read_text())
            assert entry["title"] == segment["segments"][KINDS.index(kind)]["title"]
            assert entry["guid"] == manifest["segments"][kind]["items"][episode]["guid"]
            assert entry["guid"] != whole.id
            (enclosure,) = entry["enclosures"]
            published = feeds / "audio" / f"{episode}-{kind}.mp3"
            assert enclosure["url"].endswith(f"/audio/{episode}-{kind}.mp3")
            assert enclosure["file_size"] == published.stat().st_size
            assert entry["total_time"] == audio.probe(published).seconds
            manifest_guids[(kind, episode)] = entry["guid"]
    assert len(set(manifest_guids.values())) == 4  # every item its own GUID


def test_cuts_are_frame_exact_and_lose_nothing(feeds: Path, project: Path) -> None:
    checked = 0
    for episode in EPISODES:
        source = (project / "episodes" / episode / "audio.mp3").read_bytes()
        timing = mp3cut.read(source)
        times = [*starts(project, episode), timing.duration]
        joined: list[bytes] = []
        for kind, begin, end in zip(KINDS, times, times[1:], strict=False):
            cut = (feeds / "audio" / f"{episode}-{kind}.mp3").read_bytes()
            scan = mpeg.scan(cut)
            assert not scan.truncated and scan.has_vbr_header
            frames = audio_frames(cut)
            assert all(mpeg.parse_header(f, 0) is not None for f in frames)
            duration = audio.probe(feeds / "audio" / f"{episode}-{kind}.mp3").duration
            assert abs(duration - (end - begin)) <= FRAME, (episode, kind, duration, begin, end)
            joined += frames
            checked += len(frames)
        assert joined == audio_frames(source)  # no frame lost or duplicated
    assert checked > 1000


def test_cut_files_carry_segment_tags(feeds: Path) -> None:
    tags = ID3(feeds / "audio" / "digital-transformasjon-endringsnemda.mp3")
    assert str(tags["TIT2"]) == "Ny digital tjeneste, hele avdelingen med"
    assert str(tags["TALB"]) == "Difis endringspodd: Endringsnemda"
    assert tags.version[:2] == (2, 3)


def test_ffmpeg_decodes_every_cut_without_errors(feeds: Path) -> None:
    ffmpeg = need_program("ffmpeg")
    for path in sorted((feeds / "audio").glob("*-*.mp3")):
        result = subprocess.run(
            [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and result.stderr == "", (path.name, result.stderr)


@pytest.mark.parametrize("name", ["vbr_xing.mp3", "vbr_noheader.mp3", "cbr_info.mp3"])
def test_vbr_and_cbr_sources_cut_correctly(name: str, tmp_path: Path) -> None:
    source = (DATA / "audio" / name).read_bytes()
    timing = mp3cut.read(source)
    cuts = mp3cut.cut(timing, [0.0, 1.2])
    assert sum(c.frames for c in cuts) == timing.count
    assert [f for c in cuts for f in audio_frames(c.data)] == audio_frames(source)
    spans = [1.2, timing.duration - 1.2]
    for cut, span in zip(cuts, spans, strict=True):
        path = tmp_path / "cut.mp3"
        path.write_bytes(cut.data)
        assert abs(audio.probe(path).duration - span) <= FRAME
        assert abs(cut.duration - span) <= FRAME


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC bit by bit, as the LAME tag specification gives it (slow: small data)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("name", ["vbr_xing.mp3", "cbr_info.mp3"])
def test_cuts_of_lame_files_carry_both_lame_checksums(name: str) -> None:
    """The LAME extension of each cut holds the CRC of its music and of the tag itself."""
    source = mp3cut.read((DATA / "audio" / name).read_bytes())
    assert source.lame_version is not None
    for cut in mp3cut.cut(source, [0.0, 1.2]):
        first = mpeg.scan(cut.data).frames[0]
        assert first.vbr_header
        lame = cut.data.index(b"LAME", first.offset)
        music = b"".join(audio_frames(cut.data))
        assert int.from_bytes(cut.data[lame + 32 : lame + 34], "big") == crc16_arc(music)
        tag = cut.data[first.offset : lame + 34]  # the frame up to the tag's own CRC
        assert int.from_bytes(cut.data[lame + 34 : lame + 36], "big") == crc16_arc(tag)


def test_changing_one_start_recuts_only_that_episode(
    project: Path, castcal: Callable[..., Run]
) -> None:
    assert build(project, castcal).exit_code == 0
    before = snapshot(project / "feeds")
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace('start = "0:11"', 'start = "0:12"'))
    assert build(project, castcal).exit_code == 0
    after = snapshot(project / "feeds")
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        "audio/hva-er-endringsledelse.mp3",  # its chapter frames
        "audio/hva-er-endringsledelse-endringspraten.mp3",
        "audio/hva-er-endringsledelse-endringsnemda.mp3",
        "chapters/hva-er-endringsledelse.json",
        "podcast.xml",
        "endringspraten.xml",
        "endringsnemda.xml",
        "index.html",
        "episoder/hva-er-endringsledelse.html",  # its segments' jump links
        "transcripts/hva-er-endringsledelse-endringspraten.vtt",  # the cuts of its transcript
        "transcripts/hva-er-endringsledelse-endringsnemda.vtt",
        "manifest.json",
    }


def test_an_episodes_cuts_are_made_right_after_its_tagged_copy(project: Path) -> None:
    """Episode by episode: the MP3 its segments are cut from was just read for the tagged
    copy (an archive's worth of hours would not stay cached for a second pass)."""
    result = castcal_build(Request(project / "config.toml"))
    made = [name for name in result.written if name.startswith("audio/")]
    expected = [
        f"audio/{episode}{suffix}.mp3"
        for episode in reversed(EPISODES)  # oldest first, as the project lists them
        for suffix in ("", *(f"-{kind}" for kind in KINDS))
    ]
    assert made == expected


def use_m4a(project: Path) -> None:
    folder = project / "episodes/hva-er-endringsledelse"
    shutil.copy(DATA / "audio" / "speech.m4a", folder / "lyd.m4a")
    toml = folder / "episode.toml"
    text = toml.read_text().replace('audio = "audio.mp3"', 'audio = "lyd.m4a"')
    toml.write_text(text.replace('start = "0:11"', 'start = "0:01.5"'))


def test_m4a_episode_is_left_out_with_a_warning(project: Path, castcal: Callable[..., Run]) -> None:
    use_m4a(project)
    checked = castcal("check", "--config", project / "config.toml")
    assert checked.exit_code == 0
    warning = (
        "warning: episodes/hva-er-endringsledelse/episode.toml: segments: endringspraten, "
        "endringsnemda left out of the segment feeds"
    )
    assert warning in checked.stderr
    strict = build(project, castcal, "--strict")
    assert strict.exit_code == 1 and "left out of the segment feeds" in strict.stderr
    assert build(project, castcal).exit_code == 0
    parsed = feedparser.parse(project / "feeds/endringsnemda.xml")
    assert len(parsed.entries) == 1  # only the MP3 episode
    assert len(feedparser.parse(project / "feeds/podcast.xml").entries) == 2


def test_segments_with_their_own_files(project: Path, castcal: Callable[..., Run]) -> None:
    use_m4a(project)
    folder = project / "episodes/hva-er-endringsledelse"
    shutil.copy(DATA / "audio" / "cbr_info.mp3", folder / "praten.mp3")
    shutil.copy(DATA / "audio" / "speech.m4a", folder / "nemda.m4a")
    toml = folder / "episode.toml"
    text = (
        toml.read_text()
        .replace('start = "0:00"', 'start = "0:00"\naudio = "praten.mp3"')
        .replace('start = "0:01.5"', 'start = "0:01.5"\naudio = "nemda.m4a"')
    )
    toml.write_text(text)
    result = build(project, castcal)
    assert result.exit_code == 0, result.stderr
    # The test audio is quieter than the show's loudness: that is the only warning.
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("warning: episodes/hva-er-endringsledelse/lyd.m4a: audio: ")
    assert "LU quieter than the show's -16 LUFS" in warnings[0]
    feeds = project / "feeds"
    for kind, extension, mime in (
        ("endringspraten", "mp3", "audio/mpeg"),
        ("endringsnemda", "m4a", "audio/x-m4a"),
    ):
        entries = feedparser.parse(feeds / f"{kind}.xml").entries
        assert len(entries) == 2
        own = next(e for e in entries if "hva-er-endringsledelse" in e.enclosures[0].href)
        published = feeds / "audio" / f"hva-er-endringsledelse-{kind}.{extension}"
        assert own.enclosures[0].type == mime
        assert int(own.enclosures[0].length) == published.stat().st_size


def test_dropping_a_published_segment_item_is_refused(
    project: Path, castcal: Callable[..., Run]
) -> None:
    assert build(project, castcal).exit_code == 0
    use_m4a(project)
    refused = build(project, castcal)
    assert refused.exit_code == 1
    assert "its endringsnemda segment (GUID " in refused.stderr
    assert build(project, castcal, "--allow-removal").exit_code == 0


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_mp3_variants_are_cut_losslessly_and_play(
    name: str, project: Path, castcal: Callable[..., Run]
) -> None:
    """MPEG-2.5 episodes and episodes with junk before the first frame are cut like any
    other MP3: every frame of the stream in exactly one cut, each cut as long as its
    segment (within a frame) in the feed, in mutagen and decoded by ffmpeg."""
    ffmpeg = need_program("ffmpeg")
    rate, data, stream = variant(name, 4.0)
    folder = project / "episodes/hva-er-endringsledelse"
    (folder / "audio.mp3").write_bytes(data)
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text().replace('start = "0:11"', 'start = "0:02"'))
    assert build(project, castcal).exit_code == 0
    frame, total = 576 / rate, len(mpeg.scan(stream)) * 576 / rate
    joined: list[bytes] = []
    for kind, span in zip(KINDS, (2.0, total - 2.0), strict=True):
        path = project / "feeds/audio" / f"hva-er-endringsledelse-{kind}.mp3"
        entries = feedparser.parse(project / f"feeds/{kind}.xml").entries
        entry = next(e for e in entries if e.enclosures[0].href.endswith(path.name))
        assert int(entry.enclosures[0].length) == path.stat().st_size
        assert entry.itunes_duration == str(audio.probe(path).seconds)
        assert abs(audio.probe(path).duration - span) <= frame
        tagged = ID3(path)
        assert str(tagged["TALB"]) == f"Difis endringspodd: {kind.capitalize()}"
        samples, errors = decode(ffmpeg, path)
        assert errors == "", (kind, errors)
        assert abs(samples / rate - span) <= frame, (kind, samples / rate, span)
        joined += audio_frames(path.read_bytes())
    assert joined == audio_frames(stream)  # no frame lost or duplicated, no junk
