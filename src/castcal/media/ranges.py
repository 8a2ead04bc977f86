"""A remote file read through HTTP range requests: only the bytes asked for, each gap
filled with one request.

mutagen reads a file in many small pieces; each piece it reaches that was not fetched yet
costs one request for the whole gap up to the next fetched span (and some read-ahead, so
the small reads after it cost none). ``after_tags`` finds where the audio starts from the
10-byte headers of any ID3v2 tags, without fetching the tags themselves.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable
from typing import Any

from castcal.media import mpeg

READAHEAD = 64 * 1024  # least bytes fetched for a read that misses (what mutagen reads)


class Spans:
    """The bytes of one remote file fetched so far, as spans by offset; a read that reaches a
    gap fills it with one request for the gap (and read-ahead, up to the next span)."""

    def __init__(
        self, fetch: Callable[[int, int], bytes], size: int, readahead: int = READAHEAD
    ) -> None:
        self.fetch, self.size, self.readahead = fetch, size, readahead
        self._starts: list[int] = []
        self._data: list[bytes] = []

    def add(self, start: int, data: bytes) -> None:
        index = bisect.bisect(self._starts, start)
        self._starts.insert(index, start)
        self._data.insert(index, data)

    def read(self, pos: int, end: int) -> bytes:
        """The bytes from ``pos`` up to ``end`` (fewer at the end of the file)."""
        end = min(end, self.size)
        out = bytearray()
        while pos < end:
            piece = self._cached(pos, end)
            if not piece:
                self._fill(pos, end)
                piece = self._cached(pos, end)
                if not piece:
                    break
            out += piece
            pos += len(piece)
        return bytes(out)

    def _cached(self, pos: int, end: int) -> bytes:
        index = bisect.bisect_right(self._starts, pos) - 1
        if index < 0:
            return b""
        start = self._starts[index]
        return self._data[index][pos - start : end - start]

    def _fill(self, pos: int, end: int) -> None:
        stop = min(self.size, max(end, pos + self.readahead))
        index = bisect.bisect_right(self._starts, pos)
        if index < len(self._starts):
            stop = min(stop, self._starts[index])
        self.add(pos, self.fetch(pos, stop - 1))


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file from ``origin`` on, read through
    ``spans``."""

    def __init__(self, spans: Spans, origin: int = 0) -> None:
        self._spans, self._origin, self._pos = spans, origin, 0
        self._size = max(0, spans.size - origin)

    def window(self, origin: int) -> RangeFile:
        """The same file from ``origin`` (in this view's offsets) on, sharing what is fetched."""
        return RangeFile(self._spans, self._origin + origin)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        data = self._spans.read(self._origin + self._pos, self._origin + end)
        self._pos += len(data)
        return data

    def whole(self) -> bytes:
        self.seek(0)
        return self.read()


def after_tags(reader: RangeFile) -> int:
    """Where the audio starts: past any ID3v2 tags, read by their 10-byte headers alone."""
    pos = 0
    while True:
        reader.seek(pos)
        head = reader.read(10)
        if len(head) < 10 or not head.startswith(b"ID3"):
            return pos
        pos += mpeg.audio_start(head + bytes(10))  # the header's size; the body is skipped
