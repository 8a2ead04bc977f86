"""A feed put together from parts (its items rendered on their own, so a build reuses the
unchanged ones) is what feedgen renders of the whole feed, byte for byte, for any text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from feedgen.feed import FeedGenerator
from hypothesis import given, settings
from hypothesis import strategies as st

from castcal.render import xml

texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1)


def generator() -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.id("https://example.org/feed")
    fg.title("Feed")
    fg.description("Om endring")
    fg.subtitle("Om endring")
    fg.link(href="https://example.org/", rel="alternate")
    fg.updated(datetime(2026, 1, 1, tzinfo=UTC))
    fg.lastBuildDate(datetime(2026, 1, 1, tzinfo=UTC))
    return fg


def add_items(fg: FeedGenerator, titles: list[str]) -> None:
    for number, title in enumerate(titles):
        fe = fg.add_entry(order="append")
        fe.id(f"urn:item:{number}")
        fe.guid(f"item-{number}", permalink=False)
        fe.title(title)
        fe.description(title)
        fe.content(f"<p>{title}</p>]]>", type="CDATA")
        fe.updated(datetime(2026, 1, 1, tzinfo=UTC))
        fe.podcast.itunes_duration(60 + number)


@pytest.mark.parametrize(("form", "container"), [("rss", xml.CHANNEL), ("atom", xml.FEED)])
@settings(max_examples=50, deadline=None)
@given(titles=st.lists(texts, min_size=0, max_size=5))
def test_a_feed_from_parts_is_the_whole_render(
    form: str, container: xml.Container, titles: list[str]
) -> None:
    whole = generator()
    add_items(whole, titles)
    expected = render(whole, form, pretty=True)
    parts_of = generator()
    add_items(parts_of, titles)
    entries = list(parts_of.entry())
    for entry in entries:
        parts_of.remove_entry(entry)
    document = render(parts_of, form, pretty=True)
    elements = [e.rss_entry() if form == "rss" else e.atom_entry() for e in entries]
    parts = list(xml.parts(document, container, elements))
    assert b"".join(xml.assemble(document, container, parts)) == expected


def render(fg: FeedGenerator, form: str, *, pretty: bool) -> bytes:
    write = fg.rss_str if form == "rss" else fg.atom_str
    data: bytes = write(pretty=pretty, xml_declaration=True, encoding="UTF-8")
    return data
