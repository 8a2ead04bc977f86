"""Benchmark castcal's encoding of masters: WAV and FLAC masters encoded, normalised and
measured on a first build, and nothing of it done on a build with nothing changed.

    python bench/masters.py                           # 20 masters of 10 minutes, 3 runs
    python bench/masters.py --masters 2 --minutes 0.5 --runs 1

Kept apart from run.py, so the main table stays comparable. Half the masters are 24-bit
48 kHz stereo WAV, half 16-bit 44.1 kHz mono FLAC, of speech-like sound at -30 and -12
LUFS. Each timing is a whole process; the table gives the median, and the seconds each
build takes per hour of audio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import REPO, config  # noqa: E402
from run import castcal, clean, compile_castcal, timed  # noqa: E402

PIECE = 10.0  # seconds of sound made, repeated to the master's length


def speech_like(rate: int, channels: int, seed: int) -> np.ndarray:
    """Ten seconds of pink noise below 8 kHz in bursts at a syllable's pace, peak 1.0."""
    count = round(PIECE * rate)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal((count, channels)), axis=0)
    freqs = np.fft.rfftfreq(count, 1 / rate)
    shape = np.where((freqs > 60) & (freqs < 8000), 1 / np.sqrt(np.maximum(freqs, 1)), 0)
    noise = np.fft.irfft(spectrum * shape[:, None], n=count, axis=0)
    bursts = 0.2 + 0.8 * np.abs(np.sin(2 * np.pi * 2.5 * np.arange(count) / rate))
    out = noise * bursts[:, None]
    return np.asarray(out / np.max(np.abs(out)))


def make_project(root: Path, masters: int, minutes: float) -> Path:
    """A project of ``masters`` episodes, each a master of ``minutes``."""
    root.mkdir(parents=True)
    (root / "config.toml").write_text(config("https://bench.example.org/pod/"), "utf-8")
    shutil.copy(REPO / "cover.jpg", root / "cover.jpg")
    for n in range(1, masters + 1):
        folder = root / "episodes" / f"master-{n:03d}"
        folder.mkdir(parents=True)
        wav = n % 2 == 1
        rate, channels = (48_000, 2) if wav else (44_100, 1)
        level = 10 ** (-26 / 20) if wav else 10 ** (-8 / 20)  # about -30 and -12 LUFS
        piece = speech_like(rate, channels, seed=n) * level
        repeats = max(1, round(minutes * 60 / PIECE))
        name = "master.wav" if wav else "master.flac"
        subtype = "PCM_24" if wav else "PCM_16"
        soundfile.write(folder / name, np.tile(piece, (repeats, 1)), rate, subtype)
        (folder / "episode.toml").write_text(
            f'title = "Master {n}"\nnumber = {n}\npublished = 2026-09-01T07:00:00+01:00\n'
            f'audio = "{name}"\nsummary = "Et opptak levert som master, del {n}."\n\n'
            '[[segments]]\nkind = "endringspraten"\nstart = "0:00"\ntitle = "Samtale"\n\n'
            '[[segments]]\nkind = "endringsnemda"\nstart = "0:05"\ntitle = "Sak"\n',
            "utf-8",
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--masters", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    compile_castcal()
    hours = args.masters * max(PIECE, round(args.minutes * 60 / PIECE) * PIECE) / 3600
    times: dict[str, list[float]] = {"cold": [], "no_change": []}
    with tempfile.TemporaryDirectory(prefix="castcal-masters-") as tmp:
        project = make_project(Path(tmp) / "project", args.masters, args.minutes)
        trash = Path(tmp) / "trash"
        for _ in range(args.runs):
            clean(project, trash)
            times["cold"].append(timed(castcal(project))[0])
            times["no_change"].append(timed(castcal(project))[0])
    result = {
        name: {
            "median": round(statistics.median(values), 3),
            "per_hour_of_audio": round(statistics.median(values) / hours, 3),
            "runs": len(values),
        }
        for name, values in times.items()
    }
    result["parameters"] = {
        "masters": args.masters,
        "minutes": args.minutes,
        "hours_of_audio": round(hours, 3),
        "cpus": os.cpu_count(),
    }
    print("| build | median s | s per hour of audio |\n|---|---|---|")
    for name in ("cold", "no_change"):
        print(f"| {name} | {result[name]['median']} | {result[name]['per_hour_of_audio']} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
