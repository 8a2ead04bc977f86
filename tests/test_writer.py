"""A file handed to the writer in pieces (a feed, the page) is written as the pieces
joined, in order, however many and however large; and it is the same as a file on disk
exactly when the joined pieces are."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from castcal.write import writer

pieces = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.integers(1, 3).map(lambda n: bytes([n]) * (writer.WRITE_SIZE - 1 + n)),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(parts=pieces, other=pieces)
def test_pieces_are_written_and_compared_as_joined(parts: list[bytes], other: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dest = Path(folder) / "feed.xml"
        writer.replace(dest, parts)
        whole = b"".join(parts)
        assert dest.read_bytes() == whole
        assert writer.same(dest, parts) and writer.same(dest, whole)
        assert writer.same(dest, [whole[i : i + 4099] for i in range(0, len(whole), 4099)])
        assert writer.same(dest, other) == (b"".join(other) == whole)
        if whole:  # one byte changed anywhere
            changed = bytearray(whole)
            changed[len(whole) // 3] ^= 1
            assert not writer.same(dest, [bytes(changed)])
