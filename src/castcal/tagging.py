"""Tags for the published copy of an episode's audio: title, artist, album, year, cover art
and the segments as chapters. Works on bytes in memory; the one writer puts the result in
place atomically, so a failure here can never leave a half-tagged file in feeds/."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    TRCK,
    CTOCFlags,
    Encoding,
    Frame,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from castcal.chapters import Chapter, npt
from castcal.models import Episode, Project
from castcal.mpeg import audio_end, audio_start


@dataclass(frozen=True)
class TagInfo:
    title: str
    artist: str
    album: str
    year: int
    track: int | None
    cover: bytes
    cover_mime: str
    toc_title: str
    chapters: tuple[Chapter, ...]


def info_for(
    project: Project, episode: Episode, *, title: str, album: str, chapters: tuple[Chapter, ...]
) -> TagInfo:
    """The tags of one published file of ``episode``: the whole episode or a segment."""
    show = project.config.podcast
    return TagInfo(
        title=title,
        artist=show.author,
        album=album,
        year=episode.meta.published.year,
        track=episode.meta.number,
        cover=project.cover.data,
        cover_mime=project.cover.mime,
        toc_title=title,
        chapters=chapters,
    )


def tag(data: bytes, extension: str, info: TagInfo) -> bytes:
    """``data`` (a whole audio file) with castcal's tags in place of whatever it had."""
    buffer = io.BytesIO(data)
    _TAGGERS[extension](buffer, info)
    return buffer.getvalue()


def _text(frame: type[Frame], value: str) -> Frame:
    return frame(encoding=Encoding.UTF8, text=[value])


def _chapter_frames(info: TagInfo) -> list[Frame]:
    """CHAP frames plus a titled, ordered top-level CTOC.

    mutagen writes frames ordered by their encoded size, then by key, so chapters of
    different sizes come out in no time order (quodlibet/mutagen#506), and ffmpeg-based
    players take them in file order. Padding the element IDs to one size leaves the key,
    "ch00", "ch01", ..., to decide: time order. A chapter frame's size differs from another's
    only by its title, which ID3v2.3 stores as UTF-16: so many bytes of title, so many
    bytes of padding.
    """

    def chap(index: int, pad: int) -> CHAP:
        chapter = info.chapters[index]
        return CHAP(
            element_id=f"ch{index:02d}" + "_" * pad,
            start_time=round(chapter.start * 1000),
            end_time=round(chapter.end * 1000),
            sub_frames=[_text(TIT2, chapter.title)],
        )

    sizes = [len(c.title.encode("utf-16-le")) for c in info.chapters]
    pads = [max(sizes) - size for size in sizes]
    chaps = [chap(i, pad) for i, pad in enumerate(pads)]
    toc = CTOC(
        element_id="toc",
        flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
        child_element_ids=[f"ch{i:02d}" + "_" * pad for i, pad in enumerate(pads)],
        sub_frames=[_text(TIT2, info.toc_title)],
    )
    return [toc, *chaps]


def _tag_mp3(buffer: io.BytesIO, info: TagInfo) -> None:
    """Replace whatever ID3 tags the file has with castcal's. The tag is rendered on its
    own and put in front of the audio frames: cheaper than letting mutagen move the audio
    within the file to make room."""
    data = buffer.getvalue()
    audio = data[audio_start(data) : audio_end(data)]
    tags = ID3()
    for frame in (
        _text(TIT2, info.title),
        _text(TPE1, info.artist),
        _text(TALB, info.album),
        _text(TDRC, str(info.year)),
        _text(TCON, "Podcast"),
        APIC(
            encoding=Encoding.UTF8,
            mime=info.cover_mime,
            type=PictureType.COVER_FRONT,
            desc="",
            data=info.cover,
        ),
        *(_chapter_frames(info) if info.chapters else ()),
    ):
        tags.add(frame)
    if info.track is not None:
        tags.add(_text(TRCK, str(info.track)))
    rendered = io.BytesIO()
    tags.save(rendered, v2_version=3)  # v2.3: Apple shows long chapter titles from it
    buffer.seek(0)
    buffer.truncate()
    buffer.write(rendered.getvalue() + audio)


def _tag_m4a(buffer: io.BytesIO, info: TagInfo) -> None:
    audio = MP4(buffer)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    assert tags is not None
    tags.clear()
    tags["\xa9nam"] = [info.title]
    tags["\xa9ART"] = [info.artist]
    tags["\xa9alb"] = [info.album]
    tags["\xa9day"] = [str(info.year)]
    tags["\xa9gen"] = ["Podcast"]
    image = MP4Cover.FORMAT_PNG if info.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
    tags["covr"] = [MP4Cover(info.cover, imageformat=image)]
    if info.track is not None:
        tags["trkn"] = [(info.track, 0)]
    buffer.seek(0)
    audio.save(buffer)


def _tag_ogg(buffer: io.BytesIO, info: TagInfo) -> None:
    buffer.seek(0)
    audio = OggOpus(buffer) if buffer.getvalue()[28:36] == b"OpusHead" else OggVorbis(buffer)
    tags = audio.tags
    assert tags is not None
    tags.clear()
    tags["TITLE"] = [info.title]
    tags["ARTIST"] = [info.artist]
    tags["ALBUM"] = [info.album]
    tags["DATE"] = [str(info.year)]
    tags["GENRE"] = ["Podcast"]
    if info.track is not None:
        tags["TRACKNUMBER"] = [str(info.track)]
    for number, chapter in enumerate(info.chapters, start=1):  # the Vorbis-comment chapters
        tags[f"CHAPTER{number:03d}"] = [npt(chapter.start)]
        tags[f"CHAPTER{number:03d}NAME"] = [chapter.title]
    buffer.seek(0)
    audio.save(buffer)


_TAGGERS: dict[str, Callable[[io.BytesIO, TagInfo], None]] = {
    "mp3": _tag_mp3,
    "m4a": _tag_m4a,
    "opus": _tag_ogg,
    "ogg": _tag_ogg,
}
