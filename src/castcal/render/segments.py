"""Segment feeds: each segment kind (endringspraten, endringsnemda) as a podcast of its own.

A segment's audio is its own file where it has one; otherwise a lossless cut of the
episode's MP3. An episode whose single file cannot be cut (M4A, or hosted elsewhere) is
left out of the segment feeds, with a warning from the loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from castcal.content.config import Podcast
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

    def title(self, show: Podcast) -> str:
        """The item's title: the segment's own, or the episode's with the kind's name."""
        segment = self.episode.meta.segments[self.position]
        if segment.title:
            return segment.title
        return f"{self.episode.meta.title} ({show.segments[self.kind].title})"

    def summary(self, show: Podcast) -> str:
        """The item's description: the segment's own summary, or what its kind is about
        and which episode it is from; never another segment's text or the episode's."""
        segment = self.episode.meta.segments[self.position]
        if segment.summary:
            return segment.summary
        about = show.segments[self.kind].description
        return f"{about}\n\nFra episoden «{self.episode.meta.title}»."

    @property
    def span(self) -> tuple[float, float]:
        """Where the segment lies in the episode, in seconds: to the next one, or the end."""
        listed = self.episode.meta.segments
        ends = [s.start for s in listed[self.position + 1 : self.position + 2]]
        return listed[self.position].start, (ends or [self.episode.audio.facts.duration])[0]

    @property
    def transcript_path(self) -> str | None:
        """Where the cut of the episode's transcript for this segment is published."""
        if self.episode.transcript is None:
            return None
        return paths.segment_transcript(self.episode, self.kind)

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
    show = project.config.podcast
    cut = segment.transcript_path
    return Entry(
        segment.episode, segment.guid, segment.title(show), url, length, mime, seconds,
        segment.kind, description=segment.summary(show),
        transcript=paths.url(project, cut) if cut else "",
    )  # fmt: skip


def transcript(text: str, span: tuple[float, float]) -> bytes:
    """The cut of a WebVTT transcript for ``span`` (start, end in seconds): its header
    and style blocks, and the cues that start inside the span, their times shifted to
    start at zero and ended no later than the span. Comments (NOTE) are left out: they
    may be about any part."""
    first, last = (round(t * 1000) for t in span)
    blocks = _BLANK.split(text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    kept = [blocks[0].strip("\n")]
    for block in blocks[1:]:
        block = block.strip("\n")
        if block.startswith(("STYLE", "REGION")) and "-->" not in block.split("\n", 1)[0]:
            kept.append(block)
            continue
        cue = _shifted(block, first, last)
        if cue is not None:
            kept.append(cue)
    return ("\n\n".join(kept) + "\n").encode("utf-8")


_BLANK = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")
_TIMING = re.compile(r"^[ \t]*(\S+)[ \t]+-->[ \t]+(\S+)(.*)$")
_STAMP = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")


def _shifted(block: str, first: int, last: int) -> str | None:
    """A cue block moved back by ``first`` ms if it starts in [first, last); else None
    (and None for a block that is not a cue, such as a NOTE)."""
    lines = block.split("\n")
    at = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
    timing = _TIMING.match(lines[at]) if at is not None else None
    if at is None or timing is None:
        return None
    begin, end = _millis(timing[1]), _millis(timing[2])
    if begin is None or end is None or not first <= begin < last:
        return None
    lines[at] = f"{_stamp(begin - first)} --> {_stamp(min(end, last) - first)}{timing[3]}"
    return "\n".join(lines)


def _millis(stamp: str) -> int | None:
    match = _STAMP.match(stamp)
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(part or 0) for part in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _stamp(millis: int) -> str:
    seconds, millis = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02}:{minutes:02}:{seconds:02}.{millis:03}"
