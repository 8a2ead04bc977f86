"""Segment feeds: each segment kind (endringspraten, endringsnemda) as a podcast of its own.

A segment's audio is its own file where it has one; otherwise a lossless cut of the
episode's MP3. An episode whose single file cannot be cut (M4A, or hosted elsewhere) is left
out of the segment feeds, with a warning from the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from castcal import layout
from castcal.models import Episode, Project, podcast_guid

if TYPE_CHECKING:
    from castcal import mp3cut
    from castcal.rss import Entry, Feed, Item


class Planned(NamedTuple):
    """A segment that gets an item in its kind's feed (a named tuple: thousands per build)."""

    episode: Episode
    kind: str
    position: int  # of the segment in the episode


def feed_path(kind: str) -> str:
    return f"{kind}.xml"


def item_guid(episode: Episode, kind: str) -> str:
    """A segment item's GUID (see models.segment_guid)."""
    return episode.segment_guids[kind]


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
    segment = planned.episode.meta.segments[planned.position]
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
        cut = cuts[episode.id][planned.position]
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


def feeds(
    project: Project,
    planned: list[Planned],
    lengths: Mapping[str, int],
    durations: Mapping[str, float],
    guids: dict[str, str],
    episodes: list[Episode] | None = None,
) -> list[Feed]:
    """One feed per segment kind declared in config.toml, in declaration order, of the
    segments published: ``lengths`` and ``durations`` are those of the files this build
    wrote, by their path in feeds/. ``guids`` holds the podcast:guid already published for a
    kind; it is kept, never recomputed from a changed URL. ``episodes``: newest first, if
    known."""
    from castcal.rss import Entry, Feed, item_key, newest_first

    show = project.config.podcast
    by_episode: dict[str, list[Planned]] = {}
    for p in planned:
        if p.kind in show.segments:
            by_episode.setdefault(p.episode.id, []).append(p)
    entries: dict[str, list[Entry]] = {kind: [] for kind in show.segments}
    for episode in newest_first(project) if episodes is None else episodes:
        for p in by_episode.get(episode.id, ()):
            where = target(p)
            if where is None:  # the segment's own file, hosted elsewhere
                own = episode.segment_audio[p.kind]
                url, length, seconds = own.source, own.facts.length, own.facts.seconds
            else:
                path = where[0]
                url, length, seconds = (
                    layout.url(project, path),
                    lengths[path],
                    round(durations[path]),
                )
            guid = item_guid(episode, p.kind)
            key = item_key(project, episode, p.kind, length, seconds)
            entries[p.kind].append(Entry(key, episode, guid, url, length, seconds, (), p))
    return [
        Feed(
            path=feed_path(kind),
            title=f"{show.title}: {declared.title}",
            description=declared.description,
            guid=guids.get(kind) or feed_guid(project, kind),
            entries=tuple(entries[kind]),
        )
        for kind, declared in show.segments.items()
    ]


def item(entry: Entry) -> Item:
    """The item of a segment's entry."""
    from castcal.rss import Item

    planned = entry.segment
    assert planned is not None
    own = planned.episode.segment_audio.get(planned.kind)  # else a cut of the episode's MP3
    mime = own.facts.mime if own is not None else "audio/mpeg"
    url, length, seconds = entry.url, entry.length, entry.seconds
    return Item(planned.episode, entry.guid, title(planned), url, length, mime, seconds, False)
