"""Chapters from segments: one list, rendered for every reader that wants them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from castcal.models import Episode, Podcast


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


def chapters(show: Podcast, episode: Episode) -> list[Chapter]:
    """The episode's segments as chapters, titled with the configured segment titles."""
    segments = episode.meta.segments
    ends = [s.start for s in segments[1:]] + [episode.audio.facts.duration]
    result = []
    for segment, end in zip(segments, ends, strict=True):
        title = show.segments[segment.kind].title
        if segment.title:
            title = f"{title}: {segment.title}"
        result.append(Chapter(start=segment.start, end=end, title=title))
    return result


def npt(seconds: float) -> str:
    """Normal Play Time as Podlove Simple Chapters want it: HH:MM:SS.mmm."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


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
