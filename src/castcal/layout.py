"""Where each published file goes inside feeds/, and so its URL. One place, so the feed
never points at a name the build did not write."""

from __future__ import annotations

from castcal.models import Episode, Event, Project

FEED = "podcast.xml"


def audio(episode: Episode) -> str:
    return f"audio/{episode.id}.{episode.audio.extension}"


def chapters(episode: Episode) -> str:
    return f"chapters/{episode.id}.json"


def transcript(episode: Episode) -> str:
    return f"transcripts/{episode.id}.vtt"


def cover(project: Project) -> str:
    return f"images/{project.cover.name}"


def url(project: Project, relative: str) -> str:
    return project.base_url + relative


CALENDAR = "frokost.ics"


def event(event: Event) -> str:
    return f"events/{event.id}.ics"
