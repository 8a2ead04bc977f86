"""An XML document put together from its parts: the document without its repeated elements
(a feed's items, its entries), and each of those as lxml writes it inside the document.
So a feed of a thousand items renders only its new and changed items, and joins the
others' parts as they are.

lxml writes each part in a small document that declares the feed's namespaces and holds
the part as the one element of its container: what stands between the container's tags
there is the part as it stands in the whole document, with the same namespace prefixes
and indentation (pretty printed, as feedgen prints a feed). The parts go where lxml puts
a container's last elements, before its closing tag. The bytes are those of one whole
render (the golden tests and a property test compare them); nothing lxml wrote is edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Container:
    """Where a document's parts go: the path of an element below the root (None: the
    root), the end of the line its opening tag ends, and its closing tag as pretty
    printing indents it."""

    path: str | None
    opening: bytes
    closing: bytes


CHANNEL = Container("channel", b"<channel>\n", b"  </channel>")  # an RSS feed's items
FEED = Container(None, b">\n", b"</feed>")  # an Atom feed's entries


def parts(document: bytes, container: Container, elements: Iterable[Any]) -> Iterator[bytes]:
    """Each of ``elements`` as it reads in ``document`` (rendered by feedgen), its line's
    indentation and its line break included."""
    from lxml import etree  # imported where a document is first put together

    root = etree.fromstring(document)
    wrapper = etree.Element(root.tag, nsmap=root.nsmap)  # type: ignore[arg-type]
    parent = wrapper if container.path is None else etree.SubElement(wrapper, container.path)
    for element in elements:
        parent.append(element)
        whole: bytes = etree.tostring(wrapper, pretty_print=True, encoding="UTF-8")
        parent.remove(element)  # one element at a time: memory stays flat at any size
        start = whole.index(container.opening) + len(container.opening)
        yield whole[start : whole.rindex(container.closing)]


def assemble(document: bytes, container: Container, parts: Iterable[bytes]) -> list[bytes]:
    """``document`` (rendered by feedgen, pretty printed) with ``parts`` last in
    ``container``: the pieces of the whole, in order, to be written one after another
    (never joined: a feed of 10,000 items would be in memory twice)."""
    end = document.rindex(container.closing)
    return [document[:end], *parts, document[end:]]
