"""Loudness of audio, measured as it streams past: integrated loudness per ITU-R BS.1770-4
(K-weighting and gating as pyloudnorm does them, in whole arrays) and the true peak 4x
oversampled as its Annex 2 says, in bounded memory whatever the audio's length.

Samples are float arrays shaped (frames, channels), full scale at 1.0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import av
    import av.container

Samples = npt.NDArray[np.float64]
Floats = npt.NDArray[np.floating]

OVERSAMPLE = 4  # BS.1770-4 Annex 2, for 48 kHz and below
SILENT = -70.0  # LUFS given for audio too quiet to gate (BS.1770's absolute gate)
_BLOCK, _HOP = 0.4, 0.25  # gating blocks of 400 ms, each 100 ms after the last
_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770's channel gains: L, R, C, Ls, Rs
_REACH = 12  # input frames each oversampled value depends on (48 taps / 4)
_SPAN = 2048  # frames examined together for the true peak
_FLOOR = 1e-15  # added to keep the filters' numbers normal (see Meter._gate)
_PIECE = 1 << 18  # frames decoded and measured at a time (6 s at 44.1 kHz)


@dataclass(frozen=True, slots=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) of some audio."""

    lufs: float
    peak: float


class Meter:
    """Integrated loudness and true peak of audio fed to it in pieces of any length; the
    same numbers as for the whole at once."""

    def __init__(self, rate: int, channels: int, *, true_peak: bool = True) -> None:
        self.rate = rate
        self.frames = 0  # fed so far
        self._peaks = true_peak
        self._sos = _k_weighting(rate)
        self._state = np.zeros((len(self._sos), channels, 2))
        self._weights = np.array([_WEIGHTS[min(c, 4)] for c in range(channels)])
        self._hops: list[float] = []  # K-weighted energy of each 100 ms, channels weighted
        self._open = 0.0  # of the hop not yet complete
        self._context = np.zeros((channels, _REACH), dtype=np.float32)
        self._peak = 0.0  # largest magnitude so far (linear)

    def feed(self, samples: Floats) -> None:
        """Measure ``samples`` as the audio that follows what was fed before."""
        self.feed_planar(samples.T)

    def feed_planar(self, planar: Floats) -> None:
        """As ``feed``, for samples shaped (channels, frames), as decoders give them."""
        if not planar.shape[1]:
            return
        self._gate(np.array(planar, dtype=np.float64))  # a copy: _gate changes it
        if self._peaks:
            self._true_peak(np.ascontiguousarray(planar, dtype=np.float32))

    def result(self) -> Loudness:
        """What was fed, measured; the meter is done with."""
        if self._peaks:  # the filter's tail: what follows the last frame
            self._true_peak(np.zeros((len(self._context), _REACH), dtype=np.float32))
        return Loudness(self._integrated(), decibels(self._peak))

    def _gate(self, planar: Samples) -> None:
        from scipy.signal import sosfilt

        # Digital silence leaves the filters' state decaying through subnormal numbers, each
        # operation on them 50-100x slower: a signal at -300 dBFS (Nyquist, +-1e-15) keeps
        # them normal and is 230 dB below the absolute gate (10 minutes of speech with 9%
        # zeros: 0.96 s filtered, 0.36 s with it).
        planar[:, (self.frames % 2) :: 2] += _FLOOR
        planar[:, 1 - (self.frames % 2) :: 2] -= _FLOOR
        weighted, self._state = sosfilt(self._sos, planar, axis=-1, zi=self._state)
        energy = self._weights @ np.square(weighted)
        start, end = self.frames, self.frames + planar.shape[1]
        sums = np.concatenate(([0.0], np.cumsum(energy)))
        first = len(self._hops) + 1  # the hop whose start closes the open one
        bounds = _hop_starts(first, end, self.rate)
        at = np.concatenate(([0], bounds - start))
        closed = np.diff(sums[at])
        if len(closed):
            closed[0] += self._open
            self._hops.extend(closed.tolist())
            self._open = float(sums[-1] - sums[at[-1]])
        else:
            self._open += float(sums[-1])
        self.frames = end

    def _integrated(self) -> float:
        """BS.1770-4's integrated loudness, gated absolutely at -70 LUFS and relatively at
        10 LU below the level of the blocks above that; -70 for audio too short or quiet."""
        length = self.frames / self.rate
        if self.frames < _BLOCK * self.rate:
            return SILENT
        blocks = int(np.round((length - _BLOCK) / (_BLOCK * _HOP))) + 1
        hops = np.zeros(blocks + 3)
        known = [*self._hops, self._open][: blocks + 3]
        hops[: len(known)] = known
        power = (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]) / (_BLOCK * self.rate)
        with np.errstate(divide="ignore"):
            level = -0.691 + 10 * np.log10(power)
        loud = power[level >= SILENT]
        if not len(loud):
            return SILENT
        relative = -0.691 + 10 * math.log10(float(np.mean(loud))) - 10
        kept = power[(level > relative) & (level > SILENT)]
        value = -0.691 + 10 * math.log10(float(np.mean(kept))) if len(kept) else -math.inf
        return value if math.isfinite(value) else SILENT

    def _true_peak(self, planar: npt.NDArray[np.float32]) -> None:
        """Take in the oversampled values whose newest input frame is in ``planar``,
        computing only spans whose inputs could reach past the peak so far: no
        oversampled value exceeds the largest input within its reach times the filter's
        gain, ``_bound()``. The span with the largest input first, then the others still
        in question, neighbours together (speech at -16 LUFS leaves most spans out)."""
        frames = np.concatenate((self._context, planar), axis=1)
        self._context = frames[:, -_REACH:]
        magnitude = functools.reduce(np.maximum, np.abs(frames))
        self._peak = max(self._peak, float(magnitude[_REACH:].max()))
        if self.rate > 96_000:
            return
        starts = np.arange(_REACH, len(magnitude), _SPAN)
        own = np.maximum.reduceat(magnitude, starts)
        # Each span's values reach back 11 frames, into the span before (or the context).
        before = np.concatenate(([float(magnitude[:_REACH].max())], own[:-1]))
        bound = np.maximum(own, before) * _bound()
        top = int(np.argmax(bound))
        if bound[top] > self._peak:
            self._peak = max(self._peak, _oversampled_peak(frames, starts[top], starts[top]))
        bound[top] = 0.0  # done: its bound is above its peak, and would have it done again
        for first, last in _runs(np.flatnonzero(bound > self._peak)):
            self._peak = max(self._peak, _oversampled_peak(frames, starts[first], starts[last]))


def _runs(indices: npt.NDArray[np.intp]) -> Iterator[tuple[int, int]]:
    """The first and last of each run of consecutive numbers in sorted ``indices``."""
    if not len(indices):
        return
    breaks = np.flatnonzero(np.diff(indices) > 1)
    firsts = np.concatenate(([indices[0]], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], [indices[-1]]))
    yield from zip(firsts.tolist(), lasts.tolist(), strict=True)


def _hop_starts(first: int, end: int, rate: int) -> npt.NDArray[np.int64]:
    """The first frames of hops ``first``, ``first + 1``… that start at or before frame
    ``end``, reckoned as pyloudnorm reckons its blocks' bounds."""
    last = int(end / (_BLOCK * _HOP * rate)) + 2  # a hop or two past: trimmed below
    starts = (_BLOCK * (np.arange(first, last + 1) * _HOP) * rate).astype(np.int64)
    return starts[starts <= end]


def _oversampled_peak(frames: npt.NDArray[np.float32], first: int, last: int) -> float:
    """The largest magnitude among the oversampled values whose newest input is in the
    spans from frame ``first`` to the span starting at ``last``, every channel
    (``frames`` shaped (channels, frames))."""
    from scipy.signal import upfirdn

    piece = frames[:, first - _REACH + 1 : last + _SPAN]
    start, end = (_REACH - 1) * OVERSAMPLE, piece.shape[1] * OVERSAMPLE
    filtered = (upfirdn(taps(), channel, up=OVERSAMPLE)[start:end] for channel in piece)
    return max(float(np.abs(values).max()) for values in filtered)


@functools.cache
def taps() -> npt.NDArray[np.float32]:
    """The interpolating filter: 48 taps, as Annex 2's example has (a windowed sinc)."""
    from scipy.signal import firwin

    made = firwin(4 * _REACH, 1 / OVERSAMPLE, window=("kaiser", 6.0)) * OVERSAMPLE
    return np.asarray(made, dtype=np.float32)


@functools.cache
def _bound() -> float:
    """The most the filter can make of inputs at most 1: the largest sum of magnitudes of
    the taps any one oversampled value uses (a little over 1; with rounding allowed for)."""
    weights = np.abs(taps().astype(np.float64))
    return float(max(weights[p::OVERSAMPLE].sum() for p in range(OVERSAMPLE))) * 1.0001


@functools.cache
def _k_weighting(rate: int) -> npt.NDArray[np.float64]:
    """BS.1770's K-weighting at ``rate`` as second-order sections: pyloudnorm's shelf and
    high-pass designs, run as one cascade."""
    from pyloudnorm import IIRfilter

    shelf = IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    return np.array([np.concatenate((f.b, f.a)) for f in (shelf, high_pass)])


def decibels(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def integrated(samples: Floats, rate: int) -> float:
    """The integrated loudness of ``samples`` in LUFS (-70 for audio too short or quiet)."""
    meter = Meter(rate, samples.shape[1], true_peak=False)
    meter.feed(samples)
    return meter.result().lufs


class DecodeError(ValueError):
    """The audio could not be decoded for measuring; the message says why."""


def measure_file(source: Path | BinaryIO, *, true_peak: bool = True) -> Loudness:
    """The integrated loudness and true peak (-inf where not asked for) of the audio file
    at ``source`` or read from it (MP3, M4A, anything FFmpeg's decoders read, through
    PyAV's bundled libraries), decoded and measured a few seconds at a time."""
    import av

    try:
        opened = str(source) if isinstance(source, Path) else source
        with av.open(opened, mode="r") as container:
            stream = container.streams.audio[0]
            meter = Meter(int(stream.rate), len(stream.layout.channels), true_peak=true_peak)
            for planar in _decoded(container, stream):
                meter.feed_planar(planar)
    except av.FFmpegError as exc:  # str() of it is "[Errno n] what: 'the C call'"
        # FFmpeg names some errors only by number ("Error number -50531338 occurred").
        said = "" if str(exc.strerror).startswith("Error number") else f" ({exc.strerror})"
        raise DecodeError(
            f"cannot decode the audio to measure its loudness{said}; is the file damaged?"
        ) from exc
    except (IndexError, ValueError) as exc:
        raise DecodeError(f"cannot decode the audio to measure its loudness: {exc}") from exc
    if not meter.frames:
        raise DecodeError("no audio decoded to measure its loudness")
    return meter.result()


def _decoded(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[npt.NDArray[np.float32]]:
    """The stream's audio as planar floats shaped (channels, frames), ``_PIECE`` frames at
    a time (the last piece shorter). The decoded frames (26 ms each for MP3) are gathered
    in FFmpeg's own queue rather than taken into numpy one by one, which halves the time
    a short file takes (25 s of 22.05 kHz mono: 8 ms against 15)."""
    import av

    # Passes planar floats through untouched (MP3 and AAC decode to them).
    convert = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.rate)
    queue = av.AudioFifo()
    for frame in container.decode(stream):
        _enqueue(queue, convert.resample(frame))
        if queue.samples >= _PIECE:
            yield _floats(queue.read(_PIECE))
    _enqueue(queue, convert.resample(None))
    if queue.samples:
        yield _floats(queue.read())


def _enqueue(queue: av.AudioFifo, frames: list[av.AudioFrame]) -> None:
    for frame in frames:
        frame.pts = None  # the queue would check that the timestamps follow on
        queue.write(frame)


def _floats(frame: av.AudioFrame | None) -> npt.NDArray[np.float32]:
    assert frame is not None  # read only when the queue holds samples
    return np.asarray(frame.to_ndarray(), dtype=np.float32)  # planar floats: not copied
