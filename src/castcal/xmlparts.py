"""Splicing separately rendered XML elements into a document feedgen rendered, so a feed
with a thousand items renders only the new and changed ones. The bytes equal those of one
whole render: the golden tests compare them."""

from __future__ import annotations

import re
from typing import Any

# The namespace declarations lxml puts on an element serialized on its own.
_DECLARATIONS = re.compile(rb' xmlns(?::[A-Za-z0-9_]+)?="[^"]*"')


def element_text(parent: Any, element: Any, level: int) -> bytes:
    """``element`` as it reads inside ``parent`` (an element of the document, so that it
    takes the document's namespace prefixes) at ``level`` of a pretty-printed document."""
    from lxml import etree

    parent.append(element)
    etree.indent(element, space="  ", level=level)
    text: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    parent.remove(element)  # one element at a time: memory stays flat at any feed size
    head, rest = text.split(b">", 1)
    return _DECLARATIONS.sub(b"", head) + b">" + rest


def insert(document: bytes, closing: bytes, texts: list[bytes], level: int) -> bytes:
    """``document`` with ``texts`` as the last children of the element ``closing`` ends."""
    end = document.rindex(closing)
    pad = b"  " * level
    pieces = [document[:end]]
    for text in texts:
        pieces += (pad, text, b"\n")
    pieces.append(document[end:])
    return b"".join(pieces)
