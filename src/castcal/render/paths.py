"""Where each published file goes inside feeds/, and so its URL: one place, so a feed
never points at a name the build did not write."""

from __future__ import annotations

from castcal.content.models import Episode, Event, Media, Project

FEED = "podcast.xml"
CALENDAR = "frokost.ics"
ATOM = "frokost.atom"
PAGE = "index.html"
MANIFEST = "manifest.json"
# The folders whose every file the build writes: what else is in them is left over.
MANAGED = ("audio", "chapters", "transcripts", "events", "images", "episoder", "moter")


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


def episode_page(episode: Episode) -> str:
    """The episode's own page: its link in the feeds."""
    return f"episoder/{episode.id}.html"


def meeting_page(event: Event) -> str:
    return f"moter/{event.id}.html"


def segment_feed(kind: str) -> str:
    return f"{kind}.xml"


def segment_audio(episode: Episode, kind: str, extension: str) -> str:
    return f"audio/{episode.id}-{kind}.{extension}"


def segment_transcript(episode: Episode, kind: str) -> str:
    """The cut of an episode's transcript for one segment, times from its start."""
    return f"transcripts/{episode.id}-{kind}.vtt"


def url(project: Project, relative: str) -> str:
    return project.base_url + relative


def order(name: str) -> int:
    """When a file is written, or uploaded, relative to the others: the audio first, then
    the other files a feed points at, then the feeds, calendars and page, the manifest
    last. No reader ever meets a feed that names a file not yet there."""
    if name == MANIFEST:
        return 3
    if name.startswith("audio/"):
        return 0
    return 1 if name.split("/", 1)[0] in MANAGED else 2
