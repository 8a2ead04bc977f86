"""Masters (WAV, FLAC) encoded into loudness-normalised MP3s, measured by ffmpeg."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from tests.conftest import DATA, Run, need_program

QUIET, LOUD = "hva-er-endringsledelse", "digital-transformasjon"
SECONDS = 16.0  # the sample's segments start at 0:00 and 0:11
FRAME = 1152


def speech_like(seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    """Pink noise below 8 kHz, in bursts at a syllable's pace: a spectrum like a voice's
    (LAME's low-pass leaves it as it is), a peak-to-loudness ratio like speech."""
    count = round(seconds * rate)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal((count, channels)), axis=0)
    freqs = np.fft.rfftfreq(count, 1 / rate)
    shape = np.where((freqs > 60) & (freqs < 8000), 1 / np.sqrt(np.maximum(freqs, 1)), 0)
    noise = np.fft.irfft(spectrum * shape[:, None], n=count, axis=0)
    t = np.arange(count) / rate
    bursts = 0.2 + 0.8 * np.abs(np.sin(2 * np.pi * 2.5 * t))
    out = noise * bursts[:, None]
    return np.asarray(out / np.max(np.abs(out)))


def at_loudness(samples: np.ndarray, rate: int, lufs: float) -> np.ndarray:
    """``samples`` at ``lufs``, clipped at full scale where that needs more than it."""
    meter = pyloudnorm.Meter(rate)
    out = samples
    for _ in range(6):
        gain = 10 ** ((lufs - meter.integrated_loudness(out)) / 20)
        out = np.clip(out * gain, -1.0, 1.0)
    return out


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak of ``path`` as ffmpeg measures them."""
    ffmpeg = need_program("ffmpeg")
    command: list[str | Path] = [ffmpeg, "-nostats", "-i", path, "-af", "ebur128=peak=true"]
    command += ["-f", "null", "-"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    summary = out[out.rindex("Summary:") :]
    lufs = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert lufs and peak, summary
    return float(lufs.group(1)), float(peak.group(1))


def decoded_samples(path: Path) -> int:
    """Samples per channel ffmpeg decodes of ``path`` (mono, 44.1 kHz)."""
    ffmpeg = need_program("ffmpeg")
    command: list[str | Path] = [ffmpeg, "-v", "error", "-i", path, "-ac", "1", "-ar", "44100"]
    out = subprocess.run([*command, "-f", "s16le", "-"], capture_output=True, check=True)
    assert out.stderr == b"", out.stderr
    return len(out.stdout) // 2


def use_master(project: Path, episode: str, name: str) -> None:
    folder = project / "episodes" / episode
    (folder / "audio.mp3").unlink()
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text().replace('audio = "audio.mp3"', f'audio = "{name}"'))


@pytest.fixture
def masters(project: Path) -> Path:
    """The sample with a 24-bit 48 kHz stereo WAV at -30 LUFS and a 16-bit 44.1 kHz mono
    FLAC at -10 LUFS with peaks at full scale in place of its MP3s."""
    quiet = at_loudness(speech_like(SECONDS, 48_000, 2, seed=1), 48_000, -30.0)
    soundfile.write(project / "episodes" / QUIET / "master.wav", quiet, 48_000, "PCM_24")
    loud = at_loudness(speech_like(SECONDS, 44_100, 1, seed=2), 44_100, -10.0)
    assert np.max(np.abs(loud)) == 1.0
    soundfile.write(project / "episodes" / LOUD / "master.flac", loud, 44_100, "PCM_16")
    use_master(project, QUIET, "master.wav")
    use_master(project, LOUD, "master.flac")
    return project


def build(project: Path, castcal: Callable[..., Run]) -> None:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr


def test_masters_are_published_at_the_shows_loudness(
    masters: Path, castcal: Callable[..., Run]
) -> None:
    build(masters, castcal)
    audio = masters / "feeds" / "audio"
    for episode in (QUIET, LOUD):
        lufs, peak = ebur128(audio / f"{episode}.mp3")
        # Apple allows 1 LU either way; castcal makes good what the encoder takes.
        assert abs(lufs + 16.0) <= 0.3, (episode, lufs)
        assert peak <= -0.5, (episode, peak)
        assert abs(decoded_samples(audio / f"{episode}.mp3") - SECONDS * 44_100) <= FRAME
        for kind in ("endringspraten", "endringsnemda"):
            assert decoded_samples(audio / f"{episode}-{kind}.mp3") > 0


def test_a_master_is_encoded_once_per_version_and_setting(
    masters: Path, castcal: Callable[..., Run]
) -> None:
    build(masters, castcal)
    made = masters / ".castcal-cache" / "masters"
    first = {path.name: path.stat().st_mtime_ns for path in made.iterdir()}
    assert len(first) == 2
    build(masters, castcal)
    assert {path.name: path.stat().st_mtime_ns for path in made.iterdir()} == first
    config = masters / "config.toml"
    config.write_text(config.read_text() + "\n[audio]\nloudness = -19.0\n")
    build(masters, castcal)
    newer = {path.name for path in made.iterdir()}
    assert len(newer) == 2 and not newer & set(first)  # the old encodes removed
    lufs, _ = ebur128(masters / "feeds" / "audio" / f"{QUIET}.mp3")
    assert abs(lufs + 19.0) <= 0.3


def test_a_master_at_another_rate_is_refused(project: Path, castcal: Callable[..., Run]) -> None:
    samples = speech_like(SECONDS, 32_000, 1, seed=3) * 0.3
    soundfile.write(project / "episodes" / QUIET / "master.wav", samples, 32_000, "PCM_16")
    use_master(project, QUIET, "master.wav")
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert f"episodes/{QUIET}/master.wav" in result.stderr or QUIET in result.stderr
    assert "castcal encodes masters of 44.1 or 48 kHz" in result.stderr
    assert not (project / "feeds").exists()


def test_peaks_the_gain_would_push_over_the_limit_are_limited(tmp_path: Path) -> None:
    """Speech at -30 LUFS with clicks at -4 dBTP: the 14 dB of gain it needs would put them
    10 dB over full scale; the limiter holds them under -1 dBTP at full loudness."""
    from castcal.content.config import Audio
    from castcal.media import encode

    rate = 48_000
    samples = speech_like(SECONDS, rate, 1, seed=4) * 0.25
    samples[rate // 2 :: rate] = 0.99  # a click each second
    samples = at_loudness(samples, rate, -30.0)
    master = tmp_path / "master.wav"
    soundfile.write(master, samples, rate, "PCM_24")
    assert ebur128(master)[1] > -5.0
    made = encode.encode(master, Audio(), tmp_path / "made.mp3")
    assert made.before.peak + (-16.0 - made.before.lufs) > 9.0  # the gain alone
    lufs, peak = ebur128(tmp_path / "made.mp3")
    assert abs(lufs + 16.0) <= 0.3
    assert peak <= -0.5


def test_check_reports_each_episodes_loudness_as_ffmpeg_measures_it(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Every episode's loudness is measured, [audio] in config.toml or not; the sample's
    MP3s sit at the show's -16 LUFS, so --strict passes."""
    result = castcal("check", "--strict", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    for episode in (QUIET, LOUD):
        line = next(x for x in result.stdout.splitlines() if x.startswith(f"{episode}: "))
        said = re.fullmatch(
            rf"{episode}: (-[\d.]+) LUFS, peak (-[\d.]+) dBTP: (?:at the show's -16 LUFS"
            r"|([\d.]+) LU (quieter|louder) than the show's -16 LUFS)",
            line,
        )
        assert said, line
        lufs, peak = ebur128(project / "episodes" / episode / "audio.mp3")
        assert abs(float(said.group(1)) - lufs) <= 0.3
        assert abs(float(said.group(2)) - peak) <= 0.3
        if said.group(3) is not None:
            sign = 1 if said.group(4) == "louder" else -1
            differs = float(said.group(1)) + 16.0
            assert sign * float(said.group(3)) == pytest.approx(differs, abs=0.051)


def test_a_quiet_episode_is_warned_of_and_strict_fails(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """The sample's MP3 made 6 dB quieter (as an editor's export might be): check warns,
    naming the file, and --strict fails."""
    ffmpeg = need_program("ffmpeg")
    mp3 = project / "episodes" / QUIET / "audio.mp3"
    quieter = mp3.with_name("quieter.mp3")
    command: list[str | Path] = [ffmpeg, "-v", "error", "-i", mp3, "-af", "volume=-6dB"]
    subprocess.run([*command, "-c:a", "libmp3lame", "-b:a", "64k", quieter], check=True)
    quieter.replace(mp3)
    lufs, _ = ebur128(mp3)
    config = project / "config.toml"
    checked = castcal("check", "--config", config)
    assert checked.exit_code == 0
    said = re.search(rf"warning: episodes/{QUIET}/audio.mp3: audio: (-[\d.]+) LUFS", checked.stderr)
    assert said, checked.stderr
    assert abs(float(said.group(1)) - lufs) <= 0.3
    assert "LU quieter than the show's -16 LUFS; podcast apps expect" in checked.stderr
    assert f"episodes/{LOUD}/" not in checked.stderr
    strict = castcal("check", "--strict", "--config", config)
    assert strict.exit_code == 1
    assert f"episodes/{QUIET}/audio.mp3: audio: {said.group(1)} LUFS" in strict.stderr


def test_audio_that_cannot_be_decoded_is_published_and_warned_of(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """An M4A whose boxes mutagen reads but whose AAC no decoder can play: it is published
    as it is, and check says its loudness could not be measured (--strict fails)."""
    folder = project / "episodes" / QUIET
    data = bytearray((DATA / "audio" / "speech.m4a").read_bytes())
    body = data.index(b"mdat") + 4
    data[body:] = b"\xff" * (len(data) - body)  # the boxes whole, the AAC garbled
    (folder / "lyd.m4a").write_bytes(data)
    toml = folder / "episode.toml"
    text = toml.read_text().replace('audio = "audio.mp3"', 'audio = "lyd.m4a"')
    toml.write_text(text.replace('start = "0:11"', 'start = "0:01.5"'))
    config = project / "config.toml"
    built = castcal("build", "--config", config)
    assert built.exit_code == 0, built.stderr
    warning = (
        f"warning: episodes/{QUIET}/lyd.m4a: audio: cannot decode the audio to measure its loudness"
    )
    assert warning in built.stderr
    assert (project / "feeds" / "audio" / f"{QUIET}.m4a").read_bytes()
    strict = castcal("check", "--strict", "--config", config)
    assert strict.exit_code == 1
    assert warning.removeprefix("warning: ") in strict.stderr


def test_masters_pass_the_shows_loudness_and_the_manifest_records_it(
    masters: Path, castcal: Callable[..., Run]
) -> None:
    config = masters / "config.toml"
    config.write_text(config.read_text() + "\n[audio]\nloudness = -16.0\ntrue_peak = -1.0\n")
    result = castcal("build", "--strict", "--config", config)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((masters / "feeds" / "manifest.json").read_text())
    for episode in (QUIET, LOUD):
        item = manifest["episodes"][episode]
        lufs, peak = ebur128(masters / "feeds" / "audio" / f"{episode}.mp3")
        assert abs(item["loudness"] - lufs) <= 0.3
        assert abs(item["true_peak"] - peak) <= 0.3


def on_a_terminal(project: Path) -> str:
    """What ``castcal build`` in ``project`` shows on a terminal (stdout and stderr)."""
    ours, theirs = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(ours, 4096)
            except OSError:  # the other end closed
                return
            if not data:
                return
            seen.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        command = [sys.executable, "-m", "castcal", "build", "--config", "config.toml"]
        run = subprocess.run(command, cwd=project, stdout=theirs, stderr=theirs, check=False)
    finally:
        os.close(theirs)
        reader.join(timeout=30)
        os.close(ours)
    shown = b"".join(seen).decode("utf-8", "replace")
    assert run.returncode == 0, shown
    return shown


def test_encoding_masters_shows_progress_on_a_terminal(masters: Path) -> None:
    """Masters take seconds each: on a terminal the build shows a bar while it encodes
    them (on stderr; nothing of it when the output is not a terminal)."""
    assert "Encoding masters" in on_a_terminal(masters)
    command = [sys.executable, "-m", "castcal", "build", "--config", "config.toml"]
    shutil.rmtree(masters / ".castcal-cache")  # encoded again, into a pipe this time
    piped = subprocess.run(command, cwd=masters, capture_output=True, text=True, check=True)
    assert "Encoding" not in piped.stdout + piped.stderr


def test_measuring_much_new_audio_shows_progress_on_a_terminal(project: Path) -> None:
    """Two minutes of 320 kbps MP3 (4.4 MB) new to the build: measured on every core, with
    a bar on a terminal; the next build measures nothing and shows none."""
    from tests.audio_factory import mp3

    chunk = mp3(10.0, vbr=False, bitrate=320, rate=44_100)  # whole frames: they repeat
    (project / "episodes" / QUIET / "audio.mp3").write_bytes(chunk * 11)
    assert "Measuring loudness" in on_a_terminal(project)
    assert "Measuring" not in on_a_terminal(project)
