"""Real MP3 audio made at test time with lameenc (LAME 3.100), no files needed.

lameenc never writes a Xing/Info header, so its VBR output is exactly the
"VBR without a header" case that fools mutagen's duration estimate.
"""

from __future__ import annotations

import math
from array import array

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


def mp3(seconds: float, *, vbr: bool, bitrate: int = 32) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(2)
    if vbr:
        encoder.set_vbr(4)
        encoder.set_vbr_quality(2)
    else:
        encoder.set_bit_rate(bitrate)
    return bytes(encoder.encode(pcm(seconds)) + encoder.flush())
