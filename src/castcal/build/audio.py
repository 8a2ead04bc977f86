"""Making the published audio: each episode's tagged copies and its segments (their own
files, tagged, or lossless cuts of its MP3), staged for the writer; what the feeds need
of them (lengths, the cuts' durations) comes back.

An episode's audio is one task: its MP3 is read once for its copy and its cuts. Tasks go
to the build's pool, so a first build makes them on every core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from castcal.build.cache import PATH
from castcal.build.fresh import Outputs, fingerprint
from castcal.build.parallel import Batch, Pool
from castcal.content.chapters import chapters
from castcal.content.models import Episode, Media, Project, episode_folder
from castcal.errors import Problem
from castcal.media import cuts, tagging
from castcal.media.tagging import TagInfo
from castcal.render import paths, segments
from castcal.render.facts import Published
from castcal.render.segments import Segment
from castcal.write.writer import Staged, Transaction, same, stage

FEWEST = 8  # episodes to make: with fewer, helpers cost more than they save


@dataclass(frozen=True, slots=True)
class Copy:
    """One published audio file to make."""

    name: str  # in feeds/
    print: str  # of everything it is made from
    source: Path
    extension: str
    tags: TagInfo
    cut: int | None  # the segment it is cut from the source for; None: the whole file
    duration: float | None = None  # a segment's own file's (a cut's is known once made)


@dataclass(frozen=True, slots=True)
class Task:
    """An episode's published audio files to make, by name, and the show they are made
    for (the project without its episodes and meetings). Whoever makes them works out
    how (``Copy``): a first build of 1,000 episodes keeps 0.5 MB of tasks that refer to
    episodes already in memory, where tasks of copies, tags and paths took 2.4 MB."""

    out_dir: Path
    token: str
    site: Project
    episode: Episode
    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class Made:
    """A file made: its name and fingerprint, staged (None where the file already held
    those bytes), its length, and a segment's duration. (Not the Copy: a helper sends
    this back, and a Copy holds the cover.)"""

    name: str
    print: str
    staged: Staged | None
    length: int
    duration: float | None


@dataclass
class Making:
    """The published audio being made: the facts of the files kept as they were, and
    the work making the others (by the build's helpers, while the build goes on)."""

    lengths: dict[str, int]
    durations: dict[str, float]
    work: Batch[list[Made]]

    def finish(self, outputs: Outputs, transaction: Transaction) -> Published:
        """Wait for the files being made; stage them in ``transaction``, and record each
        in ``outputs``. The lengths and cut durations of every published audio file."""
        for made in self.work.results():
            for item in made:
                self.lengths[item.name] = item.length
                if item.duration is not None:
                    self.durations[item.name] = item.duration
                if item.staged is not None:
                    transaction.adopt([item.staged])
                outputs.made(item.name, item.print, item.duration)
        return Published(self.lengths, self.durations)


def start(project: Project, outputs: Outputs, transaction: Transaction, pool: Pool) -> Making:
    """Start making every published audio file not still as made from the same inputs
    (its files are staged for ``transaction``, by the build's pool)."""
    lengths: dict[str, int] = {}
    durations: dict[str, float] = {}
    tasks, tag_print = [], _tag_print(project)
    site = dataclasses.replace(project, episodes=(), events=())
    for episode in project.episodes:
        stale = []
        for name, print_, made_of in _files(episode, tag_print):
            if not outputs.fresh(name, print_):
                stale.append(name)
                continue
            lengths[name] = outputs.size(name)
            if isinstance(made_of, Segment):
                durations[name] = outputs.duration(name)
        if stale:
            out_dir, token = transaction.out_dir, transaction.token
            tasks.append(Task(out_dir, token, site, episode, frozenset(stale)))
    work = pool.start(make_task, tasks, fewest=FEWEST, task="making audio files")
    return Making(lengths, durations, work)


def files(project: Project) -> Iterator[tuple[str, str, bool]]:
    """Every published audio file of ``project`` as ``start`` sees it: its name, the
    fingerprint of what it is made from, and whether it is a segment's (whose duration
    is recorded). For a dry run, which makes none of them."""
    tag_print = _tag_print(project)
    for episode in project.episodes:
        for name, print_, made_of in _files(episode, tag_print):
            yield name, print_, isinstance(made_of, Segment)


def _files(episode: Episode, tag_print: str) -> list[tuple[str, str, Media | Segment]]:
    """The episode's published audio files, each with the fingerprint of what it is made
    from and what that is: its tagged copies, then its segments' files. ``tag_print`` is
    the fingerprint of what all their tags share."""
    files: list[tuple[str, str, Media | Segment]] = []
    for media in (episode.audio, *episode.alternates):
        name = paths.media(episode, media)
        if name is not None:
            files.append((name, f"audio {tag_print} {episode.fingerprint} {media.source}", media))
    for segment in segments.plan_episode(episode):
        name = segment.path
        if name is not None:
            print_ = f"segment {tag_print} {episode.fingerprint} {segment.kind}"
            files.append((name, print_, segment))
    return files


def _copies(
    project: Project, episode: Episode, files: list[tuple[str, str, Media | Segment]]
) -> list[Copy]:
    """How to make each of ``files`` (as ``_files`` gives them)."""
    show, folder = project.config.podcast, episode_folder(project.root, episode.id)
    copies = []
    for name, print_, made_of in files:
        if isinstance(made_of, Media):  # the episode's own, tagged whole
            tags = _tags(project, episode, episode.meta.title, show.title, whole=True)
            source = _source(project.root, folder, made_of)
            copies.append(Copy(name, print_, source, made_of.facts.extension, tags, None))
            continue
        album = f"{show.title}: {show.segments[made_of.kind].title}"
        tags = _tags(project, episode, made_of.title(show), album, whole=False)
        own = made_of.own
        if own is None:  # cut from the episode's MP3
            source = _source(project.root, folder, episode.audio)
            copies.append(Copy(name, print_, source, "mp3", tags, made_of.position))
        else:
            source, extension = folder / own.source, own.facts.extension
            copies.append(Copy(name, print_, source, extension, tags, None, own.facts.duration))
    return copies


def _source(root: Path, folder: Path, media: Media) -> Path:
    """The file a published copy is made from: the episode's own, or for a master the
    MP3 castcal encoded of it."""
    if media.facts.encoded is not None:
        return root / PATH.parent / media.facts.encoded
    return folder / media.source


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
    site, episode = task.site, task.episode
    files = [file for file in _files(episode, _tag_print(site)) if file[0] in task.names]
    starts = [segment.start for segment in episode.meta.segments]
    made, source_cuts = [], None
    for copy in _copies(site, episode, files):
        if copy.cut is None:
            data, duration = copy.source.read_bytes(), copy.duration
        else:
            if source_cuts is None:
                source_cuts = cuts.cut(cuts.read(copy.source.read_bytes()), starts)
            data, duration = source_cuts[copy.cut].data, source_cuts[copy.cut].duration
        published = tagging.tag(data, copy.extension, copy.tags)
        unchanged = same(task.out_dir / copy.name, published)
        staged = None if unchanged else stage(task.out_dir, copy.name, published, task.token)
        made.append(Made(copy.name, copy.print, staged, len(published), duration))
    return made


def loudness_report(project: Project) -> list[str]:
    """A line for each episode whose loudness was measured: its loudness and true peak,
    and how far it is from the show's (``castcal check`` prints them)."""
    lines = []
    for episode in project.episodes:
        said = _loudness(project, episode)
        if said is not None:
            lines.append(f"{episode.id}: {said[0]}")
    return lines


def loudness_warnings(project: Project) -> list[Problem]:
    """A warning for each episode more than 1 LU from the show's loudness, whose true peak
    is over the show's limit, or whose audio could not be decoded to be measured
    (``--strict`` fails on them)."""
    found: list[Problem] = []
    for episode in project.episodes:
        path = f"episodes/{episode.id}/{episode.audio.source}"
        said = _loudness(project, episode)
        if said is not None and said[1]:
            found.append(Problem(path, "audio", f"{said[0]}; {said[1]}"))
        elif episode.audio.facts.unmeasured is not None:
            found.append(Problem(path, "audio", episode.audio.facts.unmeasured))
    return found


def _loudness(project: Project, episode: Episode) -> tuple[str, str] | None:
    """What is said of the episode's loudness, and what is wrong with it ("" if nothing);
    None where it was not measured (audio hosted elsewhere)."""
    facts, show = episode.audio.facts, project.config.audio
    if facts.lufs is None:
        return None
    differs = facts.lufs - show.loudness
    peak = "" if facts.peak is None else f", peak {facts.peak:.1f} dBTP"
    if abs(differs) < 0.05:
        how = f"at the show's {show.loudness:g} LUFS"
    else:
        louder = "louder" if differs > 0 else "quieter"
        how = f"{abs(differs):.1f} LU {louder} than the show's {show.loudness:g} LUFS"
    wrong = []
    if abs(differs) > 1.0:
        wrong.append("podcast apps expect every episode within 1 LU of the show's loudness")
    if facts.peak is not None and facts.peak > show.true_peak:
        wrong.append(f"the true peak is over the show's limit of {show.true_peak:g} dBTP")
    if wrong:
        wrong.append("encode it again, or deliver a WAV or FLAC master for castcal to encode")
    return f"{facts.lufs:.1f} LUFS{peak}: {how}", "; ".join(wrong)
