"""Pieces kept as spans of the document they went into read back as the same bytes."""

from __future__ import annotations

import pickle
from collections.abc import Callable

from lxml import etree

from castcal.xmlparts import Growing, Spans, assemble


def test_pieces_read_back_from_their_spans_and_survive_pickling() -> None:
    out = Growing(b"<list>\n")
    out.piece("a", b"<a>1</a>")
    out.add(b"\n")
    out.piece(("b", 2), "<b>ø</b>".encode())
    out.add(b"\n</list>\n")
    document, spans = out.done()
    assert bytes(document) == "<list>\n<a>1</a>\n<b>ø</b>\n</list>\n".encode()
    again = pickle.loads(pickle.dumps(spans))
    assert isinstance(again, Spans)
    assert dict(again) == {"a": b"<a>1</a>", ("b", 2): "<b>ø</b>".encode()}
    assert "c" not in again and len(again) == 2


def test_a_reassembled_document_reuses_old_pieces_and_makes_new_ones() -> None:
    head = b"<root>\n  <channel>\n    <title>t</title>\n  </channel>\n</root>\n"
    made: list[str] = []

    def element(name: str) -> Callable[[], etree._Element]:
        def make() -> etree._Element:
            made.append(name)
            return etree.fromstring(f"<item><name>{name}</name></item>")

        return make

    first, pieces = assemble(head, "channel", b"  </channel>", [("x", element("x"))], {})
    second, _ = assemble(
        head, "channel", b"  </channel>", [("y", element("y")), ("x", element("x"))], pieces
    )
    assert made == ["x", "y"]  # x was not made again
    assert etree.fromstring(bytes(second)).xpath("//name/text()") == ["y", "x"]
    assert bytes(second).count(pieces["x"]) == 1 and bytes(first).count(pieces["x"]) == 1
