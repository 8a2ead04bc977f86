"""Show notes: Markdown in, sanitized HTML out (for content:encoded and the show page)."""

from __future__ import annotations

import functools
from typing import Any

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


def to_html(markdown: str) -> str:
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
