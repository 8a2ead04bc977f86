"""MPEG audio frame headers, read without decoding.

mutagen prices a VBR MP3 that lacks a Xing/Info/VBRI header at its first frame's bitrate,
which was 4-6x off for real files (reference/audio.md, 2.2). Walking the frame headers gives
the exact duration and also shows a file cut off in the middle of a frame.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

BITRATES = {  # kbps by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class Frame(NamedTuple):
    offset: int
    size: int
    bitrate: int
    sample_rate: int
    samples: int
    vbr_header: bool


RawFrame = tuple[int, int, int, int, int, bool]  # a Frame's fields
OFFSET, SIZE, BITRATE, SAMPLE_RATE, SAMPLES, VBR_HEADER = range(6)


class Scan:
    """The frames of a stream. Kept as plain tuples while walking (a long file has hundreds
    of thousands of frames); ``frames`` gives them as Frame records."""

    def __init__(self, raw: list[RawFrame], truncated: bool) -> None:
        self._raw = raw
        self.truncated = truncated

    @property
    def frames(self) -> tuple[Frame, ...]:
        return tuple(map(Frame._make, self._raw))

    @property
    def raw(self) -> list[RawFrame]:
        """The frames as plain tuples, in Frame's field order: cheap for hot loops."""
        return self._raw

    def __len__(self) -> int:
        return len(self._raw)

    @property
    def has_vbr_header(self) -> bool:
        return bool(self._raw) and self._raw[0][5]

    @property
    def variable(self) -> bool:
        return len({f[2] for f in self._raw if not f[5]}) > 1

    @property
    def duration(self) -> float:
        """Seconds of audio in the frames, not counting a Xing/Info/VBRI header frame."""
        return sum(f[4] / f[3] for f in self._raw if not f[5])


def side_info(data: bytes, offset: int) -> int:
    """The size of the side information of the layer III frame at ``offset``."""
    mono = data[offset + 3] >> 6 == 3
    mpeg1 = (data[offset + 1] >> 3) & 3 == 3
    return (17 if mono else 32) if mpeg1 else (9 if mono else 17)


class Xing(NamedTuple):
    """The counts of a Xing/Info header, as far as its flags say it has them."""

    frames: int | None  # audio frames, not counting the header's own frame
    length: int | None  # bytes of the stream, the header's own frame included
    end: int  # the offset just past the header's fields (where a LAME tag would start)


def xing(data: bytes, offset: int) -> Xing | None:
    """The Xing/Info header in the frame at ``offset``, if that frame holds one."""
    at = offset + 4 + side_info(data, offset)
    if data[at : at + 4] not in (b"Xing", b"Info") or len(data) < at + 8:
        return None
    flags = struct.unpack(">I", data[at + 4 : at + 8])[0]
    pos, counts = at + 8, []
    for flag in (1, 2):
        if flags & flag and len(data) >= pos + 4:
            counts.append(struct.unpack(">I", data[pos : pos + 4])[0])
            pos += 4
        else:
            counts.append(None)
    pos += 100 * bool(flags & 4) + 4 * bool(flags & 8)  # the seek table, the VBR scale
    return Xing(counts[0], counts[1], pos)


def parse_header(data: bytes, pos: int) -> Frame | None:
    """The frame whose header starts at ``pos``, or None if no valid header is there."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2 = data[pos + 1], data[pos + 2]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    rate_index, sr_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or rate_index in (0, 15) or sr_index == 3:
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = BITRATES[(mpeg1, layer)][rate_index - 1] * 1000
    sample_rate = _SAMPLE_RATES[version][sr_index]
    if layer == 1:
        size, samples = (12 * bitrate // sample_rate + padding) * 4, 384
    elif layer == 2 or mpeg1:
        size, samples = 144 * bitrate // sample_rate + padding, 1152
    else:
        size, samples = 72 * bitrate // sample_rate + padding, 576
    tag_at = pos + 4 + side_info(data, pos)
    vbr = data[tag_at : tag_at + 4] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI"
    return Frame(pos, size, bitrate, sample_rate, samples, layer == 3 and vbr)


def audio_start(data: bytes) -> int:
    """Offset just past any ID3v2 tags at the start."""
    pos = 0
    while data[pos : pos + 3] == b"ID3" and len(data) >= pos + 10:
        size = 0
        for byte in data[pos + 6 : pos + 10]:
            size = (size << 7) | (byte & 0x7F)
        pos += 10 + size + (10 if data[pos + 5] & 0x10 else 0)
    return pos


def audio_end(data: bytes) -> int:
    """Offset of a trailing ID3v1 tag, or the end of the data."""
    return len(data) - 128 if len(data) >= 128 and data[-128:-125] == b"TAG" else len(data)


def scan(data: bytes, limit: int | None = None) -> Scan:
    """Walk the frames of an MP3 (at most ``limit`` of them), resyncing over junk."""
    pos, end = audio_start(data), audio_end(data)
    frames: list[RawFrame] = []
    append = frames.append
    # Frame headers repeat (a CBR file has two: with and without padding), so each distinct
    # header is parsed once, its frame's facts kept as the tail of a RawFrame; after the
    # first frame a Xing/Info/VBRI tag cannot occur. An hour has 138,000 frames.
    known: dict[bytes, tuple[int, int, int, int, bool]] = {}
    seen = known.get
    in_step = False  # True while the previous frame ended exactly here
    cap = len(data) if limit is None else limit
    while pos < end and len(frames) < cap:
        if frames:
            # Frame after frame with headers seen before: the hot loop.
            stop = min(end, pos + (cap - len(frames)) * 4)  # no frame is under 4 bytes
            start = pos
            while pos < stop and (tail := seen(data[pos : pos + 4])) is not None:
                if pos + tail[0] > end:
                    # A header in step with the frames before it that runs past the end:
                    # the file was cut off. Out of step, it is junk that looks like one.
                    return Scan(frames, truncated=in_step or pos != start)
                append((pos,) + tail)  # noqa: RUF005 (twice as fast as (pos, *tail))
                pos += tail[0]
            in_step = in_step or pos != start
            if pos >= end or len(frames) >= cap:
                break
            if pos >= stop:
                continue
        frame = parse_header(data, pos)
        if frame is None or frame.size < 4:
            pos, in_step = pos + 1, False
            continue
        vbr = frame.vbr_header and not frames
        if frames or not vbr:
            known[data[pos : pos + 4]] = (
                frame.size, frame.bitrate, frame.sample_rate, frame.samples, False,
            )  # fmt: skip
        if pos + frame.size > end:
            return Scan(frames, truncated=in_step)
        append((pos, frame.size, frame.bitrate, frame.sample_rate, frame.samples, vbr))
        pos, in_step = pos + frame.size, True
    return Scan(frames, truncated=False)
