"""Tags for the published copy of an episode's audio: title, artist, album, year, cover art
and the segments as chapters. Works on bytes in memory; the one writer puts the result in
place atomically, so a failure here can never leave a half-tagged file in feeds/."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from castcal.content.chapters import Chapter, npt
from castcal.content.models import Episode, Project
from castcal.media import id3
from castcal.media.mpeg import stream_bounds


@dataclass(frozen=True, slots=True)
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
    if extension == "mp3":
        return _tagged_mp3(data, info)
    buffer = io.BytesIO(data)
    _TAGGERS[extension](buffer, info)
    return buffer.getvalue()


def _mp3_frames(info: TagInfo) -> list[bytes]:
    frames = [
        id3.text_frame(b"TIT2", info.title),
        id3.text_frame(b"TPE1", info.artist),
        *([id3.text_frame(b"TRCK", str(info.track))] if info.track is not None else []),
        id3.text_frame(b"TALB", info.album),
        id3.text_frame(b"TYER", str(info.year)),
        id3.text_frame(b"TCON", "Podcast"),
    ]
    if info.chapters:
        frames += id3.chapter_frames(info.toc_title, info.chapters)
    frames.append(id3.picture_frame(info.cover_mime, info.cover))  # last: the largest
    return frames


def _tagged_mp3(data: bytes, info: TagInfo) -> bytes:
    """Whatever ID3 tags the file has replaced with castcal's, rendered on their own and
    put in front of the first audio frame (the audio copied once: a thousand files a
    build). Junk or padding before that frame is left out: players need none of it."""
    frames = _mp3_frames(info)
    start, end = stream_bounds(data)
    with memoryview(data) as audio:
        return b"".join((id3.header(frames), *frames, audio[start:end]))


def _tag_m4a(buffer: io.BytesIO, info: TagInfo) -> None:
    from mutagen.mp4 import MP4, MP4Cover

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
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

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
    "m4a": _tag_m4a,
    "opus": _tag_ogg,
    "ogg": _tag_ogg,
}
