"""Arbitrary Unicode in every free-text field of an episode: the feed stays well-formed,
no script gets through, and nothing crashes. Text is either published as written (less
edge whitespace) or refused with a message naming the file and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import feedparser
import lxml.html
import pytest
import tomli_w
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from castcal.errors import ContentError
from tests.conftest import copy_sample
from tests.rendering import load, main_feed

EPISODE = "episodes/hva-er-endringsledelse"
GUID = "4c711430-6b33-5eb5-a17d-977cbf0cc304"
TRICKY = [
    "]]>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">klikk</a>',
    "[lenke](javascript:alert(1))",
    "<![CDATA[ ]]> &amp; &lt;",
    "Ærlig talt: øre, år, ÆØÅ 👍",
    "\x0b\x0c\x1b",
    "\ufffe\uffff",
    "<svg onload=alert(1)>",
    "<iframe src='https://example.org'></iframe>",
]
texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map(" ".join),
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("property") / "project")


def assert_safe_html(html: str) -> None:
    if not html.strip():
        return
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in tree.iter():
        assert element.tag not in ("script", "iframe", "svg", "img", "style", "object")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            if name in ("href", "src"):
                assert value.strip().lower().startswith(("https:", "http:", "mailto:")), value


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=texts, summary=texts, notes=texts)
@example(title="<script>alert(1)</script>", summary="]]>", notes="<script>x</script>]]>")
def test_free_text_is_published_safely_or_refused(
    sample: Path, title: str, summary: str, notes: str
) -> None:
    folder = sample / EPISODE
    original = (folder / "episode.toml").read_bytes()
    data = tomllib.loads(original.decode())
    data.update(title=title, summary=summary)
    (folder / "episode.toml").write_text(tomli_w.dumps(data), "utf-8")
    (folder / "notes.md").write_text(notes, "utf-8", newline="")
    try:
        project = load(sample / "config.toml")
    except ContentError as error:
        event("refused")
        for problem in error.problems:
            assert problem.path in (f"{EPISODE}/episode.toml", f"{EPISODE}/notes.md")
            assert problem.field in ("title", "summary", "notes")
            assert problem.message
        return
    finally:
        (folder / "episode.toml").write_bytes(original)

    event("published")
    feed = main_feed(project)
    root = etree.fromstring(feed)  # strict parser: raises on malformed XML
    (item,) = [i for i in root.iter("item") if i.findtext("guid") == GUID]
    assert item.findtext("title") == title.strip()
    assert item.findtext("description") == summary.strip()
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert_safe_html(encoded)
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
