"""Real MP3 audio made at test time with lameenc (LAME 3.100), no files needed, and
ffmpeg's reading of it.

lameenc never writes a Xing/Info header, so its VBR output is exactly the
"VBR without a header" case that fools mutagen's duration estimate.
"""

from __future__ import annotations

import math
import random
import subprocess
from array import array
from pathlib import Path

import lameenc

RATE = 22050


def pcm(seconds: float, rate: int = RATE) -> bytes:
    """Mono 16-bit speech-like sound: bursts of chirps between near-silence, so a VBR
    encoder picks very different bitrates for different frames."""
    samples = array("h")
    for n in range(round(seconds * rate)):
        t = n / rate
        loud = (t % 1.0) > 0.4
        freq = 300 + 2500 * ((t * 3) % 1.0)
        amplitude = 12000 if loud else 30
        samples.append(int(amplitude * math.sin(2 * math.pi * freq * t)))
    return samples.tobytes()


def mp3(seconds: float, *, vbr: bool, bitrate: int = 32, rate: int = RATE) -> bytes:
    """Mono MP3 at ``rate``: MPEG-1 Layer III from 32 kHz up, MPEG-2 at 16 to 24 kHz,
    MPEG-2.5 at 8 to 12 kHz."""
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    if vbr:
        encoder.set_vbr(4)
        encoder.set_vbr_quality(2)
    else:
        encoder.set_bit_rate(bitrate)
    return bytes(encoder.encode(pcm(seconds, rate)) + encoder.flush())


def junk(size: int, seed: int = 19) -> bytes:
    """Random bytes, the same on every run: what some tools leave before an MP3's first frame."""
    return random.Random(seed).randbytes(size)


# MP3s castcal must take like any other: (rate, bytes before the first frame).
VARIANTS = {
    "mpeg2.5-8khz": (8000, b""),
    "mpeg2.5-11khz": (11025, b""),
    "mpeg2.5-12khz": (12000, b""),
    "mpeg2-22khz": (22050, b""),
    "zeros-before-first-frame": (22050, bytes(1000)),
    "junk-before-first-frame": (22050, junk(1000)),
    "junk-before-mpeg2.5": (8000, junk(3000, seed=7)),
}


def variant(name: str, seconds: float) -> tuple[int, bytes, bytes]:
    """The sample rate, the whole file and its MPEG stream (the file without the junk)."""
    rate, before = VARIANTS[name]
    stream = mp3(seconds, vbr=False, rate=rate)
    return rate, before + stream, stream


def decode(ffmpeg: str, path: Path) -> tuple[int, str]:
    """How many samples ffmpeg decodes from ``path`` (mono, at its own rate), and what it
    said on stderr about errors (empty: none)."""
    run = subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return len(run.stdout) // 2, run.stderr.decode(errors="replace")
