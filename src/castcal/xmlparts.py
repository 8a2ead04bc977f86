"""Splicing separately rendered XML elements into a document feedgen rendered, so a feed
with a thousand items renders only the new and changed ones. The bytes equal those of one
whole render: the golden tests compare them."""

from __future__ import annotations

import re
from typing import Any

# The namespace declarations lxml puts on an element serialized on its own.
_DECLARATIONS = re.compile(r' xmlns(?::[A-Za-z0-9_]+)?="[^"]*"')


def element_text(parent: Any, element: Any, level: int) -> str:
    """``element`` as it reads inside ``parent`` (an element of the document, so that it
    takes the document's namespace prefixes) at ``level`` of a pretty-printed document."""
    from lxml import etree

    parent.append(element)
    etree.indent(element, space="  ", level=level)
    text: str = etree.tostring(element, encoding="unicode")
    parent.remove(element)  # one element at a time: memory stays flat at any feed size
    head, rest = text.split(">", 1)
    return _DECLARATIONS.sub("", head) + ">" + rest


def insert(document: bytes, closing: bytes, texts: list[str], level: int) -> bytes:
    """``document`` with ``texts`` as the last children of the element ``closing`` ends."""
    end = document.rindex(closing)
    pad, newline = ("  " * level).encode(), b"\n"
    pieces = [document[:end]]
    for text in texts:  # piece by piece: no second copy of a feed's whole text
        pieces += (pad, text.encode(), newline)
    pieces.append(document[end:])
    return b"".join(pieces)
