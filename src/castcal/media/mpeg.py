"""MPEG audio frame headers, read without decoding.

mutagen prices a VBR MP3 that lacks a Xing/Info/VBRI header at its first frame's bitrate,
which was 4-6x off for real files (reference/audio.md, 2.2). Walking the frame headers gives
the exact duration and also shows a file cut off in the middle of a frame.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable
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
Facts = tuple[int, int, int, int]  # what a frame header says: size, bitrate, rate, samples


class Scan:
    """The frames of a stream, kept compact (an hour has 138,000): each frame's offset and
    its four header bytes, and once for each distinct header what it says. ``raw`` and
    ``frames`` give whole records."""

    def __init__(
        self,
        offsets: list[int],
        heads: list[bytes],
        facts: dict[bytes, Facts],
        vbr_header: bool,
        truncated: bool,
    ) -> None:
        self.offsets, self.heads, self.facts = offsets, heads, facts
        self.has_vbr_header = vbr_header  # the first frame is a Xing/Info/VBRI frame
        self.truncated = truncated

    @property
    def raw(self) -> list[RawFrame]:
        """The frames as plain tuples, in Frame's field order."""
        facts, first = self.facts, self.has_vbr_header
        return [
            (offset, *facts[head], first and index == 0)
            for index, (offset, head) in enumerate(zip(self.offsets, self.heads, strict=True))
        ]

    @property
    def frames(self) -> tuple[Frame, ...]:
        return tuple(map(Frame._make, self.raw))

    def __len__(self) -> int:
        return len(self.offsets)

    def audio_heads(self) -> list[bytes]:
        """The headers of the audio frames: all but a Xing/Info/VBRI frame."""
        return self.heads[1:] if self.has_vbr_header else self.heads

    @property
    def variable(self) -> bool:
        return len({self.facts[h][1] for h in set(self.audio_heads())}) > 1

    @property
    def duration(self) -> float:
        """Seconds of audio in the frames, not counting a Xing/Info/VBRI header frame."""
        samples: dict[int, int] = {}  # by sample rate
        for head, count in Counter(self.audio_heads()).items():
            _, _, rate, per_frame = self.facts[head]
            samples[rate] = samples.get(rate, 0) + count * per_frame
        return sum(total / rate for rate, total in sorted(samples.items()))


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


# Frame headers in a row that mark where a stream starts: a header's 11 sync bits and valid
# fields occur by chance in junk about once in a few thousand bytes, four in step never.
CHAIN = 4


def _same_stream(first: bytes, other: bytes) -> bool:
    """Whether two frame headers can be of one stream: the same version, layer and rate."""
    return first[1] & 0xFE == other[1] & 0xFE and first[2] & 0x0C == other[2] & 0x0C


def _chain_at(data: bytes, pos: int, end: int) -> bool:
    """Whether ``CHAIN`` frames of one stream follow each other from ``pos``, or fewer that
    end exactly at ``end`` (a stream of a frame or two)."""
    first, at = data[pos : pos + 4], pos
    for _ in range(CHAIN):
        frame = parse_header(data, at)
        if frame is None or frame.size < 4 or not _same_stream(first, data[at : at + 4]):
            return False
        at += frame.size
        if at >= end:
            return at == end
    return True


def sync(data: bytes, pos: int, end: int) -> int | None:
    """Where the first frame of an MPEG audio stream starts in ``data[pos:end]``: the first
    header that ``CHAIN`` frames follow, so junk or padding before it is passed over and
    not taken for a frame. None if no such run of frames is there."""
    while (pos := data.find(b"\xff", pos, end - 3)) >= 0:
        if _chain_at(data, pos, end):
            return pos
        pos += 1
    return None


def first_frame(data: bytes) -> int | None:
    """Where the first frame of the MP3 in ``data`` starts (see ``sync``), if it has one."""
    return sync(data, *audio_bounds(_reader(data), len(data)))


def stream_bounds(data: bytes) -> tuple[int, int]:
    """Where the frames of an MP3 start, past any ID3v2 tag and any junk before the first
    frame, and where they end, before a trailing ID3v1 tag."""
    start, end = audio_bounds(_reader(data), len(data))
    found = sync(data, start, end)
    return (start if found is None else found), end


def audio_bounds(read: Callable[[int, int], bytes], size: int) -> tuple[int, int]:
    """Where the audio of a file of ``size`` bytes starts, just past any ID3v2 tags at its
    start, and ends, before a trailing ID3v1 tag; ``read(offset, count)`` gives its bytes
    there, so a file need not be read whole."""
    pos = 0
    while len(head := read(pos, 10)) == 10 and head.startswith(b"ID3"):
        size_bytes = 0
        for byte in head[6:10]:
            size_bytes = (size_bytes << 7) | (byte & 0x7F)
        pos += 10 + size_bytes + (10 if head[5] & 0x10 else 0)
    end = size - 128 if size >= 128 and read(size - 128, 3) == b"TAG" else size
    return pos, end


def _reader(data: bytes) -> Callable[[int, int], bytes]:
    return lambda offset, count: data[offset : offset + count]


def audio_start(data: bytes) -> int:
    """Offset just past any ID3v2 tags at the start."""
    return audio_bounds(_reader(data), len(data))[0]


def audio_end(data: bytes) -> int:
    """Offset of a trailing ID3v1 tag, or the end of the data."""
    return audio_bounds(_reader(data), len(data))[1]


def scan(data: bytes, limit: int | None = None) -> Scan:
    """Walk the frames of an MP3 (at most ``limit`` of them) from its first frame (see
    ``sync``), resyncing over junk after it."""
    pos, end = stream_bounds(data)
    offsets: list[int] = []
    heads: list[bytes] = []
    add_offset, add_head = offsets.append, heads.append
    # Frame headers repeat (a CBR file has two: with and without padding), so each distinct
    # header is parsed once; after the first frame a Xing/Info/VBRI tag cannot occur.
    facts: dict[bytes, Facts] = {}
    sizes: dict[bytes, int] = {}
    size_of = sizes.get
    vbr = False
    in_step = False  # True while the previous frame ended exactly here
    cap = len(data) if limit is None else limit

    while pos < end and len(offsets) < cap:
        if offsets:
            # Frame after frame with headers seen before: the hot loop.
            stop = min(end, pos + (cap - len(offsets)) * 4)  # no frame is under 4 bytes
            start = pos
            while pos < stop:
                head = data[pos : pos + 4]
                size = size_of(head)
                if size is None:
                    break
                if pos + size > end:
                    # A header in step with the frames before it that runs past the end:
                    # the file was cut off. Out of step, it is junk that looks like one.
                    return Scan(offsets, heads, facts, vbr, in_step or pos != start)
                add_offset(pos)
                add_head(head)
                pos += size
            in_step = in_step or pos != start
            if pos >= end or len(offsets) >= cap:
                break
            if pos >= stop:
                continue
        frame = parse_header(data, pos)
        if frame is None or frame.size < 4:
            pos, in_step = pos + 1, False
            continue
        head = data[pos : pos + 4]
        facts[head] = (frame.size, frame.bitrate, frame.sample_rate, frame.samples)
        sizes[head] = frame.size
        if pos + frame.size > end:
            return Scan(offsets, heads, facts, vbr, in_step)
        if not offsets:
            vbr = frame.vbr_header
        add_offset(pos)
        add_head(head)
        pos, in_step = pos + frame.size, True
    return Scan(offsets, heads, facts, vbr, False)
