"""Making the published audio: each episode's tagged copies and its segments (their own
files, tagged, or lossless cuts of its MP3), staged for the writer; what the feeds need
of them (lengths, the cuts' durations) comes back.

An episode's audio is one task: its MP3 is read once for its copy and its cuts. Tasks go
to the build's pool, so a first build makes them on every core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from castcal.build.fresh import Outputs, fingerprint
from castcal.build.parallel import Pool
from castcal.content.chapters import chapters
from castcal.content.models import Episode, Project, episode_folder
from castcal.media import cuts, tagging
from castcal.media.tagging import TagInfo
from castcal.render import paths, segments
from castcal.render.facts import Published
from castcal.write.writer import Staged, Transaction, same, stage

FEWEST = 8  # episodes to make: with fewer, helpers cost more than they save


@dataclass(frozen=True)
class Copy:
    """One published audio file to make."""

    name: str  # in feeds/
    print: str  # of everything it is made from
    source: Path
    extension: str
    tags: TagInfo
    cut: int | None  # the segment it is cut from the source for; None: the whole file
    duration: float | None = None  # a segment's own file's (a cut's is known once made)


@dataclass(frozen=True)
class Task:
    """An episode's published audio files to make; ``starts`` are its segments' starts."""

    out_dir: Path
    token: str
    starts: tuple[float, ...]
    copies: tuple[Copy, ...]


@dataclass(frozen=True)
class Made:
    """A file made: staged (None where the file already held those bytes), its length,
    and a cut's duration."""

    copy: Copy
    staged: Staged | None
    length: int
    duration: float | None


def make(project: Project, outputs: Outputs, transaction: Transaction, pool: Pool) -> Published:
    """Make every published audio file not still as made from the same inputs, staging
    each in ``transaction``; the lengths and cut durations of all of them."""
    lengths: dict[str, int] = {}
    durations: dict[str, float] = {}
    tasks, tag_print = [], _tag_print(project)
    for episode in project.episodes:
        copies = []
        for copy in _copies(project, episode, tag_print):
            if outputs.fresh(copy.name, copy.print):
                lengths[copy.name] = outputs.size(copy.name)
                if copy.cut is not None:
                    durations[copy.name] = outputs.facts(copy.name)["duration"]
            else:
                copies.append(copy)
        if copies:
            starts = tuple(s.start for s in episode.meta.segments)
            tasks.append(Task(transaction.out_dir, transaction.token, starts, tuple(copies)))
    for made in pool.map(make_task, tasks, fewest=FEWEST, task="making audio files"):
        for item in made:
            name = item.copy.name
            lengths[name] = item.length
            facts = {}
            if item.duration is not None:
                durations[name] = facts["duration"] = item.duration
            if item.staged is not None:
                transaction.adopt([item.staged])
            outputs.made(name, item.copy.print, facts)
    return Published(lengths, durations)


def _copies(project: Project, episode: Episode, tag_print: str) -> list[Copy]:
    """The episode's published audio files: its tagged copies, then its segments';
    ``tag_print`` is the fingerprint of what all their tags share."""
    show, folder = project.config.podcast, episode_folder(project.root, episode.id)
    whole = _tags(project, episode, episode.meta.title, show.title, whole=True)
    copies = []
    for media in (episode.audio, *episode.alternates):
        name = paths.media(episode, media)
        if name is not None:
            print_ = fingerprint("audio", tag_print, episode.fingerprint, media.source)
            source = folder / media.source
            copies.append(Copy(name, print_, source, media.facts.extension, whole, None))
    for segment in segments.plan_episode(episode):
        name = segment.path
        if name is None:
            continue
        album = f"{show.title}: {show.segments[segment.kind].title}"
        tags = _tags(project, episode, segment.title, album, whole=False)
        print_ = fingerprint("segment", tag_print, episode.fingerprint, segment.kind)
        own = segment.own
        if own is None:  # cut from the episode's MP3
            source = folder / episode.audio.source
            copies.append(Copy(name, print_, source, "mp3", tags, segment.position))
        else:
            source, extension = folder / own.source, own.facts.extension
            copies.append(Copy(name, print_, source, extension, tags, None, own.facts.duration))
    return copies


def _tag_print(project: Project) -> str:
    """What every published audio file's tags share: the show, the cover, segment titles."""
    show = project.config.podcast
    segment_titles = {k: v.title for k, v in show.segments.items()}
    return fingerprint(show.title, show.author, project.cover.name, segment_titles)


def _tags(project: Project, episode: Episode, title: str, album: str, *, whole: bool) -> TagInfo:
    marks = tuple(chapters(project.config.podcast, episode)) if whole else ()
    return tagging.info_for(project, episode, title=title, album=album, chapters=marks)


def make_task(task: Task) -> list[Made]:
    """Make an episode's files (in a helper, or the build itself): read its sources,
    cut and tag, stage each file whose bytes are new."""
    made, source_cuts = [], None
    for copy in task.copies:
        if copy.cut is None:
            data, duration = copy.source.read_bytes(), copy.duration
        else:
            if source_cuts is None:
                source_cuts = cuts.cut(cuts.read(copy.source.read_bytes()), list(task.starts))
            data, duration = source_cuts[copy.cut].data, source_cuts[copy.cut].duration
        published = tagging.tag(data, copy.extension, copy.tags)
        unchanged = same(task.out_dir / copy.name, published)
        staged = None if unchanged else stage(task.out_dir, copy.name, published, task.token)
        made.append(Made(copy, staged, len(published), duration))
    return made
