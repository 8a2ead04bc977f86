"""Facts about local audio files: exact byte length, MIME type, duration."""

from __future__ import annotations

from pathlib import Path

import mutagen
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4

from castcal import mpeg
from castcal.models import AudioFacts


class AudioError(ValueError):
    """The file is not audio castcal can publish; the message says why."""


_NOT_PODCAST = {
    "WAVE": "WAV",
    "FLAC": "FLAC",
    "AIFF": "AIFF",
    "AAC": "raw AAC (ADTS)",
}


def probe(path: Path) -> AudioFacts:
    """Probe one local file. Raises AudioError for anything that is not publishable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read the file: {exc.strerror}") from exc
    try:
        found = mutagen.File(path)
    except mutagen.MutagenError as exc:
        raise AudioError(f"not audio castcal can read ({exc}); publish MP3 or M4A (AAC)") from exc
    if isinstance(found, MP3) and found.info is not None:
        return AudioFacts(
            length=len(data),
            mime="audio/mpeg",
            extension="mp3",
            duration=_mp3_duration(data, found.info.length),
        )
    if isinstance(found, MP4) and found.info is not None:
        if found.info.length <= 0:
            raise AudioError("the M4A file holds no audio")
        return AudioFacts(
            length=len(data), mime="audio/x-m4a", extension="m4a", duration=found.info.length
        )
    if found is None:
        raise AudioError("not an audio file castcal recognises; publish MP3 or M4A (AAC)")
    kind = _NOT_PODCAST.get(type(found).__name__, type(found).__name__)
    raise AudioError(f"{kind} audio is not accepted by podcast apps; encode it as MP3 or M4A (AAC)")


def _mp3_duration(data: bytes, mutagen_length: float) -> float:
    scan = mpeg.scan(data)
    if not scan.frames:
        raise AudioError("no MPEG audio frames found")
    if scan.truncated:
        raise AudioError(
            f"the file is truncated: its last frame is cut off after {len(scan.frames)} frames"
        )
    if scan.has_vbr_header:
        # The Xing/Info/VBRI frame count is exact, and mutagen takes off the encoder
        # delay and padding that a LAME header records.
        return mutagen_length
    # No header: mutagen guesses from the first frame's bitrate, which is wrong for VBR.
    return scan.duration
