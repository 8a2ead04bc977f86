"""An episode's segments as chapters: one list, from which every chapter format is made."""

from __future__ import annotations

from dataclasses import dataclass

from castcal.content.config import Podcast
from castcal.content.models import Episode


@dataclass(frozen=True, slots=True)
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
    """Normal Play Time as Podlove Simple Chapters and Vorbis comments want it:
    HH:MM:SS.mmm."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
