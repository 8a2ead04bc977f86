"""Facts about an audio file: its exact byte length, MIME type and duration.

The same identification serves local files and remote ones (read through HTTP ranges):
mutagen sniffs the container, and for MP3 an MPEG frame walk replaces mutagen's estimate
where a VBR file lacks a Xing/Info/VBRI header (reference/audio.md, 2.2). The walk also
finds the MP3s mutagen's sniffing misses (MPEG-2.5, junk before the first frame); a file
that is not audio is told what it looks like (text, an image, empty).
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from castcal.content.models import AudioFacts
from castcal.media import mpeg, sniff

if TYPE_CHECKING:
    from mutagen import FileType

# How many leading frames show whether a headerless MP3 is CBR or VBR.
_SAMPLE_FRAMES = 200


class AudioError(ValueError):
    """The file is not audio castcal can publish; the message says why."""


_PUBLISH = "publish MP3 or M4A (AAC)"
_ENCODE = "encode it as MP3 or M4A (AAC)"
_NOT_PODCAST = {"WAVE": "WAV", "FLAC": "FLAC", "AIFF": "AIFF", "AAC": "raw AAC (ADTS)"}


def probe(path: Path) -> AudioFacts:
    """Probe one local file. Raises AudioError for anything that is not publishable. Only
    what mutagen and the duration need is read: an MP3 whose Xing/Info header counts it is
    not read whole (an hour of audio is 57 MB)."""
    try:
        # Opened by descriptor: the file object's name is then a number, and mutagen tells
        # formats by their bytes alone, not by the editor's choice of file extension.
        with os.fdopen(os.open(path, os.O_RDONLY), "rb") as file:
            whole = functools.partial(_whole, file)
            return identify(file, os.fstat(file.fileno()).st_size, whole, local=True)
    except OSError as exc:
        raise AudioError(f"cannot read the file: {exc.strerror}") from exc


def _whole(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


def identify(
    fileobj: IO[bytes], size: int, whole: Callable[[], bytes], *, local: bool
) -> AudioFacts:
    """Facts about the audio in ``fileobj``, of a file of ``size`` bytes (a remote file is
    shown from past its ID3 tag). ``whole`` returns all of ``fileobj``'s bytes, and is only
    called for an MP3 whose duration needs every frame counted."""
    import mutagen  # only where a file is new or changed
    from mutagen.mp3 import MP3

    if size == 0:
        raise AudioError(f"not audio: the file is empty; {_PUBLISH}")
    try:
        found = mutagen.File(fileobj)
    except mutagen.MutagenError as exc:
        raise AudioError(_unreadable(fileobj, f"not audio castcal can read ({exc})")) from exc
    if found is None or found.info is None:
        # mutagen knows an MP3 by an ID3 tag or by a frame at byte 0 of MPEG-1 or MPEG-2
        # (not 2.5): the frame walk finds a stream that starts anywhere, in any version.
        length = _untagged_mp3_length(fileobj)
    elif isinstance(found, MP3):
        length = float(found.info.length)
    else:
        return _not_mp3(found, float(found.info.length), size)
    duration = _mp3_duration(fileobj, whole, length, local=local)
    return AudioFacts(length=size, mime="audio/mpeg", extension="mp3", duration=duration)


def _untagged_mp3_length(fileobj: IO[bytes]) -> float:
    """mutagen's length of an MP3 it did not recognise, read from the first frame the
    frame walk finds; AudioError, saying what the file looks like, if there is none."""
    from mutagen import MutagenError
    from mutagen.mp3 import MPEGInfo

    head = _head(fileobj)
    start = mpeg.first_frame(head)
    if start is None:
        raise AudioError(_unreadable(fileobj, "not an audio file castcal recognises"))
    layer = 4 - ((head[start + 1] >> 1) & 3)
    if layer != 3:
        raise AudioError(
            f"the file looks like MPEG Layer {'I' * layer} audio (MP{layer}), which podcast "
            f"apps do not play; {_ENCODE}"
        )
    try:
        return float(MPEGInfo(fileobj, offset=start).length)
    except MutagenError as exc:
        raise AudioError(f"not audio castcal can read ({exc}); {_PUBLISH}") from exc


def _unreadable(fileobj: IO[bytes], fallback: str) -> str:
    """Why a file is not audio castcal takes: what it looks like, else ``fallback``."""
    fileobj.seek(0)
    head = fileobj.read(64)
    kind = sniff.audio_kind(head)
    if kind is not None:
        return f"the file looks like {kind} file, which podcast apps do not play; {_ENCODE}"
    looks = sniff.looks_like(head + fileobj.read(sniff.SAMPLE - len(head)))
    if looks is None:
        return f"{fallback}; {_PUBLISH}"
    return f"not audio: the file looks like {looks}; {_PUBLISH}"


def _not_mp3(found: FileType, length: float, size: int) -> AudioFacts:
    """The facts of audio mutagen recognised that is not MP3 (``length`` seconds by its
    reading), or why it is refused."""
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    if isinstance(found, MP4):
        facts = AudioFacts(length=size, mime="audio/x-m4a", extension="m4a", duration=length)
    elif isinstance(found, OggOpus):
        facts = AudioFacts(length=size, mime="audio/opus", extension="opus", duration=length)
    elif isinstance(found, OggVorbis):
        facts = AudioFacts(length=size, mime="audio/ogg", extension="ogg", duration=length)
    else:
        kind = _NOT_PODCAST.get(type(found).__name__, type(found).__name__)
        raise AudioError(f"{kind} audio is not accepted by podcast apps; {_ENCODE}")
    if length <= 0:
        raise AudioError(f"the {facts.extension.upper()} file holds no audio")
    return facts


def _mp3_duration(
    fileobj: IO[bytes], whole: Callable[[], bytes], mutagen_length: float, *, local: bool
) -> float:
    if local:
        if _counted(fileobj):
            return mutagen_length  # from the header's frame count, as below
        data = whole()
        scan = mpeg.scan(data)
    else:
        scan = mpeg.scan(_head(fileobj), limit=_SAMPLE_FRAMES)
        if len(scan) and not scan.has_vbr_header and scan.variable:
            scan = mpeg.scan(whole())  # VBR without a header: only counting every frame works
        elif scan.truncated:
            scan.truncated = False  # the sample just ends in the middle of a frame
    if not len(scan):
        raise AudioError("no MPEG audio frames found")
    if scan.truncated:
        raise AudioError(
            f"the file is truncated: its last frame is cut off after {len(scan)} frames"
        )
    if local and scan.has_vbr_header and not _header_agrees(data, scan):
        return scan.duration  # a stale header: joined files keep the first one's
    if scan.has_vbr_header or not (local or scan.variable):
        # A Xing/Info/VBRI frame count is exact, and mutagen takes off the encoder delay
        # and padding that a LAME header records; a constant bitrate prices exactly too.
        return mutagen_length
    return scan.duration


def _head(fileobj: IO[bytes]) -> bytes:
    """The start of a file: its ID3 tag and 64 KB of frames after it."""
    fileobj.seek(0)
    head = fileobj.read(10)
    tag_end = mpeg.audio_start(head + b"\0" * 10) if head.startswith(b"ID3") else 0
    fileobj.seek(0)
    return fileobj.read(tag_end + 64 * 1024)


def _counted(fileobj: IO[bytes]) -> bool:
    """True for a stream whose Xing/Info header counts its frames and exactly the bytes
    there are: it is whole, and its duration is the header's, so it need not be read, nor
    its frames walked (about 0.1 s for an hour). LAME writes such a header in every file."""
    head = _head(fileobj)
    first = mpeg.scan(head, limit=1).raw
    if not first or not first[0][mpeg.VBR_HEADER]:
        return False
    offset = first[0][mpeg.OFFSET]
    header = mpeg.xing(head, offset)
    if header is None or header.frames is None:
        return False
    size = fileobj.seek(0, io.SEEK_END)
    fileobj.seek(max(0, size - 128))
    tail = fileobj.read()
    end = size - len(tail) + mpeg.audio_end(tail)  # before an ID3v1 tag
    return header.length == end - offset


def _header_agrees(data: bytes, scan: mpeg.Scan) -> bool:
    """Whether the frames walked are those the stream's Xing/Info header counts (give or
    take the header's own frame, which some encoders count). Fewer frames and bytes than it
    counts: the file was cut off, if at a frame boundary, and is refused. More: the header
    is stale, as when files are joined (it counts the first one), and only the walk counts."""
    header = mpeg.xing(data, scan.raw[0][mpeg.OFFSET])
    if header is None or header.frames is None:
        return True  # a VBRI header, or one without a frame count: as mutagen reads it
    frames = len(scan) - 1  # the header's own frame is not audio
    stream = mpeg.audio_end(data) - scan.raw[0][mpeg.OFFSET]
    if frames < header.frames and header.length is not None and stream < header.length:
        raise AudioError(
            f"the file is truncated: its Xing header counts {header.frames} frames and "
            f"{header.length} bytes, and it holds {frames} frames"
        )
    return abs(frames - header.frames) <= 1
