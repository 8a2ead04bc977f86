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
from dataclasses import dataclass

from castcal.media import mpeg


@dataclass(frozen=True)
class Source:
    data: bytes
    offsets: list[int]  # of the audio frames, without a Xing/Info/VBRI frame
    heads: list[bytes]  # their four header bytes
    facts: dict[bytes, mpeg.Facts]  # what each distinct header says
    delay: int  # encoder delay in samples, from the LAME header (0 without one)
    padding: int  # encoder padding in samples
    lame_version: bytes | None  # the 9-byte encoder string of a LAME header

    @property
    def count(self) -> int:
        """How many audio frames the stream has."""
        return len(self.offsets)

    @property
    def samples_per_frame(self) -> int:
        return self.facts[self.heads[0]][3]

    @property
    def sample_rate(self) -> int:
        return self.facts[self.heads[0]][2]

    @property
    def duration(self) -> float:
        total = self.count * self.samples_per_frame - self.delay - self.padding
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
    header = mpeg.xing(data, scan.offsets[0]) if scan.has_vbr_header else None
    if header is not None and data[header.end : header.end + 4] == b"LAME":
        pos = header.end
        version = data[pos : pos + 9]
        packed = int.from_bytes(data[pos + 21 : pos + 24], "big")
        delay, padding = packed >> 12, packed & 0xFFF
    # Only a stream's first frame can be a Xing/Info/VBRI frame (mpeg.scan).
    skip = 1 if scan.has_vbr_header else 0
    return Source(data, scan.offsets[skip:], scan.heads[skip:], scan.facts, delay, padding, version)


def _header_frame(
    source: Source, audio: bytes, first: int, end: int, delay: int, padding: int
) -> bytes:
    """A Xing/Info frame describing the frames ``first`` to ``end`` (whose bytes are
    ``audio``)."""
    data, offsets = source.data, source.offsets
    at = offsets[first]
    template = source.facts[source.heads[first]]
    b1, b2, b3 = data[at + 1 : at + 4]
    mpeg1 = (b1 >> 3) & 3 == 3
    side = mpeg.side_info(data, at)
    lame = source.lame_version is not None
    need = 4 + side + 8 + 4 + 4 + 100 + 4 + (36 if lame else 0)
    slot = 144 if mpeg1 else 72
    sizes = [
        (index, slot * kbps * 1000 // template[2])
        for index, kbps in enumerate(mpeg.BITRATES[(mpeg1, 3)], start=1)
    ]
    fitting = [(index, size) for index, size in sizes if size >= need]
    if not fitting:
        raise ValueError("no bitrate gives a frame large enough for a Xing header")
    index, size = fitting[0]
    header = bytes([0xFF, b1 | 1, (index << 4) | (b2 & 0x0C), b3])  # no CRC, no padding
    total, count = size + len(audio), end - first
    # 100 frames' offsets, not every frame's: frame p * count // 100 starts where p percent
    # of the frames are behind, before the end of the audio (so under 256).
    toc = bytes(
        (size + offsets[first + percent * count // 100] - at) * 256 // total
        for percent in range(100)
    )
    bitrates = {source.facts[head][1] for head in set(source.heads[first:end])}
    variable = len(bitrates) > 1
    body = bytearray(header + bytes(side))
    body += b"Xing" if variable else b"Info"
    body += struct.pack(">IIII", 0x0F, count, total, 0)[:12] + bytes(toc)
    body += struct.pack(">I", 0)  # VBR scale
    if lame:
        from fastcrc import crc16  # for sources with a LAME header only

        assert source.lame_version is not None
        body += source.lame_version
        body += bytes([0x04 if variable else 0x01, 0]) + bytes(4 + 2 + 2)  # method, gains
        body += bytes([0, min(255, max(bitrates) // 1000)])
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
    spf, rate, count = source.samples_per_frame, source.sample_rate, source.count
    bounds = [min(count, max(0, round((t * rate + source.delay) / spf))) for t in starts]
    if starts and starts[0] == 0:
        bounds[0] = 0  # from the very start: the encoder delay stays in the first cut
    bounds.append(count)
    cuts = []
    for first, end in itertools.pairwise(bounds):
        if first >= end:
            raise ValueError("a segment is shorter than one MPEG frame")
        last = end - 1
        stop = source.offsets[last] + source.facts[source.heads[last]][0]
        audio = source.data[source.offsets[first] : stop]
        delay = source.delay if first == 0 else 0
        padding = source.padding if end == count else 0
        if source.lame_version is None:
            delay = padding = 0
        data = _header_frame(source, audio, first, end, delay, padding) + audio
        samples = (end - first) * spf - delay - padding
        cuts.append(Cut(data=data, frames=end - first, duration=samples / rate))
    return cuts
