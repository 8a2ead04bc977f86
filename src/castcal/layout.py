"""Where each published file goes inside feeds/, and so its URL. One place, so the feed
never points at a name the build did not write."""

from __future__ import annotations

from castcal.models import Episode, Event, Media, Project

FEED = "podcast.xml"
CALENDAR = "frokost.ics"
ATOM = "frokost.atom"
PAGE = "index.html"


def media(episode: Episode, item: Media) -> str | None:
    """The published copy of a local audio file; None for audio hosted elsewhere."""
    return None if item.remote else f"audio/{episode.id}.{item.facts.extension}"


def enclosure(project: Project, episode: Episode, item: Media) -> str:
    path = media(episode, item)
    return item.source if path is None else url(project, path)


def chapters(episode: Episode) -> str:
    return f"chapters/{episode.id}.json"


def transcript(episode: Episode) -> str:
    return f"transcripts/{episode.id}.vtt"


def cover(project: Project) -> str:
    return f"images/{project.cover.name}"


def event(event: Event) -> str:
    return f"events/{event.id}.ics"


def url(project: Project, relative: str) -> str:
    return project.base_url + relative
