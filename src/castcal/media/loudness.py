"""Loudness of audio samples: integrated loudness per ITU-R BS.1770-4 (pyloudnorm's
K-weighting and gating), true peak 4x oversampled as its Annex 2 says, and the gain and
look-ahead limiting that bring a master to the show's loudness under its peak limit.

Samples are float arrays shaped (frames, channels), full scale at 1.0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]
Envelope = npt.NDArray[np.float32]

OVERSAMPLE = 4  # BS.1770-4 Annex 2, for 48 kHz and below
_CHUNK = 1 << 18  # frames oversampled at a time (an hour at once would take gigabytes)
_MARGIN = 64  # frames either side of a chunk, for the interpolating filter's reach
_LOOKAHEAD = 0.005  # seconds the limiter sees ahead and holds after a peak
_SILENT = -70.0  # LUFS given for audio too quiet to gate (BS.1770's absolute gate)


@dataclass(frozen=True, slots=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) of some audio."""

    lufs: float
    peak: float


def measure(samples: Samples, rate: int) -> Loudness:
    """The integrated loudness and true peak of ``samples``."""
    return Loudness(integrated(samples, rate), true_peak(samples, rate))


def integrated(samples: Samples, rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770-4: K-weighted, gated at -70 LUFS and 10 LU
    below the ungated level); -70 for audio too short or too quiet to measure."""
    import pyloudnorm

    if len(samples) < int(0.4 * rate):
        return _SILENT
    value = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    return value if math.isfinite(value) else _SILENT


def true_peak(samples: Samples, rate: int) -> float:
    """The true peak in dBTP: the largest magnitude of the signal 4x oversampled."""
    return _decibels(float(np.max(peak_envelope(samples, rate), initial=0.0)))


def _decibels(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def peak_envelope(samples: Samples, rate: int) -> Envelope:
    """For each frame, the largest magnitude of any channel from it to the next one, 4x
    oversampled by a 48-tap interpolating filter, as Annex 2's (a rate above 96 kHz is
    taken as it is). In pieces: an hour oversampled at once would take gigabytes."""
    from scipy.signal import upfirdn

    taps, frames = _taps(), len(samples)
    envelope = np.zeros(frames, dtype=np.float32)
    for channel in np.ascontiguousarray(samples.T, dtype=np.float32):
        np.maximum(envelope, np.abs(channel), out=envelope)
        if rate > 96_000:
            continue
        for start in range(0, frames, _CHUNK):
            end = min(frames, start + _CHUNK)
            lo, hi = max(0, start - _MARGIN), min(frames, end + _MARGIN)
            up = np.abs(upfirdn(taps, channel[lo:hi], up=OVERSAMPLE))
            first = (start - lo) * OVERSAMPLE + len(taps) // 2  # past the filter's delay
            own = up[first : first + (end - start) * OVERSAMPLE]
            piece = envelope[start:end]
            for phase in range(OVERSAMPLE):
                np.maximum(piece, own[phase::OVERSAMPLE], out=piece)
    return envelope


@functools.cache
def _taps() -> npt.NDArray[np.float32]:
    from scipy.signal import firwin

    taps = firwin(48, 1 / OVERSAMPLE, window=("kaiser", 6.0)) * OVERSAMPLE
    return np.asarray(taps, dtype=np.float32)


def limit(envelope: Envelope, rate: int, ceiling: float) -> Envelope | None:
    """The gain, frame by frame, of a look-ahead limiter holding the true peaks of audio
    whose peak envelope is ``envelope`` at ``ceiling`` dBTP; None where none goes over.
    The gain each frame needs is held for the look-ahead either side, then smoothed over
    the same span, so it is never above what any frame within reach needs. Zero-phase
    and without state: the same input gives the same output."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    most = 10 ** (ceiling / 20)
    if not len(envelope) or float(envelope.max()) <= most:
        return None
    need = np.minimum(np.float32(1.0), most / np.maximum(envelope, np.float32(1e-9)))
    reach = max(1, int(_LOOKAHEAD * rate))
    held = minimum_filter1d(need, size=2 * reach + 1, mode="nearest")
    gain = uniform_filter1d(held, size=2 * reach + 1, mode="nearest")
    # Each frame's gain averages values that are each at most what it needs: at most
    # what it needs, but for rounding.
    return np.asarray(np.minimum(gain, need), dtype=np.float32)


def normalise(
    samples: Samples, rate: int, target: float, ceiling: float
) -> tuple[Samples, Loudness]:
    """``samples`` brought to ``target`` LUFS with true peaks at or below ``ceiling``
    dBTP, and their loudness as they were: the gain that reaches the target, then the
    limiter where peaks go over; it takes a little loudness, so where it acted the gain
    is set once more and the result limited again. (The gain changes slowly, so the
    envelope of the audio it is applied to is the first envelope times it.)"""
    envelope = peak_envelope(samples, rate)
    level = integrated(samples, rate)
    before = Loudness(level, _decibels(float(np.max(envelope, initial=0.0))))
    if level <= _SILENT:
        return samples, before
    gain = 10 ** ((target - level) / 20)
    curve = limit(envelope * np.float32(gain), rate, ceiling)
    if curve is None:
        return samples * gain, before
    curve *= np.float32(gain)
    curve *= np.float32(10 ** ((target - integrated(samples * curve[:, None], rate)) / 20))
    again = limit(envelope * curve, rate, ceiling)
    if again is not None:
        curve *= again
    return samples * curve[:, None], before


class DecodeError(ValueError):
    """The audio could not be decoded for measuring; the message says why."""


def measure_file(path: Path) -> Loudness:
    """The integrated loudness and true peak of the audio file at ``path`` (MP3, M4A,
    anything FFmpeg's decoders read, through PyAV's bundled libraries)."""
    samples, rate = decode(path)
    return measure(samples, rate)


def decode(path: Path) -> tuple[Samples, int]:
    """The first audio stream of ``path`` decoded: (frames, channels) floats, and its rate."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            rate = int(stream.rate)
            resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
            pieces = [
                piece.to_ndarray()
                for frame in container.decode(stream)
                for piece in resampler.resample(frame)
            ]
            pieces += [piece.to_ndarray() for piece in resampler.resample(None)]
    except (av.FFmpegError, IndexError) as exc:
        raise DecodeError(f"cannot decode the audio to measure its loudness: {exc}") from exc
    if not pieces:
        raise DecodeError("no audio decoded to measure its loudness")
    planar = np.concatenate(pieces, axis=1)
    return np.ascontiguousarray(planar.T, dtype=np.float64), rate
