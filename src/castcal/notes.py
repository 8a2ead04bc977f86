"""Show notes: Markdown in, sanitized HTML out (for content:encoded and the show page)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from castcal.state import fingerprint

# Markdown to HTML: ``render``, or a ``Rendered`` that remembers an earlier build's HTML.
ToHtml = Callable[[str], str]

_ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "hr",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_URL_SCHEMES = {"https", "http", "mailto"}


@functools.cache
def _markdown() -> Any:
    """The parser, made when first needed: most builds render no new notes."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True})


@functools.lru_cache(maxsize=4096)
def render(markdown: str) -> str:
    """HTML with no scripts, no event handlers and no javascript: links, whatever the input."""
    import nh3

    html = _markdown().render(markdown)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener",
    ).strip()


class Rendered:
    """Notes as HTML, remembered from the last build by a fingerprint of their Markdown: a
    build where an episode's title changed but not its notes does not even load the
    Markdown parser."""

    def __init__(self, before: Mapping[Hashable, str]) -> None:
        self.before = before
        self.made: dict[Hashable, str] = {}

    def __call__(self, markdown: str) -> str:
        key = fingerprint("notes", markdown)
        html = self.made.get(key) or self.before.get(key) or render(markdown)
        self.made[key] = html
        return html

    def kept(self, notes: Iterable[str]) -> dict[Hashable, str] | None:
        """The HTML of ``notes`` (every episode's) that this build or the last one made;
        None if that is what the last build kept."""
        known = {**self.before, **self.made}
        keys = (fingerprint("notes", markdown) for markdown in notes)
        kept: dict[Hashable, str] = {key: known[key] for key in keys if key in known}
        return None if kept.keys() == self.before.keys() else kept
