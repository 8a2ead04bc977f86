"""Splicing separately rendered XML elements into a document feedgen rendered, so a feed
with a thousand items renders only the new and changed ones. The bytes equal those of one
whole render: the golden tests compare them. Documents made of pieces (the feeds here, the
show page too) are grown in one buffer that keeps each piece's span (Growing, Spans)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

# The namespace declarations lxml puts on an element serialized on its own.
_DECLARATIONS = re.compile(rb' xmlns(?::[A-Za-z0-9_]+)?="[^"]*"')


def _element_text(parent: Any, element: Any, level: int) -> bytes:
    """``element`` as it reads inside ``parent`` (an element of the document, so that it
    takes the document's namespace prefixes) at ``level`` of a pretty-printed document."""
    from lxml import etree

    parent.append(element)
    etree.indent(element, space="  ", level=level)
    text: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    parent.remove(element)  # one element at a time: memory stays flat at any feed size
    head, rest = text.split(b">", 1)
    return _DECLARATIONS.sub(b"", head) + b">" + rest


class Spans(Mapping[Hashable, bytes]):
    """Rendered pieces kept as spans of the document they went into: their bytes once, not
    once on their own and again in the document (tens of megabytes at 10,000 episodes).
    A piece read is a copy of its span."""

    def __init__(self, document: bytes | bytearray, spans: dict[Hashable, tuple[int, int]]):
        self.document = document
        self.spans = spans

    def __getitem__(self, key: Hashable) -> bytes:
        start, end = self.spans[key]
        with memoryview(self.document) as whole:
            return bytes(whole[start:end])

    def __contains__(self, key: object) -> bool:
        return key in self.spans

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)


class Growing:
    """A document written piece by piece into one buffer, each piece's span noted: a new
    piece is let go as soon as it is in (never all of them and the document at once)."""

    def __init__(self, head: bytes) -> None:
        self.document = bytearray(head)
        self.spans: dict[Hashable, tuple[int, int]] = {}

    def add(self, data: bytes | bytearray) -> None:
        self.document += data

    def piece(self, key: Hashable, data: bytes | bytearray) -> None:
        start = len(self.document)
        self.document += data
        self.spans[key] = (start, len(self.document))

    def reused(self, key: Hashable, before: Mapping[Hashable, bytes]) -> bool:
        """Put in the piece ``before`` holds for ``key``, if it holds one: from spans, copied
        straight from the old document (thousands per build)."""
        if isinstance(before, Spans):
            span = before.spans.get(key)
            if span is None:
                return False
            start = len(self.document)
            with memoryview(before.document) as old:
                self.document += old[span[0] : span[1]]
            self.spans[key] = (start, len(self.document))
            return True
        data = before.get(key)
        if data is not None:
            self.piece(key, data)
        return data is not None

    def done(self) -> tuple[bytearray, Spans]:
        return self.document, Spans(self.document, self.spans)


def assemble(
    document: bytes,
    container: str | None,
    closing: bytes,
    pieces: Sequence[tuple[Hashable, Callable[[], Any]]],
    before: Mapping[Hashable, bytes],
) -> tuple[bytearray, Spans]:
    """``document`` with the pieces as the last children of ``container`` (a child of the
    root, or None for the root itself), which ``closing`` ends; and each piece's XML by its
    key. A piece is a key and a function making its lxml element, called only for a key
    ``before`` does not hold."""
    from lxml import etree

    level = 1 if container is None else 2
    pad = b"  " * level
    end = document.rindex(closing)
    out = Growing(document[:end])
    parent = None  # the container, parsed once the first new piece needs it
    for key, make in pieces:
        out.add(pad)
        if not out.reused(key, before):
            if parent is None:
                root = etree.fromstring(document)
                parent = root if container is None else root.find(container)
            out.piece(key, _element_text(parent, make(), level))
        out.add(b"\n")
    out.add(document[end:])
    return out.done()
