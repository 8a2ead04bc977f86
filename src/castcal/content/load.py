"""config.toml, episodes/ and events/ into a validated project, every problem collected.

Loading takes two steps around the build's audio probing: ``read`` reads every file it can
(taking what ``Known`` says earlier builds loaded and is unchanged), ``complete`` adds the
facts of the new episodes' audio, checks what needs them, and raises one ContentError that
lists every problem found in both.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TypeVar

from castcal.content import basis, cover, episodes, meetings
from castcal.content.basis import Basis
from castcal.content.config import FEED_NAME, Calendar, Config
from castcal.content.cover import Artwork
from castcal.content.episodes import Draft, Probed, Stamp
from castcal.content.files import Source, inside, listing, read_file, read_toml
from castcal.content.identity import podcast_guid
from castcal.content.models import Cover, Episode, Event, Project
from castcal.content.problems import Collector, validate
from castcal.errors import ContentError, Problem, display_path

T = TypeVar("T")
R = TypeVar("R")


class Each(Protocol):
    """Does ``work`` on each item, in order: one by one, or on every core (the build's
    pool hands content reading to its helpers when there are many files to read)."""

    def __call__(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


def one_by_one(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    return [work(item) for item in items]


@dataclass(frozen=True)
class Known:
    """What earlier builds loaded that is still as it was (the build checked every file
    each was read from): episodes by folder name with their warnings, meetings by file
    name, and the artwork's check with the size and mtime of the file it was made on."""

    episodes: Mapping[str, tuple[Episode, tuple[Problem, ...]]] = field(default_factory=dict)
    events: Mapping[str, Event] = field(default_factory=dict)
    artwork: tuple[int, int, Artwork] | None = None


@dataclass
class Reading:
    """A project read as far as it can be before the audio of new episodes is known."""

    root: Path
    config: Config | None
    basis: Basis  # what the checks use of config.toml, even of one with problems
    config_source: Source | None
    cover: Cover | None
    artwork: tuple[int, int, Artwork] | None  # the check the cover got, as Known's
    drafts: list[Draft]  # episodes read anew
    reused: list[Episode]  # episodes as earlier builds loaded them
    events: list[Event]
    new_events: list[tuple[Event, Source]]  # meetings read anew, with their files
    found: Collector


@dataclass(frozen=True)
class Loaded:
    """The project, and what was loaded anew for the build to remember: each new episode
    with the files it was read from and its warnings, each new meeting with its file."""

    project: Project
    new_episodes: list[tuple[Episode, list[Stamp], list[Problem]]]
    new_events: list[tuple[Event, Stamp]]


def read_config(path: Path, found: Collector) -> tuple[Config, Source] | None:
    """config.toml as a model, and the file it was read from."""
    parsed = read_toml(path, found)
    if parsed is None:
        return None
    if not parsed[1]:
        found.add(path, "-", "the file is empty; see the README for what config.toml holds")
        return None
    config = validate(Config, parsed[1], path, found)
    if config is None:
        _guid_hint(path, parsed[1], found)
    return (config, parsed[0]) if config is not None else None


def _guid_hint(path: Path, data: dict[str, object], found: Collector) -> None:
    """A missing podcast.guid is told its value when base_url is given: the UUIDv5 the
    README computes by hand, to be set once and kept."""
    site, podcast = data.get("site"), data.get("podcast")
    base = site.get("base_url") if isinstance(site, dict) else None
    if not (isinstance(base, str) and base.startswith("https://") and base.endswith("/")):
        return
    if not isinstance(podcast, dict) or "guid" in podcast:
        return
    hint = f'; for this base_url it is guid = "{podcast_guid(base + FEED_NAME)}" (keep it forever)'
    where = display_path(path, found.root)
    for i, problem in enumerate(found.problems):
        if (problem.path, problem.field) == (where, "podcast.guid"):
            found.problems[i] = replace(problem, message=problem.message + hint)


def load_config(path: Path) -> Config:
    """config.toml alone (for commands that work on what was built, such as publish)."""
    found = Collector(path.parent)
    read = read_config(path, found)
    if read is None:
        raise ContentError(found.problems)
    return read[0]


def read(
    root: Path,
    config_read: tuple[Config, Source] | None,
    known: Known,
    found: Collector,
    each: Each = one_by_one,
    *,
    config_path: Path | None = None,
) -> Reading:
    """The cover and the episodes but the audio of new ones (the meetings come from
    ``read_events``); ``config_read`` is what read_config gave from ``config_path``
    (default: config.toml in ``root``). None: config.toml has problems, and what does not
    depend on a part with problems is checked all the same (basis.py)."""
    config = config_read[0] if config_read else None
    parts = basis.of(config) if config else basis.salvage(config_path or root / "config.toml")
    art = _cover(root, parts.image, found, known.artwork) if parts.image is not None else None
    drafts, reused = _episodes(root, config, parts, found, known, each)
    if drafts and basis.SEGMENTS in parts.broken:
        found.add(
            root / "config.toml",
            basis.SEGMENTS,
            "the episodes' segment kinds are not checked until [podcast.segments] is fixed",
        )
    return Reading(
        root=root,
        config=config,
        basis=parts,
        config_source=config_read[1] if config_read else None,
        cover=art[0] if art else None,
        artwork=art[1] if art else None,
        drafts=drafts,
        reused=reused,
        events=[],
        new_events=[],
        found=found,
    )


def read_events(reading: Reading, known: Known, each: Each = one_by_one) -> None:
    """The meetings, into ``reading``."""
    found = reading.found
    events = _events(reading.root, reading.config, reading.basis, found, known, each)
    reading.events, reading.new_events = events


def _cover(
    root: Path, name: str, found: Collector, known: tuple[int, int, Artwork] | None
) -> tuple[Cover, tuple[int, int, Artwork]] | None:
    toml = root / "config.toml"
    path = inside(root, name)
    if path is None:
        found.add(toml, "podcast.image", f"{name!r} points outside the project folder")
        return None
    try:
        source = read_file(path)
    except OSError:
        found.add(toml, "podcast.image", f"{name!r} does not exist")
        return None
    if known is not None and known[:2] == (source.size, source.mtime):
        artwork = known[2]  # as checked when first seen
    else:
        checked = cover.check(source.data, path.suffix.lower())
        if isinstance(checked, str):
            found.add(path, "podcast.image", checked)
            return None
        artwork = checked
    made = Cover(
        data=source.data, extension=artwork.extension, mime=artwork.mime, size=artwork.size
    )
    return made, (source.size, source.mtime, artwork)


def _episodes(
    root: Path, config: Config | None, parts: Basis, found: Collector, known: Known, each: Each
) -> tuple[list[Draft], list[Episode]]:
    folder = root / "episodes"
    if not folder.is_dir():
        found.add(folder, "-", "the episodes/ folder is missing")
        return [], []
    todo, reused = [], []
    for path in listing(folder, found):
        if not path.is_dir():
            continue
        hit = known.episodes.get(path.name)
        if hit is not None and config is not None:
            reused.append(hit[0])
            found.warnings.extend(hit[1])
        else:
            todo.append((root, path, parts.kinds))
    drafts = []
    for draft, problems in each(read_episode, todo):
        found.problems += problems
        if draft is not None:
            drafts.append(draft)
    return drafts, reused


def read_episode(
    task: tuple[Path, Path, tuple[str, ...] | None],
) -> tuple[Draft | None, list[Problem]]:
    """One episode folder read (by a helper of the build, or the build itself), given
    the segment kinds declared in config.toml (None: not known)."""
    root, path, kinds = task
    found = Collector(root)
    return episodes.read(path, kinds, found), found.problems


def _events(
    root: Path, config: Config | None, parts: Basis, found: Collector, known: Known, each: Each
) -> tuple[list[Event], list[tuple[Event, Source]]]:
    folder = root / "events"
    if not folder.is_dir():
        return [], []
    paths = listing(folder, found)
    if paths:
        _need_calendar(root / "config.toml", parts, found)
    events, todo = [], []
    for path in paths:
        if path.suffix != ".toml" or not path.is_file():
            found.add(path, "-", "events/ holds one .toml file per meeting and nothing else")
            continue
        hit = known.events.get(path.name)
        if hit is not None and config is not None and config.calendar is not None:
            events.append(hit)
        else:
            todo.append((root, path, parts.calendar, parts.base_url))
    new = []
    for meeting, problems in each(read_event, todo):
        found.problems += problems
        if meeting is not None:
            events.append(meeting[0])
            new.append(meeting)
    events.sort(key=lambda e: (e.start, e.id))
    meetings.check_unique(events, folder, found)
    if new:  # meetings loaded before kept the rules; without new ones, their span only shrinks
        meetings.check_zone(events, folder, found)
    return events, new


def _need_calendar(toml: Path, parts: Basis, found: Collector) -> None:
    """events/ holds meetings: their times depend on [calendar] in config.toml."""
    if basis.CALENDAR in parts.broken:
        found.add(
            toml,
            basis.CALENDAR,
            "the meetings in events/ are checked as files only until [calendar] is fixed: "
            "their times depend on it",
        )
    elif parts.parsed and parts.calendar is None:
        found.add(toml, basis.CALENDAR, "required, because events/ holds meetings")


def read_event(
    task: tuple[Path, Path, Calendar | None, str],
) -> tuple[tuple[Event, Source] | None, list[Problem]]:
    """One meeting's file read (by a helper of the build, or the build itself), given
    [calendar] and the site's base_url from config.toml (None and "": not known)."""
    root, path, calendar, base_url = task
    found = Collector(root)
    return meetings.read(path, calendar, base_url, found), found.problems


def complete(reading: Reading, probed: Mapping[str, Mapping[str, Probed]]) -> Loaded:
    """The project, given what the build learned of the new episodes' audio (``probed``,
    by folder name, then by source as episode.toml names it); ContentError listing every
    problem found while reading and now."""
    found, config, root = reading.found, reading.config, reading.root
    # Without the podcast's GUID (config.toml has problems there), episodes' GUIDs are
    # derived from a stand-in: one per folder all the same, only to check for clashes.
    podcast_guid = reading.basis.podcast_guid or uuid.UUID(int=0)
    new: list[tuple[Episode, list[Stamp], list[Problem]]] = []
    for draft in reading.drafts:
        warned = len(found.warnings)
        mine = probed.get(draft.id, {})
        episode = episodes.complete(draft, podcast_guid, mine, found)
        if episode is not None:
            new.append((episode, episodes.stamps(draft, mine, root), found.warnings[warned:]))
    # In publishing order, so a clash is reported on the newer episode, the one that took
    # a number or GUID already in use.
    everything = sorted(
        [*reading.reused, *(e for e, _, _ in new)], key=lambda e: (e.meta.published, e.id)
    )
    episodes.check_unique(everything, root / "episodes", found)
    named = {p.stem for p in (root / "events").glob("*.toml")}
    episodes.check_meetings(everything, named, root, found)
    if found.problems or config is None or reading.cover is None:
        raise ContentError(found.problems)
    source = reading.config_source
    assert source is not None
    project = Project(
        root=root,
        config=config,
        cover=reading.cover,
        episodes=tuple(everything),
        events=tuple(reading.events),
        warnings=tuple(found.warnings),
        fingerprint=_fingerprint(source.data, reading.cover.name),
    )
    stamps = [
        (e, (s.path.relative_to(root).as_posix(), s.size, s.mtime)) for e, s in reading.new_events
    ]
    return Loaded(project, new, stamps)


def _fingerprint(config: bytes, cover_name: str) -> str:
    return hashlib.blake2b(config + b"\0" + cover_name.encode(), digest_size=12).hexdigest()
