"""The loudness meter: BS.1770-4 integrated loudness as pyloudnorm measures it and the
true peak of the 4x oversampled signal, the same however the audio is fed to it."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import upfirdn

from castcal.media import loudness


def programme(seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    """Noise in bursts with stretches of digital silence and of near silence between them,
    channels at different levels: what the gates and the filters' state must get right."""
    rng = np.random.default_rng(seed)
    count = round(seconds * rate)
    out = rng.standard_normal((count, channels)) * 0.1
    t = np.arange(count) / rate
    out *= (0.3 + np.abs(np.sin(2 * np.pi * 0.7 * t)))[:, None]
    out[round(1.3 * rate) : round(2.9 * rate)] = 0.0  # digital silence
    out[round(4.0 * rate) : round(5.5 * rate)] *= 1e-4  # under the absolute gate
    out *= np.linspace(1.0, 0.4, channels)[None, :]
    return out


def measured_whole(samples: np.ndarray, rate: int) -> loudness.Loudness:
    """``samples`` fed to a meter all at once."""
    meter = loudness.Meter(rate, samples.shape[1])
    meter.feed(samples)
    return meter.result()


def fed_in_pieces(samples: np.ndarray, rate: int, seed: int) -> loudness.Loudness:
    """``samples`` fed to a meter in pieces of random length, one of them empty."""
    meter = loudness.Meter(rate, samples.shape[1])
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, len(samples), 12))
    for piece in np.split(samples, [0, *cuts.tolist()]):
        meter.feed(piece)
    assert meter.frames == len(samples)
    return meter.result()


def oversampled_peak(samples: np.ndarray) -> float:
    """The true peak of the whole at once: every channel through the interpolator, the
    filter's tail included, in dBTP."""
    taps = loudness.taps().astype(np.float64)
    peak = max(
        float(np.abs(upfirdn(taps, channel, up=loudness.OVERSAMPLE)).max()) for channel in samples.T
    )
    return loudness.decibels(max(peak, float(np.abs(samples).max())))


@pytest.mark.parametrize(
    ("rate", "channels"), [(44_100, 1), (44_100, 2), (48_000, 2), (22_050, 1), (48_000, 5)]
)
def test_integrated_loudness_is_pyloudnorms_however_the_audio_is_fed(
    rate: int, channels: int
) -> None:
    samples = programme(9.0, rate, channels, seed=rate + channels)
    expected = pyloudnorm.Meter(rate).integrated_loudness(samples)
    whole = measured_whole(samples, rate)
    pieces = fed_in_pieces(samples, rate, seed=channels)
    assert whole.lufs == pytest.approx(expected, abs=1e-6)
    assert pieces.lufs == pytest.approx(expected, abs=1e-6)
    assert loudness.integrated(samples, rate) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("rate", "channels"), [(44_100, 2), (48_000, 1), (22_050, 2)])
def test_true_peak_is_the_whole_oversampled_signals_however_the_audio_is_fed(
    rate: int, channels: int
) -> None:
    samples = programme(7.0, rate, channels, seed=channels)
    # A loud click in one channel, in the middle of a piece and of a span, and one on the
    # very last frame, where only the filter's tail shows its peak.
    samples[round(3.1 * rate), -1] = 0.9
    samples[-1, 0] = -0.8
    expected = oversampled_peak(samples)
    assert measured_whole(samples, rate).peak == pytest.approx(expected, abs=1e-4)
    assert fed_in_pieces(samples, rate, seed=7).peak == pytest.approx(expected, abs=1e-4)


def test_a_true_peak_away_from_the_largest_sample_and_across_two_pieces() -> None:
    """The largest sample (a click of 0.8) is not where the true peak is: that is between
    two samples of 0.72 before it, fed in two pieces split between them."""
    rate = 44_100
    samples = programme(6.0, rate, 1, seed=3) * 0.5
    samples[5 * rate] = 0.8
    pair = round(4.2 * rate)
    samples[pair : pair + 2] = 0.72
    expected = oversampled_peak(samples)
    assert expected > loudness.decibels(0.8) + 0.5  # the scene is as described
    meter = loudness.Meter(rate, 1)
    meter.feed(samples[: pair + 1])
    meter.feed(samples[pair + 1 :])
    assert meter.result().peak == pytest.approx(expected, abs=1e-4)


def test_the_true_peak_finds_the_peaks_between_samples() -> None:
    """A full-scale sine at a quarter of the rate, sampled 45 degrees off its crests: every
    sample is at -3.01 dBFS, the true peak at 0 dBTP (BS.1770-4 Annex 2's reason)."""
    rate = 48_000
    t = np.arange(rate * 2)
    samples = np.sin(np.pi / 2 * t + np.pi / 4)[:, None]
    assert loudness.decibels(float(np.abs(samples).max())) == pytest.approx(-3.01, abs=0.01)
    assert measured_whole(samples, rate).peak == pytest.approx(0.0, abs=0.1)


def test_silence_and_audio_too_short_to_gate() -> None:
    rate = 44_100
    silent = measured_whole(np.zeros((rate * 3, 2)), rate)
    assert silent.lufs == loudness.SILENT and silent.peak == -math.inf
    short = np.full((rate // 4, 1), 0.5)  # 250 ms: shorter than one 400 ms block
    assert measured_whole(short, rate).lufs == loudness.SILENT
