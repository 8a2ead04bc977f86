"""Lossless MP3 cutting: whole MPEG frames, no re-encoding.

Each cut starts at the frame boundary nearest its start time and gets a fresh Xing (or, for
constant bitrate, Info) frame with its own frame count, byte count and seek table, so
players show the right duration. When the source records LAME's encoder delay and padding,
the first cut keeps the delay and the last the padding, in a LAME extension, so that the cuts'
durations add up to the source's.

One limit is inherent to frame-exact cutting: an MP3 frame may borrow bits from the frame
before it (the bit reservoir), so the first frame of a cut can decode with a glitch of at
most one frame (about 26 ms).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from castcal import mpeg
from castcal.mpeg import BITRATE, OFFSET, SAMPLE_RATE, SAMPLES, SIZE, VBR_HEADER


@dataclass(frozen=True)
class Source:
    data: bytes
    frames: tuple[mpeg.RawFrame, ...]  # the audio frames, without a Xing/Info/VBRI frame
    delay: int  # encoder delay in samples, from the LAME header (0 without one)
    padding: int  # encoder padding in samples
    lame_version: bytes | None  # the 9-byte encoder string of a LAME header

    @property
    def samples_per_frame(self) -> int:
        return self.frames[0][SAMPLES]

    @property
    def sample_rate(self) -> int:
        return self.frames[0][SAMPLE_RATE]

    @property
    def duration(self) -> float:
        total = len(self.frames) * self.samples_per_frame - self.delay - self.padding
        return max(0, total) / self.sample_rate


@dataclass(frozen=True)
class Cut:
    data: bytes
    frames: int
    duration: float


def read(data: bytes) -> Source:
    scan = mpeg.scan(data)
    if not len(scan) or scan.truncated:
        raise ValueError("not a complete MP3 stream")
    delay = padding = 0
    version = None
    all_frames = scan.raw
    first = all_frames[0]
    header = mpeg.xing(data, first[OFFSET]) if first[VBR_HEADER] else None
    if header is not None and data[header.end : header.end + 4] == b"LAME":
        pos = header.end
        version = data[pos : pos + 9]
        packed = int.from_bytes(data[pos + 21 : pos + 24], "big")
        delay, padding = packed >> 12, packed & 0xFFF
    # Only a stream's first frame can be a Xing/Info/VBRI frame (mpeg.scan).
    frames = tuple(all_frames[1:] if first[VBR_HEADER] else all_frames)
    return Source(data, frames, delay, padding, version)


def _header_frame(
    source: Source, audio: bytes, frames: Sequence[mpeg.RawFrame], delay: int, padding: int
) -> bytes:
    """A Xing/Info frame describing ``frames`` (whose bytes are ``audio``)."""
    template = frames[0]
    data = source.data
    b1, b2, b3 = data[template[OFFSET] + 1 : template[OFFSET] + 4]
    mpeg1 = (b1 >> 3) & 3 == 3
    side = mpeg.side_info(data, template[OFFSET])
    lame = source.lame_version is not None
    need = 4 + side + 8 + 4 + 4 + 100 + 4 + (36 if lame else 0)
    slot = 144 if mpeg1 else 72
    sizes = [
        (index, slot * kbps * 1000 // template[SAMPLE_RATE])
        for index, kbps in enumerate(mpeg.BITRATES[(mpeg1, 3)], start=1)
    ]
    fitting = [(index, size) for index, size in sizes if size >= need]
    if not fitting:
        raise ValueError("no bitrate gives a frame large enough for a Xing header")
    index, size = fitting[0]
    header = bytes([0xFF, b1 | 1, (index << 4) | (b2 & 0x0C), b3])  # no CRC, no padding
    total = size + len(audio)
    toc = bytearray()
    first = frames[0][OFFSET]
    for percent in range(100):  # 100 frames' offsets, not every frame's
        where = size + frames[min(len(frames) - 1, percent * len(frames) // 100)][OFFSET] - first
        toc.append(min(255, where * 256 // total))
    variable = len({f[BITRATE] for f in frames}) > 1
    body = bytearray(header + bytes(side))
    body += b"Xing" if variable else b"Info"
    body += struct.pack(">IIII", 0x0F, len(frames), total, 0)[:12] + bytes(toc)
    body += struct.pack(">I", 0)  # VBR scale
    if lame:
        from fastcrc import crc16  # for sources with a LAME header only

        assert source.lame_version is not None
        body += source.lame_version
        body += bytes([0x04 if variable else 0x01, 0]) + bytes(4 + 2 + 2)  # method, gains
        body += bytes([0, min(255, max(f[BITRATE] for f in frames) // 1000)])
        body += ((delay << 12) | padding).to_bytes(3, "big")
        body += bytes(2 + 2)  # misc, mp3 gain, preset
        # CRC-16/ARC, as LAME computes both: of the music, then of the tag up to here. In
        # C: a byte at a time in Python took 0.8 s per megabyte of audio.
        body += struct.pack(">IH", total, crc16.arc(audio))
        body += struct.pack(">H", crc16.arc(bytes(body)))
    return bytes(body) + bytes(size - len(body))


def cut(source: Source, starts: list[float]) -> list[Cut]:
    """Cuts from each start time (seconds, as players count them) to the next, the last to
    the end. Every frame of the source from the first start on lands in exactly one cut."""
    spf, rate, count = source.samples_per_frame, source.sample_rate, len(source.frames)
    bounds = [min(count, max(0, round((t * rate + source.delay) / spf))) for t in starts]
    if starts and starts[0] == 0:
        bounds[0] = 0  # from the very start: the encoder delay stays in the first cut
    bounds.append(count)
    cuts = []
    for first, end in itertools.pairwise(bounds):
        frames = source.frames[first:end]
        if not frames:
            raise ValueError("a segment is shorter than one MPEG frame")
        audio = source.data[frames[0][OFFSET] : frames[-1][OFFSET] + frames[-1][SIZE]]
        delay = source.delay if first == 0 else 0
        padding = source.padding if end == count else 0
        if source.lame_version is None:
            delay = padding = 0
        data = _header_frame(source, audio, frames, delay, padding) + audio
        samples = len(frames) * spf - delay - padding
        cuts.append(Cut(data=data, frames=len(frames), duration=samples / rate))
    return cuts
