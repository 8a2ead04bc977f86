"""Chapter timestamps atop an item's description and show notes ("00:00 Endringspraten"),
which Spotify, YouTube and Apple read as chapters; made from the same chapters as the
other chapter formats, for an episode of two or more segments."""

from __future__ import annotations

import html

from castcal.content.chapters import chapters
from castcal.content.config import Podcast
from castcal.content.fields import check_description
from castcal.content.models import Episode


def lines(show: Podcast, episode: Episode) -> list[str]:
    """One "00:00 Title" line per chapter; none for an episode of one segment, or with
    ``timestamps = false``. Hours are shown (00:00:00) for an episode of an hour or more."""
    if not show.timestamps or len(episode.meta.segments) < 2:
        return []
    hours = episode.audio.facts.duration >= 3600
    return [f"{stamp(c.start, hours=hours)} {c.title}" for c in chapters(show, episode)]


def stamp(seconds: float, *, hours: bool) -> str:
    """A start time in whole seconds as mm:ss, or hh:mm:ss with ``hours``."""
    whole = int(seconds)
    if hours:
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60:02d}:{whole % 60:02d}"


def description(show: Podcast, episode: Episode, summary: str) -> str:
    """``summary`` after the timestamps, a blank line between; the summary alone when the
    two would pass Apple's 4000 bytes (the show notes still carry them)."""
    stamps = lines(show, episode)
    if not stamps:
        return summary
    text = "\n".join(stamps) + "\n\n" + summary
    try:
        check_description(text)
    except ValueError:
        return summary
    return text


def notes(show: Podcast, episode: Episode, notes_html: str | None) -> str | None:
    """The show notes as HTML with the timestamps first, a line each; the notes as they
    are (None: none) without timestamps."""
    stamps = lines(show, episode)
    if not stamps:
        return notes_html
    block = "<p>" + "<br>\n".join(html.escape(line, quote=False) for line in stamps) + "</p>"
    return block if notes_html is None else f"{block}\n{notes_html}"
