"""Masters brought to the show's loudness under its true-peak limit: the gain that reaches
the target, and a look-ahead limiter where that gain would push true peaks over.

Samples are float arrays shaped (frames, channels), full scale at 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from castcal.media.loudness import OVERSAMPLE, SILENT, Loudness, Samples, decibels, integrated
from castcal.media.loudness import taps as interpolator

Envelope = npt.NDArray[np.float32]

_CHUNK = 1 << 18  # frames oversampled at a time (an hour at once would take gigabytes)
_MARGIN = 64  # frames either side of a chunk, for the interpolating filter's reach
_LOOKAHEAD = 0.005  # seconds the limiter sees ahead and holds after a peak


def peak_envelope(samples: Samples, rate: int) -> Envelope:
    """For each frame, the largest magnitude of any channel from it to the next one, 4x
    oversampled by the meter's interpolating filter (a rate above 96 kHz is taken as it
    is). In pieces: an hour oversampled at once would take gigabytes."""
    from scipy.signal import upfirdn

    taps, frames = interpolator(), len(samples)
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


@dataclass(frozen=True, slots=True)
class Measured:
    """What normalising needs to know of some audio, measured once however many targets it
    is brought to: its peak envelope, and its loudness as it is."""

    envelope: Envelope
    before: Loudness


def measure(samples: Samples, rate: int) -> Measured:
    envelope = peak_envelope(samples, rate)
    peak = decibels(float(np.max(envelope, initial=0.0)))
    return Measured(envelope, Loudness(integrated(samples, rate), peak))


def normalise(
    samples: Samples, rate: int, target: float, ceiling: float, measured: Measured | None = None
) -> tuple[Samples, Loudness]:
    """``samples`` brought to ``target`` LUFS with true peaks at or below ``ceiling``
    dBTP, and their loudness as they were (``measured`` where known already): the gain
    that reaches the target, then the limiter where peaks go over; it takes a little
    loudness, so where it acted the gain is set once more and the result limited again.
    (The gain changes slowly, so the envelope of the audio it is applied to is the first
    envelope times it.)"""
    known = measured or measure(samples, rate)
    envelope, before = known.envelope, known.before
    if before.lufs <= SILENT:
        return samples, before
    gain = 10 ** ((target - before.lufs) / 20)
    curve = limit(envelope * np.float32(gain), rate, ceiling)
    if curve is None:
        return samples * gain, before
    curve *= np.float32(gain)
    curve *= np.float32(10 ** ((target - integrated(samples * curve[:, None], rate)) / 20))
    again = limit(envelope * curve, rate, ceiling)
    if again is not None:
        curve *= again
    return samples * curve[:, None], before
