"""Splicing separately rendered XML elements into a document feedgen rendered, so a feed
with a thousand items renders only the new and changed ones. The bytes equal those of one
whole render: the golden tests compare them."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
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


def _insert(document: bytes, closing: bytes, texts: list[bytes], level: int) -> bytes:
    """``document`` with ``texts`` as the last children of the element ``closing`` ends."""
    end = document.rindex(closing)
    pad = b"  " * level
    pieces = [document[:end]]
    for text in texts:
        pieces += (pad, text, b"\n")
    pieces.append(document[end:])
    return b"".join(pieces)


def assemble(
    document: bytes,
    container: str | None,
    closing: bytes,
    pieces: Sequence[tuple[Hashable, Callable[[], Any]]],
    before: Mapping[Hashable, bytes],
) -> tuple[bytes, dict[Hashable, bytes]]:
    """``document`` with the pieces as the last children of ``container`` (a child of the
    root, or None for the root itself), which ``closing`` ends; and each piece's XML by its
    key. A piece is a key and a function making its lxml element, called only for a key
    ``before`` does not hold."""
    from lxml import etree

    level = 1 if container is None else 2
    parts: dict[Hashable, bytes] = {}
    parent = None  # the container, parsed once the first new piece needs it
    for key, make in pieces:
        if key in before:
            parts[key] = before[key]
            continue
        if parent is None:
            root = etree.fromstring(document)
            parent = root if container is None else root.find(container)
        parts[key] = _element_text(parent, make(), level)
    return _insert(document, closing, [parts[key] for key, _ in pieces], level), parts
