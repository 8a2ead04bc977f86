"""A synthetic castcal project of any size, the same for the same seed.

Audio is real MP3 made with lameenc: a handful of encodes of a two-second chunk at
different bitrates (a few VBR, which lameenc writes without a Xing header), repeated to
give each episode its own length. Whole MPEG frames concatenate into a valid stream.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
from array import array
from datetime import date, datetime, timedelta
from pathlib import Path

import lameenc

REPO = Path(__file__).resolve().parents[1]
RATE = 22050
# (name, bitrate in kbps or None for VBR, VBR quality): CBR at three rates, two VBR
VARIANTS = [
    ("cbr32", 32, 0),
    ("cbr48", 48, 0),
    ("cbr64", 64, 0),
    ("vbr4", None, 4),
    ("vbr7", None, 7),
]


def chunk(bitrate: int | None, quality: int, seed: int) -> bytes:
    """Two seconds of speech-like sound: bursts of tone between near-silence."""
    rng = random.Random(seed)
    samples = array("h")
    for n in range(2 * RATE):
        t = n / RATE
        loud = (t * 3 + rng.random() * 0.01) % 1.0 > 0.35
        freq = 200 + 1800 * ((t * 2.5) % 1.0)
        samples.append(int((7100 if loud else 32) * math.sin(2 * math.pi * freq * t)))
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(5)
    if bitrate is None:
        encoder.set_vbr(4)
        encoder.set_vbr_quality(quality)
    else:
        encoder.set_bit_rate(bitrate)
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


def config(episodes_base: str) -> str:
    text = (REPO / "config.toml").read_text("utf-8")
    return text.replace("https://www.example.org/endringspodden/", episodes_base)


def make_project(root: Path, episodes: int, meetings: int, seed: int) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(config("https://bench.example.org/pod/"), "utf-8")
    shutil.copy(REPO / "cover.jpg", root / "cover.jpg")
    chunks = {name: chunk(br, q, seed + i) for i, (name, br, q) in enumerate(VARIANTS)}
    # Every episode already published at the bench's build time (SOURCE_DATE_EPOCH, in
    # September 2026): the last on 1 September 2026, the others a week apart, or a day
    # apart where weeks would reach back before 1990 (10,000 episodes).
    last = datetime(2026, 9, 1, 7, 0)
    step = timedelta(days=max(1, min(7, (last - datetime(1990, 1, 1)).days // max(episodes, 1))))
    for n in range(1, episodes + 1):
        folder = root / "episodes" / f"episode-{n:05d}"
        folder.mkdir(parents=True)
        variant = rng.choice(["cbr32", "cbr48", "cbr64", "cbr32", "cbr48", "vbr4", "vbr7"])
        repeats = rng.randint(3, 12)
        (folder / "audio.mp3").write_bytes(chunks[variant] * repeats)
        nemda = max(1, int(repeats * 2 * rng.uniform(0.4, 0.7)))
        published = last - step * (episodes - n)
        notes = 'notes = "notes.md"\n' if n % 3 == 0 else ""
        if notes:
            (folder / "notes.md").write_text(
                f"## Endringspraten\n\nSamtale nummer {n} om **endringsledelse**.\n\n"
                f"## Endringsnemda\n\n- en sak fra en lytter\n- et råd fra panelet\n",
                "utf-8",
            )
        # A transcript, as every episode of a public body's has: a cue in each segment.
        (folder / "transcript.vtt").write_text(
            f"WEBVTT\n\n00:00:00.000 --> 00:00:{nemda:02d}.000\n<v Vert>Samtale {n} om"
            f" endringsledelse.\n\n00:00:{nemda:02d}.000 --> 00:00:{repeats * 2:02d}.000\n"
            f"<v Panelet>Sak {n}: et spørsmål fra en lytter.\n",
            "utf-8",
        )
        (folder / "episode.toml").write_text(
            f'title = "Episode {n}: endring i praksis"\nnumber = {n}\n'
            f"published = {published:%Y-%m-%dT%H:%M:%S}+01:00\n"
            f'audio = "audio.mp3"\nsummary = "Endringspraten og endringsnemda, del {n}."\n'
            f'{notes}transcript = "transcript.vtt"\n\n'
            f'[[segments]]\nkind = "endringspraten"\nstart = "0:00"\n'
            f'title = "Samtale {n}"\n\n'
            f'[[segments]]\nkind = "endringsnemda"\nstart = "{nemda // 60}:{nemda % 60:02d}"\n'
            f'title = "Sak {n}"\n',
            "utf-8",
        )
    events = root / "events"
    events.mkdir(exist_ok=True)
    day = date(2017, 3, 3)
    for n in range(1, meetings + 1):
        day += timedelta(days=rng.choice([7, 14, 21]))
        status = "cancelled" if n % 40 == 0 else "confirmed"
        speakers = "".join(
            f'\n[[speakers]]\nname = "Innleder {n}-{k}"\naffiliation = "Etat {k}"\n'
            for k in range(1, rng.randint(1, 3) + 1)
        )
        (events / f"{day:%Y-%m-%d}-frokost-{n:05d}.toml").write_text(
            f'title = "Endring til frokost {n}"\nstart = {day:%Y-%m-%d}T08:00:00\n'
            f'end = {day:%Y-%m-%d}T09:30:00\nstatus = "{status}"\n'
            f'description = "Frokostmøte nummer {n} om endringsledelse i praksis."\n'
            f"{speakers}",
            "utf-8",
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    make_project(args.folder, args.episodes, args.meetings, args.seed)


if __name__ == "__main__":
    main()
