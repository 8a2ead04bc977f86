"""Published audio: every accepted format, tagged copies with chapters, alternates."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import feedparser
import mutagen
import pytest
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from castcal.build.pipeline import Request, build
from castcal.content.chapters import Chapter
from castcal.media import id3, mpeg
from castcal.media import probe as audio
from tests.audio_factory import decode, junk, variant
from tests.conftest import DATA, Run, need_program, snapshot

AUDIO = DATA / "audio"
EP = "episodes/hva-er-endringsledelse"
PODCAST = "https://podcastindex.org/namespace/1.0"


@pytest.mark.parametrize(
    ("name", "mime", "extension"),
    [
        ("cbr_info.mp3", "audio/mpeg", "mp3"),
        ("cbr_noheader.mp3", "audio/mpeg", "mp3"),
        ("vbr_xing.mp3", "audio/mpeg", "mp3"),
        ("vbr_vbri.mp3", "audio/mpeg", "mp3"),
        ("vbr_noheader.mp3", "audio/mpeg", "mp3"),
        ("speech.m4a", "audio/x-m4a", "m4a"),
        ("speech.opus", "audio/opus", "opus"),
        ("speech.ogg", "audio/ogg", "ogg"),
    ],
)
def test_every_format_within_a_second_of_the_truth(name: str, mime: str, extension: str) -> None:
    """Every fixture holds 3.000 s of speech; encoders add at most a frame or two."""
    path = AUDIO / name
    facts = audio.probe(path)
    assert (facts.mime, facts.extension, facts.length) == (mime, extension, path.stat().st_size)
    assert 3.0 <= facts.duration < 3.1
    if name == "vbr_noheader.mp3":
        assert mutagen.File(path).info.length > 15  # what the correction corrects


def frame_order(path: Path) -> list[str]:
    """The IDs of the ID3v2.3 frames in the order they stand in the file."""
    data = path.read_bytes()
    assert data[:3] == b"ID3" and data[3] == 3
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | byte
    pos, end, order = 10, 10 + size, []
    while pos + 10 <= end and data[pos : pos + 4] != b"\0\0\0\0":
        frame_id = data[pos : pos + 4].decode("ascii")
        length = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if frame_id == "CHAP":
            element = data[pos + 10 : data.index(b"\0", pos + 10)].decode()
            frame_id += ":" + element.rstrip("_")
        order.append(frame_id)
        pos += 10 + length
    return order


def test_published_mp3_has_tags_and_chapters_in_time_order(
    project: Path, castcal: Callable[..., Run]
) -> None:
    source = project / EP / "audio.mp3"
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    published = project / "feeds/audio/hva-er-endringsledelse.mp3"
    tags = ID3(published)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == "Hva er endringsledelse?"
    assert str(tags["TALB"]) == "Difis endringspodd"
    assert str(tags["TPE1"]) == "Direktoratet for forvaltning og IKT (Difi)"
    assert str(tags["TDRC"]) == "2017"
    (cover,) = tags.getall("APIC")
    assert cover.data == (project / "cover.jpg").read_bytes() and cover.type == 3
    (toc,) = tags.getall("CTOC")
    assert toc.flags & 0b11 == 0b11  # top level and ordered
    assert str(toc.sub_frames["TIT2"]) == "Hva er endringsledelse?"
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [c.element_id for c in chapters] == list(toc.child_element_ids)
    assert [(c.start_time, str(c.sub_frames["TIT2"])) for c in chapters] == [
        (0, "Endringspraten: Hva er endringsledelse?"),
        (11000, "Endringsnemda: Omorganisering med bekymrede medarbeidere"),
    ]
    chap_frames = [f for f in frame_order(published) if f.startswith("CHAP")]
    assert chap_frames == ["CHAP:ch00", "CHAP:ch01"]  # in the file, in time order
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before
    parsed = feedparser.parse(project / "feeds/podcast.xml")
    enclosure = next(e for e in parsed.entries if e.title == "Hva er endringsledelse?").enclosures
    assert int(enclosure[0].length) == published.stat().st_size
    assert published.stat().st_size > before[0].__len__()  # the tags are in the published copy


def test_ffprobe_reads_the_chapters_in_order(project: Path, castcal: Callable[..., Run]) -> None:
    ffprobe = need_program("ffprobe")
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    published = project / "feeds/audio/digital-transformasjon.mp3"
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_chapters", "-of", "json", str(published)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [c["tags"]["title"] for c in json.loads(out)["chapters"]] == [
        "Endringspraten: Digital transformasjon med Svein Kristensen",
        "Endringsnemda: Ny digital tjeneste, hele avdelingen med",
    ]


def set_audio(project: Path, audio_line: str, start: str = "0:11") -> None:
    toml = project / EP / "episode.toml"
    text = toml.read_text().replace('audio = "audio.mp3"', audio_line)
    toml.write_text(text.replace('start = "0:11"', f'start = "{start}"'))


def test_m4a_episode(project: Path, castcal: Callable[..., Run]) -> None:
    shutil.copy(AUDIO / "speech.m4a", project / EP / "lyd.m4a")
    set_audio(project, 'audio = "lyd.m4a"', start="0:01.5")
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    published = project / "feeds/audio/hva-er-endringsledelse.m4a"
    tags = MP4(published).tags
    assert tags is not None and tags["\xa9nam"] == ["Hva er endringsledelse?"]
    assert len(tags["covr"]) == 1
    parsed = feedparser.parse(project / "feeds/podcast.xml")
    (enclosure,) = next(e for e in parsed.entries if e.title.startswith("Hva")).enclosures
    assert enclosure.type == "audio/x-m4a"
    assert int(enclosure.length) == published.stat().st_size


def test_opus_is_published_as_an_alternate_beside_the_mp3(
    project: Path, castcal: Callable[..., Run]
) -> None:
    shutil.copy(AUDIO / "speech.opus", project / EP / "lyd.opus")
    toml = project / EP / "episode.toml"
    toml.write_text(
        toml.read_text().replace(
            'audio = "audio.mp3"', 'audio = "audio.mp3"\nalternates = ["lyd.opus"]'
        )
    )
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    feeds = project / "feeds"
    root = etree.parse(str(feeds / "podcast.xml")).getroot()
    item = next(i for i in root.iter("item") if i.findtext("title") == "Hva er endringsledelse?")
    enclosure = item.find("enclosure")
    assert enclosure is not None and enclosure.get("type") == "audio/mpeg"
    alternates = item.findall(f"{{{PODCAST}}}alternateEnclosure")
    assert [(a.get("type"), a.get("default")) for a in alternates] == [
        ("audio/mpeg", "true"),
        ("audio/opus", None),
    ]
    opus = alternates[1]
    source = opus.find(f"{{{PODCAST}}}source")
    assert source is not None
    assert (
        source.get("uri")
        == "https://www.example.org/endringspodden/audio/hva-er-endringsledelse.opus"
    )
    published = feeds / "audio/hva-er-endringsledelse.opus"
    assert int(opus.get("length", "0")) == published.stat().st_size
    tagged = mutagen.File(published)
    assert tagged.tags["CHAPTER002NAME"] == [
        "Endringsnemda: Omorganisering med bekymrede medarbeidere"
    ]


def test_opus_alone_is_refused(project: Path, castcal: Callable[..., Run]) -> None:
    shutil.copy(AUDIO / "speech.opus", project / EP / "lyd.opus")
    set_audio(project, 'audio = "lyd.opus"', start="0:01")
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert f"{EP}/episode.toml: audio: OPUS can only be an alternate enclosure" in result.stderr


def test_crash_while_tagging_leaves_the_old_copy(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    before = snapshot(project / "feeds")
    toml = project / EP / "episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    original_header = id3.header

    def crashing_header(frames: Sequence[bytes]) -> bytes:
        original_header(frames)  # the tag is made ...
        raise RuntimeError("simulated crash while tagging")  # ... when the process dies

    monkeypatch.setattr(id3, "header", crashing_header)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(Request(project / "config.toml"))
    assert snapshot(project / "feeds") == before  # no partial file, the old copy intact


def test_up_to_date_copies_are_not_rewritten(project: Path, castcal: Callable[..., Run]) -> None:
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    audio_dir = project / "feeds/audio"
    before = snapshot(audio_dir)
    notes = project / EP / "notes.md"
    notes.write_text(notes.read_text() + "\nEn ny linje.\n")  # changes the feed, not the audio
    result = castcal("build", "--config", project / "config.toml")
    # the main feed, the show page and the episode's page carry the notes (the segment
    # feeds do not); no audio is rewritten
    assert result.exit_code == 0 and "; 3 files written" in result.stdout
    assert snapshot(audio_dir) == before


def test_id3_text_outside_latin1_reads_back(tmp_path: Path) -> None:
    """v2.3 has no UTF-8: text goes as UTF-16, and mutagen reads back exactly what went in."""
    title = "Endring – på godt og vondt 🎙"
    frames = [
        id3.text_frame(b"TIT2", title),
        *id3.chapter_frames("Innhold", [Chapter(0, 1.5, "Sak: æøå ÆØÅ")]),
        id3.picture_frame("image/png", b"\x89PNG not really"),
    ]
    path = tmp_path / "tagged.mp3"
    path.write_bytes(id3.tag(frames) + (AUDIO / "cbr_info.mp3").read_bytes())
    tags = ID3(path)
    assert str(tags["TIT2"]) == title
    (chapter,) = tags.getall("CHAP")
    assert (chapter.start_time, chapter.end_time) == (0, 1500)
    assert str(chapter.sub_frames["TIT2"]) == "Sak: æøå ÆØÅ"
    assert tags.getall("APIC")[0].data == b"\x89PNG not really"
    assert mutagen.File(path).info.length > 0  # the audio after the tag is found


def _id3v24_with_footer(title: str) -> bytes:
    """An ID3v2.4 tag with a footer (flag 0x10), which adds ten bytes its size leaves out."""

    def syncsafe(n: int) -> bytes:
        return bytes((n >> shift) & 0x7F for shift in (21, 14, 7, 0))

    body = b"\x03" + title.encode()
    frame = b"TIT2" + syncsafe(len(body)) + b"\0\0" + body
    return (
        b"ID3\x04\x00\x10"
        + syncsafe(len(frame))
        + frame
        + b"3DI\x04\x00\x10"
        + syncsafe(len(frame))
    )


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda audio: audio, id="no tags"),
        pytest.param(lambda audio: _id3v24_with_footer("old") + audio, id="v2.4 with footer"),
        pytest.param(
            lambda audio: _id3v24_with_footer("one") + _id3v24_with_footer("two") + audio,
            id="two tags in a row",
        ),
        pytest.param(lambda audio: audio + b"TAG" + bytes(125), id="ID3v1 at the end"),
        pytest.param(lambda audio: junk(1000) + audio, id="junk before the first frame"),
        pytest.param(
            lambda audio: _id3v24_with_footer("old") + bytes(700) + audio, id="tag, then padding"
        ),
        pytest.param(
            lambda audio: (
                id3.tag([id3.picture_frame("image/jpeg", bytes(70_000))])
                + audio
                + b"TAG"
                + b"x" * 125
            ),
            id="large cover and ID3v1",
        ),
    ],
)
def test_a_tagged_copy_replaces_every_kind_of_old_tag(
    tmp_path: Path, wrap: Callable[[bytes], bytes]
) -> None:
    """Whatever tags the source has, at its start or its end, the copy holds castcal's
    tag and the source's audio, nothing of the old tags."""
    from castcal.media import tagging

    info = tagging.TagInfo(
        title="Hva er endringsledelse?", artist="Difi", album="Difis endringspodd", year=2017,
        track=1, cover=b"\xff\xd8 cover" * 500, cover_mime="image/jpeg", toc_title="Innhold",
        chapters=(Chapter(0, 1.0, "Endringspraten"), Chapter(1.0, 3.0, "Endringsnemda")),
    )  # fmt: skip
    plain = (AUDIO / "cbr_info.mp3").read_bytes()
    copy = tagging.tag(wrap(plain), "mp3", info)
    assert copy == tagging.tag(plain, "mp3", info)
    assert copy.endswith(plain) and copy.startswith(b"ID3\x03")


@pytest.mark.parametrize(
    "name", ["mpeg2.5-8khz", "mpeg2.5-11khz", "mpeg2-22khz", "junk-before-first-frame"]
)
def test_mp3_variants_are_published_tagged_and_playable(
    name: str, project: Path, castcal: Callable[..., Run]
) -> None:
    """An MPEG-2.5 episode, and one with junk before its first frame, go through a real
    build: the feed tells the duration and the length of the copy served, mutagen reads
    castcal's tags back, ffmpeg decodes every frame of it without an error."""
    ffmpeg = need_program("ffmpeg")
    rate, data, stream = variant(name, 4.0)
    (project / EP / "audio.mp3").write_bytes(data)
    set_audio(project, 'audio = "audio.mp3"', start="0:02")
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    published = project / "feeds/audio/hva-er-endringsledelse.mp3"
    copy = published.read_bytes()
    assert copy.startswith(b"ID3\x03") and copy.endswith(stream)  # the junk left out
    assert mpeg.audio_start(copy) + len(stream) == len(copy)  # castcal's tag, the frames
    frames = len(mpeg.scan(stream))
    seconds = frames * 576 / rate
    parsed = feedparser.parse(project / "feeds/podcast.xml")
    entry = next(e for e in parsed.entries if e.title == "Hva er endringsledelse?")
    assert entry.itunes_duration == str(round(seconds))
    assert int(entry.enclosures[0].length) == len(copy)
    tagged = mutagen.File(published)
    assert (tagged.info.sample_rate, round(tagged.info.length, 2)) == (rate, round(seconds, 2))
    assert str(tagged.tags["TIT2"]) == "Hva er endringsledelse?"
    assert [c.start_time for c in tagged.tags.getall("CHAP")] == [0, 2000]
    samples, errors = decode(ffmpeg, published)
    assert errors == ""
    assert abs(samples - frames * 576) <= 576  # within one frame
