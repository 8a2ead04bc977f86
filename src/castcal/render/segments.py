"""Segment feeds: each segment kind (endringspraten, endringsnemda) as a podcast of its own.

A segment's audio is its own file where it has one; otherwise a lossless cut of the
episode's MP3. An episode whose single file cannot be cut (M4A, or hosted elsewhere) is
left out of the segment feeds, with a warning from the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from castcal.content.identity import podcast_guid
from castcal.content.models import Episode, Media, Project
from castcal.render import paths
from castcal.render.feed import Entry, Feed, newest_first


class Segment(NamedTuple):
    """A segment that gets an item in its kind's feed."""

    episode: Episode
    kind: str
    position: int  # of the segment in the episode

    @property
    def own(self) -> Media | None:
        """The segment's own audio file, if it has one (else it is cut from the episode's)."""
        return self.episode.segment_audio.get(self.kind)

    @property
    def path(self) -> str | None:
        """Where the segment's audio is published; None for its own file hosted elsewhere."""
        own = self.own
        if own is not None and own.remote:
            return None
        return paths.segment_audio(self.episode, self.kind, own.facts.extension if own else "mp3")

    @property
    def title(self) -> str:
        segment = self.episode.meta.segments[self.position]
        episode_title = self.episode.meta.title
        return f"{episode_title}: {segment.title}" if segment.title else episode_title

    @property
    def guid(self) -> str:
        return self.episode.segment_guids[self.kind]


def plan(project: Project) -> list[Segment]:
    """Every segment that gets an item in its kind's feed, episode by episode."""
    return [segment for episode in project.episodes for segment in plan_episode(episode)]


def plan_episode(episode: Episode) -> list[Segment]:
    """The episode's segments that get an item in their kind's feed: those with audio of
    their own, and all of them where the episode's audio is a local MP3, which is cut."""
    cuttable = not episode.audio.remote and episode.audio.facts.mime == "audio/mpeg"
    return [
        Segment(episode, segment.kind, index)
        for index, segment in enumerate(episode.meta.segments)
        if segment.kind in episode.segment_audio or cuttable
    ]


def feed_guid(project: Project, kind: str) -> str:
    """A segment feed's podcast:guid as first published: derived from its URL."""
    return str(podcast_guid(paths.url(project, paths.segment_feed(kind))))


def feeds(
    project: Project,
    lengths: Mapping[str, int],
    durations: Mapping[str, float],
    guids: Mapping[str, str],
) -> list[Feed]:
    """One feed per segment kind declared in config.toml, in declaration order, newest
    first. ``lengths`` and ``durations`` are those of the published audio, by path in
    feeds/; ``guids`` holds each kind's podcast:guid (kept once published, never
    recomputed from a changed URL)."""
    show = project.config.podcast
    by_episode: dict[str, list[Segment]] = {}
    for segment in plan(project):
        by_episode.setdefault(segment.episode.id, []).append(segment)
    entries: dict[str, list[Entry]] = {kind: [] for kind in show.segments}
    for episode in newest_first(project):
        for segment in by_episode.get(episode.id, ()):
            entries[segment.kind].append(_entry(project, segment, lengths, durations))
    return [
        Feed(
            path=paths.segment_feed(kind),
            title=f"{show.title}: {declared.title}",
            description=declared.description,
            guid=guids[kind],
            entries=tuple(entries[kind]),
        )
        for kind, declared in show.segments.items()
    ]


def _entry(
    project: Project,
    segment: Segment,
    lengths: Mapping[str, int],
    durations: Mapping[str, float],
) -> Entry:
    own, path = segment.own, segment.path
    if path is None:  # the segment's own file, hosted elsewhere
        assert own is not None
        url, length, seconds = own.source, own.facts.length, own.facts.seconds
    else:
        url, length, seconds = paths.url(project, path), lengths[path], round(durations[path])
    mime = own.facts.mime if own is not None else "audio/mpeg"
    title = segment.title
    return Entry(segment.episode, segment.guid, title, url, length, mime, seconds, segment.kind)
