"""Regenerate the audio fixtures in tests/data/audio/ (committed; run only to change them):

    python tests/data/make_audio_fixtures.py

Needs espeak-ng, sox, lame and ffmpeg (with libopus and libvorbis) from Debian. Every file
holds the same 3.000 s of Norwegian speech, so each test knows the true duration.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

from castcal.media import mpeg

OUT = Path(__file__).resolve().parent / "audio"
TEXT = "Velkommen til endringspraten. Og nå: endringsnemda."
FFMPEG = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]


def run(*args: str) -> None:
    subprocess.run(args, check=True)


def vbri(source: Path, target: Path) -> None:
    """A VBR MP3 with a Fraunhofer VBRI header frame in front (no Debian encoder writes one):
    an MPEG-2 Layer III frame of silence, the header at offset 36."""
    audio = source.read_bytes()
    frames = len(mpeg.scan(audio).frames)
    size = 72 * 64000 // 22050  # a 64 kbps frame (208 bytes) holds the header
    header = bytes([0xFF, 0xF3, 0x80, 0xC4])  # MPEG-2 Layer III, 64 kbps, 22.05 kHz, mono
    body = bytearray(size - 4)
    body[32:58] = b"VBRI" + struct.pack(
        ">HHHIIHHHH", 1, 576, 75, len(audio) + size, frames, 0, 1, 2, 1
    )
    target.write_bytes(header + bytes(body) + audio)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        run("espeak-ng", "-v", "nb", "-s", "165", "-w", str(t / "raw.wav"), TEXT)
        wav = t / "speech.wav"
        run(
            "sox",
            str(t / "raw.wav"),
            "-r",
            "22050",
            "-c",
            "1",
            "-b",
            "16",
            str(wav),
            "pad",
            "0",
            "3",
            "trim",
            "0",
            "3",
        )
        lame = ["lame", "--quiet", "-m", "m"]
        run(*lame, "--cbr", "-b", "64", str(wav), str(OUT / "cbr_info.mp3"))
        run(*lame, "-b", "32", str(wav), str(OUT / "cbr_noheader.mp3"))
        run(*lame, "-V", "9", str(wav), str(OUT / "vbr_xing.mp3"))
        run(*lame, "-V", "9", "-t", str(wav), str(OUT / "vbr_noheader.mp3"))
        vbri(OUT / "vbr_noheader.mp3", OUT / "vbr_vbri.mp3")
        aac = [*FFMPEG, "-i", str(wav), "-ac", "1", "-c:a", "aac", "-b:a", "24k", *BITEXACT]
        run(*aac, "-movflags", "+faststart", str(OUT / "speech.m4a"))
        run(
            *FFMPEG,
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-b:a",
            "12k",
            *BITEXACT,
            str(OUT / "speech.opus"),
        )
        run(
            *FFMPEG,
            "-i",
            str(wav),
            "-c:a",
            "libvorbis",
            "-q:a",
            "0",
            *BITEXACT,
            str(OUT / "speech.ogg"),
        )
        # Two minutes of speech with the index (moov box) at the end, for remote probing.
        loop = ["-stream_loop", "39", "-i", str(wav), "-ac", "1", "-ar", "8000"]
        run(*FFMPEG, *loop, "-c:a", "aac", "-b:a", "8k", *BITEXACT, str(OUT / "long.m4a"))


if __name__ == "__main__":
    main()
