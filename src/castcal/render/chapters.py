"""Chapters as Podcasting 2.0 JSON (``podcast:chapters``) and as Podlove Simple Chapters
times; the chapters themselves come from the episode's segments."""

from __future__ import annotations

import json

from castcal.content.chapters import chapters, npt
from castcal.content.config import Podcast
from castcal.content.models import Episode


def psc(show: Podcast, episode: Episode) -> list[tuple[str, str]]:
    """Each chapter's start and title, as ``psc:chapter`` writes them."""
    return [(npt(c.start), c.title) for c in chapters(show, episode)]


def json_chapters(show: Podcast, episode: Episode) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0) for ``podcast:chapters``."""
    document = {
        "version": "1.2.0",
        "title": episode.meta.title,
        "podcastName": show.title,
        "author": show.author,
        "chapters": [
            {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
            for c in chapters(show, episode)
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
