"""Segment feeds: each segment kind (endringspraten, endringsnemda) as a podcast of its own.

A segment's audio is its own file where it has one; otherwise a lossless cut of the
episode's MP3. An episode whose single file cannot be cut (M4A, or hosted elsewhere) is left
out of the segment feeds, with a warning from the loader.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from castcal import layout
from castcal.models import PODCAST_NAMESPACE, AudioFacts, Episode, Project, podcast_guid

if TYPE_CHECKING:
    from castcal import mp3cut
    from castcal.rss import Feed


@dataclass(frozen=True)
class Planned:
    episode: Episode
    kind: str
    index: int  # of the segment in the episode


@dataclass(frozen=True)
class Published:
    planned: Planned
    path: str  # in feeds/, or the URL of a segment file hosted elsewhere
    facts: AudioFacts


def feed_path(kind: str) -> str:
    return f"{kind}.xml"


def item_guid(episode: Episode, kind: str) -> str:
    """A segment item's GUID: derived from the episode's, so it never changes either."""
    return _derived_guid(episode.guid, kind)


@functools.lru_cache(maxsize=65536)
def _derived_guid(episode_guid: str, kind: str) -> str:
    return str(uuid.uuid5(PODCAST_NAMESPACE, f"{episode_guid}/{kind}"))


def feed_guid(project: Project, kind: str) -> str:
    return str(podcast_guid(layout.url(project, feed_path(kind))))


def plan(project: Project) -> list[Planned]:
    """Every segment that gets an item in its kind's feed."""
    planned = []
    for episode in project.episodes:
        cuttable = not episode.audio.remote and episode.audio.facts.mime == "audio/mpeg"
        for index, segment in enumerate(episode.meta.segments):
            if segment.kind in episode.segment_audio or cuttable:
                planned.append(Planned(episode, segment.kind, index))
    return planned


def title(planned: Planned) -> str:
    segment = planned.episode.meta.segments[planned.index]
    episode_title = planned.episode.meta.title
    return f"{episode_title}: {segment.title}" if segment.title else episode_title


def target(planned: Planned) -> tuple[str, str] | None:
    """Where a segment's file is published, and its extension; None for a segment whose
    own file is hosted elsewhere."""
    own = planned.episode.segment_audio.get(planned.kind)
    if own is not None and own.remote:
        return None
    extension = own.facts.extension if own is not None else "mp3"
    return f"audio/{planned.episode.id}-{planned.kind}.{extension}", extension


def render(
    project: Project, planned: Planned, cuts: dict[str, list[mp3cut.Cut]]
) -> tuple[bytes, float]:
    """A segment's published file and its duration. ``cuts`` keeps the current episode's
    cuts, so its MP3 is cut once for all its segments."""
    from castcal import mp3cut, tagging

    episode = planned.episode
    own = episode.segment_audio.get(planned.kind)
    if own is not None:
        data = (episode.folder / own.source).read_bytes()
        extension, duration = own.facts.extension, own.facts.duration
    else:
        if episode.id not in cuts:
            cuts.clear()  # one episode's cuts at a time: memory stays flat at any size
            source = mp3cut.read((episode.folder / episode.audio.source).read_bytes())
            cuts[episode.id] = mp3cut.cut(source, [s.start for s in episode.meta.segments])
        cut = cuts[episode.id][planned.index]
        data, extension, duration = cut.data, "mp3", cut.duration
    show = project.config.podcast
    info = tagging.info_for(
        project,
        episode,
        title=title(planned),
        album=f"{show.title}: {show.segments[planned.kind].title}",
        chapters=(),
    )
    return tagging.tag(data, extension, info), duration


def published(planned: Planned, path: str, length: int, duration: float) -> Published:
    extension = path.rsplit(".", 1)[-1]
    mime = "audio/mpeg" if extension == "mp3" else "audio/x-m4a"
    # Facts of a file castcal just wrote: nothing to validate.
    facts = AudioFacts.model_construct(
        length=length, mime=mime, extension=extension, duration=duration
    )
    return Published(planned, path, facts)


def feeds(project: Project, published: list[Published], guids: dict[str, str]) -> list[Feed]:
    """One feed per segment kind declared in config.toml, in declaration order.
    ``guids`` holds the podcast:guid already published for a kind; it is kept, never
    recomputed from a changed URL."""
    from castcal.rss import Feed, Item

    show = project.config.podcast
    result = []
    for kind, declared in show.segments.items():
        items = tuple(
            Item(
                episode=p.planned.episode,
                guid=item_guid(p.planned.episode, kind),
                title=title(p.planned),
                url=p.path if "://" in p.path else layout.url(project, p.path),
                length=p.facts.length,
                mime=p.facts.mime,
                seconds=p.facts.seconds,
                whole=False,
            )
            for p in published
            if p.planned.kind == kind
        )
        result.append(
            Feed(
                path=feed_path(kind),
                title=f"{show.title}: {declared.title}",
                description=declared.description,
                guid=guids.get(kind) or feed_guid(project, kind),
                items=items,
            )
        )
    return result
