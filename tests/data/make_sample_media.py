"""Regenerate the sample content's audio, transcripts and cover art.

The files this writes are committed; run it only when the sample texts change:

    python tests/data/make_sample_media.py [--audio | --transcripts]

--audio makes the audio and the transcripts, --transcripts the transcripts alone; neither
the cover.

Each episode's transcript.vtt holds the texts spoken, a cue per sentence, timed from the
audio itself: the pauses ffmpeg's silencedetect finds, the longest ones between sentences.

It needs espeak-ng (Norwegian voice ``nb``), sox, lame and ffmpeg from Debian, Pillow, and
castcal installed: its loudness normalisation brings the speech to the show's -16 LUFS with true
peaks under -1 dBTP, measured on the MP3 as castcal measures it.
espeak-ng's output can differ between its versions, so tests assert durations with a
tolerance, never the audio bytes.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from pathlib import Path

import soundfile
from PIL import Image, ImageDraw, ImageFont

from castcal.media.loudness import measure_file
from castcal.media.normalise import normalise

ROOT = Path(__file__).resolve().parents[2]

# Each episode is spoken in two parts; the first part is padded to a whole number of
# seconds so that the second segment starts exactly where episode.toml says.
EPISODES: dict[str, tuple[str, str, list[str]]] = {
    "hva-er-endringsledelse": (
        "Velkommen til Difis endringspodd. I endringspraten spør vi: hva er egentlig "
        "endringsledelse, og hvorfor er det så vanskelig å lykkes med endring i staten?",
        "Nå er det tid for endringsnemda. Panelet drøfter en sak fra en lytter som skal "
        "lede en omorganisering med mange bekymrede medarbeidere.",
        ["--cbr", "-b", "32"],
    ),
    "digital-transformasjon": (
        "I endringspraten i dag møter vi Svein Kristensen, leder av Digitaliseringsrådet. "
        "Vi snakker om digital transformasjon som driver for endring.",
        "I endringsnemda tar vi opp et spørsmål fra en leder som skal innføre en ny "
        "digital tjeneste, og lurer på hvordan hun får med seg hele avdelingen.",
        ["-V", "9"],
    ),
}


def run(*args: str) -> None:
    subprocess.run(args, check=True)


def seconds(wav: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(wav)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def make_audio(folder: Path, first: str, second: str, lame_args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for name, text in (("a", first), ("b", second)):
            run("espeak-ng", "-v", "nb", "-s", "165", "-w", str(t / f"{name}_raw.wav"), text)
            run(
                "sox",
                str(t / f"{name}_raw.wav"),
                "-r",
                "22050",
                "-c",
                "1",
                "-b",
                "16",
                str(t / f"{name}.wav"),
            )
        pad = math.ceil(seconds(t / "a.wav")) - seconds(t / "a.wav")
        run("sox", str(t / "a.wav"), str(t / "a_pad.wav"), "pad", "0", f"{pad:.6f}")
        run("sox", str(t / "a_pad.wav"), str(t / "b.wav"), str(t / "all.wav"))
        samples, rate = soundfile.read(t / "all.wav", dtype="float64", always_2d=True)
        target, ceiling = -16.0, -1.5
        for _ in range(6):  # a low bitrate adds to the peaks and takes a little loudness
            loud, before = normalise(samples, rate, target, ceiling)
            soundfile.write(t / "loud.wav", loud, rate, subtype="PCM_16")
            mp3 = folder / "audio.mp3"
            run("lame", "--quiet", "-m", "m", *lame_args, str(t / "loud.wav"), str(mp3))
            made = measure_file(mp3)
            if made.peak <= -1.2 and abs(made.lufs + 16.0) <= 0.2:
                break
            ceiling -= max(0.0, made.peak + 1.2)
            target -= made.lufs + 16.0
        print(
            f"{folder.name}: spoken at {before.lufs:.1f} LUFS, published at {made.lufs:.1f} "
            f"LUFS, true peak {made.peak:.1f} dBTP",
            file=sys.stderr,
        )
        print(folder.name, "endringsnemda starts at", round(seconds(t / "a_pad.wav")), "s")


def speech(mp3: Path) -> list[tuple[float, float]]:
    """Where ``mp3`` is not silent: the spans between the pauses of 0.2 s or more."""
    run_ = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(mp3), "-af", "silencedetect=n=-45dB:d=0.2",
         "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    starts = [float(v) for v in re.findall(r"silence_start: ([\d.]+)", run_.stderr)]
    ends = [float(v) for v in re.findall(r"silence_end: ([\d.]+)", run_.stderr)]
    hours, minutes, seconds_ = re.findall(r"time=(\d+):(\d+):([\d.]+)", run_.stderr)[-1]
    total = int(hours) * 3600 + int(minutes) * 60 + float(seconds_)
    edges = [0.0, *(x for pair in zip(starts, ends, strict=False) for x in pair), total]
    spans = list(zip(edges[::2], edges[1::2], strict=False))
    return [(a, b) for a, b in spans if b - a > 0.05]


def stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def make_transcript(folder: Path, parts: list[str], second_starts: float) -> None:
    """transcript.vtt: each sentence of ``parts`` a cue, over the spans of speech the
    longest pauses of its part divide it into; lines of at most 65 characters."""
    spans = speech(folder / "audio.mp3")
    cues = []
    for index, text in enumerate(parts):
        mine = [s for s in spans if (s[0] >= second_starts) == (index == 1)]
        sentences = re.split(r"(?<=[.?!])\s+", text)
        gaps = sorted(range(1, len(mine)), key=lambda i: mine[i][0] - mine[i - 1][1])
        cuts = [0, *sorted(gaps[len(gaps) - len(sentences) + 1 :]), len(mine)]
        for sentence, (a, b) in zip(sentences, itertools.pairwise(cuts), strict=True):
            lines = "\n".join(textwrap.wrap(sentence, 65))
            cues.append(f"{stamp(mine[a][0])} --> {stamp(mine[b - 1][1])}\n{lines}")
    text = "WEBVTT\n\n" + "\n\n".join(cues) + "\n"
    (folder / "transcript.vtt").write_text(text, encoding="utf-8")


def make_cover(path: Path) -> None:
    size = 1400
    img = Image.new("RGB", (size, size), (16, 58, 92))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 980, size, size), fill=(242, 169, 59))
    big = ImageFont.load_default(size=150)
    small = ImageFont.load_default(size=70)
    draw.text((110, 330), "Difis", font=big, fill=(255, 255, 255))
    draw.text((110, 500), "endringspodd", font=big, fill=(255, 255, 255))
    draw.text((110, 1130), "Endringspraten · Endringsnemda", font=small, fill=(16, 58, 92))
    img.save(path, "JPEG", quality=80, optimize=True, dpi=(72, 72))  # Apple: 72 dpi


def segment_start(folder: Path) -> float:
    """Where the episode's second segment starts, in seconds (episode.toml: "M:SS")."""
    start = tomllib.loads((folder / "episode.toml").read_text())["segments"][1]["start"]
    minutes, seconds_ = start.split(":")
    return int(minutes) * 60 + int(seconds_)


def main() -> None:
    if sys.argv[1:] == ["--transcripts"]:  # timed from the audio as it is
        for episode_id, (first, second, _) in EPISODES.items():
            folder = ROOT / "episodes" / episode_id
            make_transcript(folder, [first, second], segment_start(folder))
        return
    if sys.argv[1:] == ["--audio"]:  # the audio only: Pillow's JPEG bytes change with it
        for episode_id, (first, second, lame_args) in EPISODES.items():
            folder = ROOT / "episodes" / episode_id
            make_audio(folder, first, second, lame_args)
            make_transcript(folder, [first, second], segment_start(folder))
        return
    for episode_id, (first, second, lame_args) in EPISODES.items():
        folder = ROOT / "episodes" / episode_id
        folder.mkdir(parents=True, exist_ok=True)
        make_audio(folder, first, second, lame_args)
        make_transcript(folder, [first, second], segment_start(folder))
    make_cover(ROOT / "cover.jpg")


if __name__ == "__main__":
    main()
