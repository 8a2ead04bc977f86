"""Local audio facts: exact length, MIME type and a duration podcast apps can trust."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import mutagen.mp3
import pytest

from castcal.media import mpeg
from castcal.media import probe as audio
from tests.audio_factory import VARIANTS, junk, mp3, variant
from tests.conftest import REPO


def test_vbr_without_header_is_corrected_by_counting_frames(tmp_path: Path) -> None:
    data = mp3(6.0, vbr=True)
    path = tmp_path / "vbr.mp3"
    path.write_bytes(data)
    scan = mpeg.scan(data)
    assert not scan.has_vbr_header and scan.variable
    # The trap: mutagen prices the whole file at the first frame's bitrate.
    info = mutagen.mp3.MPEGInfo(io.BytesIO(data))
    misread = info.length
    assert abs(misread - 6.0) > 1.0
    facts = audio.probe(path)
    assert facts.mime == "audio/mpeg" and facts.extension == "mp3"
    assert facts.length == len(data)
    # LAME adds its encoder delay and pads the last frame: under 0.15 s in all.
    assert 6.0 <= facts.duration < 6.15
    assert facts.seconds == 6


def test_cbr_without_header(tmp_path: Path) -> None:
    path = tmp_path / "cbr.mp3"
    path.write_bytes(mp3(4.0, vbr=False, bitrate=32))
    facts = audio.probe(path)
    assert 4.0 <= facts.duration < 4.15


@pytest.mark.parametrize(
    ("episode", "truth"),
    [("hva-er-endringsledelse", 20.0), ("digital-transformasjon", 19.49)],
)
def test_sample_audio(episode: str, truth: float) -> None:
    """The committed samples: CBR without an Info frame, and VBR with a Xing header."""
    path = REPO / "episodes" / episode / "audio.mp3"
    facts = audio.probe(path)
    assert facts.length == path.stat().st_size
    assert abs(facts.duration - truth) < 0.1


def test_frame_walk_counts_every_frame() -> None:
    data = mp3(3.0, vbr=True)
    frames = mpeg.scan(data).frames
    assert sum(f.size for f in frames) == len(data)  # no byte outside a frame
    assert all(f.sample_rate == 22050 and f.samples == 576 for f in frames)


def test_id3_tag_is_skipped() -> None:
    data = mp3(2.0, vbr=False)
    tag = b"ID3" + bytes([3, 0, 0]) + bytes([0, 0, 0x10, 0]) + b"\0" * 2048
    assert mpeg.audio_start(tag + data) == len(tag)
    assert mpeg.scan(tag + data).frames == tuple(
        mpeg.Frame(f.offset + len(tag), f.size, f.bitrate, f.sample_rate, f.samples, False)
        for f in mpeg.scan(data).frames
    )


def test_truncated_mp3_is_refused(tmp_path: Path) -> None:
    data = mp3(3.0, vbr=False)
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) - 50])
    with pytest.raises(audio.AudioError, match="truncated"):
        audio.probe(path)


def _wav_without_fmt() -> bytes:
    """A RIFF/WAVE file whose format chunk is missing: mutagen's WAV reader gives up."""
    return b"RIFF" + struct.pack("<I", 12) + b"WAVE" + b"data" + struct.pack("<I", 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not audio: the file is empty; publish MP3 or M4A (AAC)"),
        (b"Dette er ikke lyd.\n" * 50, "the file looks like text; publish MP3 or M4A"),
        ("Lydfil kommer, blåbærsyltetøy.\n".encode() * 400, "looks like text"),
        ("Æ, ø og å i Latin-1.\n".encode("latin-1") * 9, "looks like text"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html><body>Episode</body></html>", "an HTML page"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "the file looks like a PNG image; publish MP3"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "looks like a JPEG image"),
        (b"%PDF-1.7\n" + bytes(100), "looks like a PDF document"),
        (_wav_without_fmt(), "looks like a WAV file, which podcast apps do not play; encode it"),
        (b"fLaC" + bytes(200), "looks like a FLAC file"),
        (bytes(range(256)) * 8, "not an audio file castcal recognises; publish MP3 or M4A"),
        # MPEG-1 Layer II frames, 160 kbps at 44.1 kHz: 522 bytes each
        ((b"\xff\xfd\x90\xc4" + bytes(518)) * 10, "looks like MPEG Layer II audio (MP2)"),
    ],
    ids=[
        "empty", "text", "utf8-text", "latin1-text", "html", "png", "jpeg", "pdf", "broken-wav",
        "flac-header", "binary", "mp2",
    ],
)  # fmt: skip
def test_a_file_that_is_not_audio_is_told_what_it_looks_like(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Told by its bytes, not its name: every file here is named .mp3."""
    path = tmp_path / "audio.mp3"
    path.write_bytes(content)
    with pytest.raises(audio.AudioError) as raised:
        audio.probe(path)
    assert message in str(raised.value)


def test_wav_is_refused_with_its_name(tmp_path: Path) -> None:
    frames = b"\0\0" * 2205
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + len(frames))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
        + b"data"
        + struct.pack("<I", len(frames))
    )
    path = tmp_path / "speech.wav"
    path.write_bytes(header + frames)
    with pytest.raises(audio.AudioError, match="WAV audio is not accepted"):
        audio.probe(path)


FIXTURES = REPO / "tests" / "data" / "audio"


@pytest.mark.parametrize("name", ["vbr_xing.mp3", "cbr_info.mp3"])
def test_a_file_its_xing_header_counts_exactly_is_not_walked(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LAME's Xing/Info header counts the frames and bytes of the stream: when the bytes are
    all there, its duration is the header's and no frame walk is needed."""
    walked = audio.probe(FIXTURES / name).duration
    limits: list[int | None] = []
    scan = mpeg.scan

    def spy(data: bytes, limit: int | None = None) -> mpeg.Scan:
        limits.append(limit)
        return scan(data, limit)

    monkeypatch.setattr(mpeg, "scan", spy)
    assert audio.probe(FIXTURES / name).duration == walked
    assert None not in limits  # only the first frame was read
    # With an ID3v1 tag after the stream, the header still counts the stream exactly.
    tagged = tmp_path / name
    tagged.write_bytes((FIXTURES / name).read_bytes() + b"TAG" + bytes(125))
    assert audio.probe(tagged).duration == walked
    assert None not in limits


@pytest.mark.parametrize("name", ["vbr_xing.mp3", "cbr_info.mp3"])
def test_a_file_with_fewer_frames_than_its_xing_header_counts_is_refused(
    name: str, tmp_path: Path
) -> None:
    """Cut off at a frame boundary, the walk finds no broken frame; the header shows that
    frames are missing (and its duration would be too long)."""
    data = (FIXTURES / name).read_bytes()
    frames = mpeg.scan(data).raw
    path = tmp_path / name
    path.write_bytes(data[: frames[-10][mpeg.OFFSET]])  # nine whole frames fewer
    with pytest.raises(audio.AudioError, match="truncated: its Xing header counts 117 frames"):
        audio.probe(path)
    # 50 bytes fewer: for vbr_xing.mp3 the last frame goes but for two bytes, too few to
    # look like a header, and the walk alone took the rest for a whole file.
    path.write_bytes(data[:-50])
    with pytest.raises(audio.AudioError, match="truncated"):
        audio.probe(path)


def test_joined_files_are_timed_by_their_frames_not_the_first_files_header(
    tmp_path: Path,
) -> None:
    """Joined by a plain tool, two MP3s keep the first one's Xing header, which counts the
    first one only: its duration would be half the truth. The frames walked count."""
    parts = [FIXTURES / "vbr_xing.mp3", FIXTURES / "cbr_info.mp3"]
    path = tmp_path / "joined.mp3"
    path.write_bytes(b"".join(p.read_bytes() for p in parts))
    whole = sum(audio.probe(p).duration for p in parts)
    assert abs(audio.probe(path).duration - whole) < 0.2


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak from /proc/self/status")
def test_a_big_file_its_xing_header_counts_is_not_read_whole(tmp_path: Path) -> None:
    """An hour of audio is 57 MB: probing a file its header counts reads its head and its
    tail only. Here 256 MB (a sparse file, its header made to count all of it) are probed
    by a process that never holds them."""
    data = bytearray((FIXTURES / "cbr_info.mp3").read_bytes())
    first = mpeg.scan(bytes(data), limit=1).raw[0]
    header = mpeg.xing(bytes(data), first[mpeg.OFFSET])
    assert header is not None and header.length == len(data)
    size = 256 * 1024 * 1024
    at = header.end - 100 - 4 - 4  # the byte count, before the seek table and the scale
    assert int.from_bytes(data[at : at + 4], "big") == len(data)
    data[at : at + 4] = size.to_bytes(4, "big")
    path = tmp_path / "big.mp3"
    with path.open("wb") as out:
        out.write(data)
        out.truncate(size)
    # The peak of the child's own memory (VmHWM), not ru_maxrss: that keeps the peak of
    # the pytest process it was started from, however large the tests before made it.
    probe = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from castcal.media import probe as audio\n"
        "print(audio.probe(Path(sys.argv[1])).length)\n"
        "status = Path('/proc/self/status').read_text()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status)[1])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    length, peak_kib = map(int, run.stdout.split())
    assert length == size
    assert peak_kib < 128 * 1024  # a whole read alone would take 256 MB


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_mp3_variants_are_probed_like_any_other(name: str, tmp_path: Path) -> None:
    """MPEG-2.5 (8 to 12 kHz), which mutagen's sniffing does not know, and streams whose
    first frame comes after junk: MP3s, with the length and duration of their frames."""
    rate, data, stream = variant(name, 3.0)
    path = tmp_path / "audio.mp3"
    path.write_bytes(data)
    facts = audio.probe(path)
    assert (facts.mime, facts.extension, facts.length) == ("audio/mpeg", "mp3", len(data))
    frames = mpeg.scan(data).frames
    assert frames[0].offset == len(data) - len(stream) == mpeg.first_frame(data)
    assert {(f.sample_rate, f.samples, f.bitrate) for f in frames} == {(rate, 576, 32000)}
    assert sum(f.size for f in frames) == len(stream)  # every frame, nothing of the junk
    assert facts.duration == len(frames) * 576 / rate
    assert 3.0 <= facts.duration < 3.0 + 4 * 576 / rate  # LAME's delay and padding
    mpeg25 = (data[frames[0].offset + 1] >> 3) & 3 == 0
    assert mpeg25 == (rate <= 12000)
    info = mutagen.mp3.MPEGInfo(io.BytesIO(data), offset=frames[0].offset)  # read it forced
    assert (info.sample_rate, info.version) == (rate, 2.5 if mpeg25 else 2)


def test_a_lone_header_in_junk_is_not_taken_for_the_first_frame() -> None:
    """A frame header's bits occur by chance in junk; its frame is not followed by others."""
    data = mp3(2.0, vbr=False)
    fake = b"\xff\xfb\x90\x64" + bytes(413)  # MPEG-1 Layer III, 128 kbps: 417 bytes
    prefix = junk(500) + fake + fake[:4] + bytes(300)
    assert mpeg.parse_header(prefix, 500) is not None
    assert mpeg.first_frame(prefix + data) == len(prefix)
    shifted = [f._replace(offset=f.offset + len(prefix)) for f in mpeg.scan(data).frames]
    assert list(mpeg.scan(prefix + data).frames) == shifted


def test_a_stream_of_one_frame_is_found() -> None:
    """Fewer frames than a run needs are a stream when they end where the file ends."""
    frame = mpeg.scan(mp3(1.0, vbr=False)).frames[5]
    data = mp3(1.0, vbr=False)[frame.offset : frame.offset + frame.size]
    assert mpeg.first_frame(bytes(100) + data) == 100
    assert mpeg.first_frame(bytes(100) + data[:-1]) is None
