"""An XML document put together by lxml from its parts: the document without its repeated
elements (a feed's items, its entries), and each of those rendered on its own.

A part is an element's XML as lxml writes it alone (with the namespace declarations it
needs); appended to the document, lxml drops those its new parents already declare, and
the whole is pretty printed as feedgen prints a feed: the same bytes as one whole render
(the golden tests and a property test compare them). So a feed of a thousand items renders
only its new and changed items, and the others' parts are reused as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any


@functools.cache
def _lxml() -> tuple[Any, Any]:
    """lxml's etree and the parser for parts: CDATA sections (content:encoded) kept as
    CDATA, as feedgen wrote them. Imported when a document is first put together."""
    from lxml import etree

    return etree, etree.XMLParser(strip_cdata=False)


def part(element: Any) -> bytes:
    """An element's XML, to be appended to a document by ``assemble``."""
    etree, _ = _lxml()
    data: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    return data


def assemble(document: bytes, container: str | None, parts: Iterable[bytes]) -> bytes:
    """``document`` (rendered without pretty printing) with ``parts`` appended in order to
    ``container`` (the path of an element below the root; None: the root itself), pretty
    printed, with an XML declaration."""
    etree, parser = _lxml()
    root = etree.fromstring(document, parser)
    parent = root if container is None else root.find(container)
    if parent is None:
        raise ValueError(f"the document has no {container} element")
    for data in parts:
        parent.append(etree.fromstring(data, parser))
    out: bytes = etree.tostring(
        root.getroottree(), pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )
    return out
