"""Masters (WAV, FLAC, AIFF) encoded into the MP3 castcal publishes: decoded by libsndfile
(soundfile), resampled to 44.1 kHz, brought to the show's loudness under its true-peak
limit (media.normalise) with what the encoder will take of it made good, encoded by LAME
(lameenc) at a constant bitrate, with a Xing/Info frame and LAME tag in front so apps
know its length and the encoder's delay and padding.
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from castcal.content.config import Audio
from castcal.media import cuts, loudness, normalise, sniff
from castcal.media.loudness import Loudness, Samples

RATE = 44_100  # what podcast apps expect of an MP3
RATES = (44_100, 48_000)  # of the masters taken
FRAME = 1152  # samples in an MPEG-1 layer III frame
ENCODER_DELAY = 576  # samples LAME puts in front (decoders add their own 529)
LAME = b"LAME3.100"  # the LAME tag's encoder string (lameenc bundles LAME 3.100)
_EXCERPT = 30.0  # seconds encoded to learn what the codec takes of the loudness
_MAGIC = ((8, b"WAVE"), (0, b"fLaC"), (8, b"AIFF"), (8, b"AIFC"))


class MasterError(ValueError):
    """The master cannot be encoded; the message says why."""


@dataclass(frozen=True, slots=True)
class Encoded:
    """A master encoded: its loudness as delivered (measured at 44.1 kHz), and its length
    in samples. (What was published is measured as any MP3: loudness.measure_file.)"""

    before: Loudness
    samples: int


def is_master(head: bytes) -> bool:
    """Whether ``head``, a file's first bytes, starts a WAV, FLAC or AIFF file."""
    return any(head[at : at + len(magic)] == magic for at, magic in _MAGIC)


def bitrate(audio: Audio, channels: int) -> int:
    """The kbps to encode at: the show's setting, else 96 for mono and 128 for stereo."""
    if audio.bitrate is not None:
        return audio.bitrate
    return 96 if channels == 1 else 128


def encode(source: Path, audio: Audio, target: Path) -> Encoded:
    """Encode the master at ``source`` into ``target`` (written whole, then moved into
    place). MasterError for a file libsndfile cannot read or with more than 2 channels."""
    samples, rate = read(source)
    if rate != RATE:
        samples = resample(samples, rate)
    kbps = bitrate(audio, samples.shape[1])
    measured = normalise.measure(samples, RATE)
    ceiling = audio.true_peak - 0.5  # encoding adds a little to the peaks
    loud, before = normalise.normalise(samples, RATE, audio.loudness, ceiling, measured)
    loss = codec_loss(loud, kbps)
    if abs(loss) >= 0.05:  # aimed that much louder, the MP3 comes out at the show's
        aim = audio.loudness + loss
        loud, _ = normalise.normalise(samples, RATE, aim, ceiling, measured)
    data = mp3(loud, kbps)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.write_bytes(data)
    partial.replace(target)
    return Encoded(before, len(samples))


def codec_loss(samples: Samples, kbps: int) -> float:
    """The loudness (LU) LAME takes out of ``samples`` at ``kbps``, learned from an excerpt
    of up to 30 seconds from the middle, encoded and decoded. Its psychoacoustic model
    drops sound it judges masked: 0.45 LU of noise-like sound at 64 to 128 kbps, 0.26 at
    192, none at 320. Within +-2 LU; 0 for audio too quiet to measure."""
    middle, half = len(samples) // 2, int(_EXCERPT * RATE) // 2
    excerpt = samples[max(0, middle - half) : middle + half]
    level = loudness.integrated(excerpt, RATE)
    decoded = loudness.measure_file(io.BytesIO(mp3(excerpt, kbps)), true_peak=False).lufs
    if min(level, decoded) <= loudness.SILENT:
        return 0.0
    return float(np.clip(level - decoded, -2.0, 2.0))


def read(source: Path) -> tuple[Samples, int]:
    """The master's samples, (frames, channels) in floats, and its sample rate."""
    import soundfile

    try:
        samples, rate = soundfile.read(source, dtype="float64", always_2d=True)
    except soundfile.LibsndfileError as exc:
        with source.open("rb") as file:
            kind = sniff.audio_kind(file.read(16)) or "a master"
        raise MasterError(
            f"the file looks like {kind} file that cannot be read ({exc.error_string}); "
            "export the master again, or publish MP3 or M4A (AAC)"
        ) from exc
    if samples.shape[1] > 2:
        raise MasterError(
            f"the master has {samples.shape[1]} channels; castcal encodes mono or stereo"
        )
    if not len(samples):
        raise MasterError("the master holds no audio")
    if rate not in RATES:
        raise MasterError(
            f"the master is sampled at {rate} Hz; castcal encodes masters of 44.1 or 48 kHz"
        )
    return samples, int(rate)


def resample(samples: Samples, rate: int) -> Samples:
    """``samples`` at ``rate`` Hz resampled to 44.1 kHz (polyphase, 147/160 from 48 kHz)."""
    from scipy.signal import resample_poly

    common = gcd(RATE, rate)
    out = resample_poly(samples, RATE // common, rate // common, axis=0)
    return np.asarray(out, dtype=np.float64)


def mp3(samples: Samples, kbps: int) -> bytes:
    """``samples`` at 44.1 kHz encoded as a CBR MP3 whose first frame is an Info frame."""
    import lameenc

    channels = samples.shape[1]
    pcm = np.clip(np.rint(samples * 32767.0), -32768, 32767).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(RATE)
    encoder.set_out_sample_rate(RATE)
    encoder.set_channels(channels)
    encoder.set_quality(2)
    frames = bytes(encoder.encode(pcm.tobytes())) + bytes(encoder.flush())
    return with_info_frame(frames, len(samples))


def with_info_frame(frames: bytes, samples: int) -> bytes:
    """The CBR ``frames`` (encoding ``samples`` samples) behind an Info frame whose LAME tag
    records LAME's encoder delay and the padding: made as castcal makes a cut of a whole
    stream (cuts.py), seek table and checksums included."""
    source = cuts.read(frames)  # lameenc writes no Info frame: delay and padding unknown
    padding = max(0, source.count * FRAME - ENCODER_DELAY - samples)
    lame = dataclasses.replace(source, delay=ENCODER_DELAY, padding=padding, lame_version=LAME)
    return cuts.cut(lame, [0])[0].data
