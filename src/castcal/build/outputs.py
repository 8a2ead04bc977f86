"""The second phase of a build: every file besides the audio, rendered from the project and
the facts gathered, each only when it is not fresh, its big ones from reused pieces.

Each group of outputs below computes the fingerprint of every file it makes, and yields
those not still as made from the same inputs, rendered. Pieces a group shares (each
meeting's VEVENT for the series and its own file, the feeds for the manifest) are made
once for the group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

from castcal.build import manifest, pieces
from castcal.build.cache import Store
from castcal.build.fresh import Outputs, fingerprint
from castcal.content.models import Episode, Event, Project
from castcal.render import atom, chapters, feed, ics, notes, page, paths, segments
from castcal.render.facts import Published, Revision

T = TypeVar("T")


@dataclass(frozen=True)
class Inputs:
    """What the outputs are made from, and where their pieces are kept."""

    project: Project
    revisions: Mapping[str, Revision]  # each meeting's, by UID
    now: datetime  # the build's time: which meetings are still ahead
    segment_guids: Mapping[str, str]  # each segment feed's podcast:guid, by kind
    store: Store


class Rendered(NamedTuple):
    name: str  # in feeds/
    print: str  # of everything it was made from
    data: bytes | bytearray


def rendered(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Every output that needs nothing of the published audio and is not fresh in
    ``outputs``, rendered: the cover, the chapters and transcripts, the calendars and
    the Atom feed, the page."""
    yield from _cover(inputs, outputs)
    yield from _episode_files(inputs, outputs)
    yield from _calendars(inputs, outputs)
    yield from _page(inputs, outputs)


def rendered_feeds(inputs: Inputs, published: Published, outputs: Outputs) -> Iterator[Rendered]:
    """The feeds, which tell the length of each published audio file (``published``),
    and the manifest of what they publish, rendered where they are not fresh."""
    yield from _feeds(inputs, published, outputs)


def _stale(outputs: Outputs, name: str, print_: str) -> bool:
    return not outputs.fresh(name, print_)


def _cover(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    cover = inputs.project.cover
    name, print_ = paths.cover(inputs.project), fingerprint("cover", cover.name)
    if _stale(outputs, name, print_):
        yield Rendered(name, print_, cover.data)


def _episode_files(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each episode's chapters and transcript."""
    project = inputs.project
    show = project.config.podcast
    show_print = fingerprint(
        show.title, show.author, {k: v.title for k, v in show.segments.items()}
    )
    for episode in project.episodes:
        name, print_ = paths.chapters(episode), f"chapters {show_print} {episode.fingerprint}"
        if _stale(outputs, name, print_):
            yield Rendered(name, print_, chapters.json_chapters(show, episode))
        if episode.transcript is not None:
            name, print_ = paths.transcript(episode), f"vtt {episode.fingerprint}"
            if _stale(outputs, name, print_):
                yield Rendered(name, print_, episode.transcript.encode("utf-8"))


def _calendars(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each meeting's own calendar, the series and its Atom feed."""
    project = inputs.project
    if project.config.calendar is None:
        return
    keys = [_key(inputs, ics.vevent_key(e, inputs.revisions[e.uid])) for e in project.events]
    singles = [(paths.event(e), f"event {k}") for e, k in zip(project.events, keys, strict=True)]
    series = fingerprint("calendar", project.fingerprint, keys)
    stale = [_stale(outputs, name, print_) for name, print_ in singles]
    if any(stale) or _stale(outputs, paths.CALENDAR, series):
        keyed = list(zip(keys, project.events, strict=True))
        made = functools.partial(_vevents, inputs)
        vevents = pieces.reuse(inputs.store, paths.CALENDAR, keyed, made)
        for event, vevent, (name, print_), old in zip(
            project.events, vevents, singles, stale, strict=True
        ):
            if old:
                yield Rendered(name, print_, ics.single(project, event, vevent))
        if _stale(outputs, paths.CALENDAR, series):
            yield Rendered(paths.CALENDAR, series, ics.series(project, vevents))
    yield from _atom(inputs, outputs)


def _vevents(inputs: Inputs, events: list[Event]) -> list[bytes]:
    return [ics.vevent(inputs.project, e, inputs.revisions[e.uid]) for e in events]


def _atom(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    project = inputs.project
    newest = atom.newest_first(project)
    keyed = [(atom.entry_key(e, inputs.revisions[e.uid]), e) for e in newest]
    print_ = fingerprint("atom", project.fingerprint, [k for k, _ in keyed])
    if _stale(outputs, paths.ATOM, print_):
        document = atom.document(project, inputs.revisions)
        made = functools.partial(_atom_entries, inputs, document)
        entries = _reuse(inputs, paths.ATOM, keyed, made)
        yield Rendered(paths.ATOM, print_, atom.assemble(document, entries))


def _atom_entries(inputs: Inputs, document: bytes, events: list[Event]) -> list[bytes]:
    return list(atom.entries(inputs.project, document, events, inputs.revisions))


def _page(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    project = inputs.project
    episodes, upcoming, past = page.lists(project, inputs.now)
    keyed_episodes = [(page.episode_key(e), e) for e in episodes]
    keyed_meetings = [(page.meeting_key(e), e) for e in upcoming + past]
    print_ = fingerprint(
        "page", project.fingerprint, [k for k, _ in keyed_episodes],
        [k for k, _ in keyed_meetings], len(upcoming),
    )  # fmt: skip
    if not _stale(outputs, paths.PAGE, print_):
        return
    made = functools.partial(_episode_entries, inputs)
    entries = _reuse(inputs, "page-episodes", keyed_episodes, made)
    meetings = _reuse(inputs, "page-meetings", keyed_meetings, _meeting_entries)
    ahead, before = page.Entries(meetings[: len(upcoming)]), page.Entries(meetings[len(upcoming) :])
    yield Rendered(paths.PAGE, print_, page.render(project, page.Entries(entries), ahead, before))


def _episode_entries(inputs: Inputs, episodes: list[Episode]) -> list[bytes]:
    html = _notes(inputs, episodes)
    return [page.episode_html(inputs.project, e, html.get(e.id)).encode("utf-8") for e in episodes]


def _meeting_entries(events: list[Event]) -> list[bytes]:
    return [page.meeting_html(e).encode("utf-8") for e in events]


def _feeds(inputs: Inputs, published: Published, outputs: Outputs) -> Iterator[Rendered]:
    """The main feed, the segment feeds, then the manifest of what they publish. Their
    fingerprint is of what they are made from: the project, the episodes in order, the
    published files' lengths and durations, the segment feeds' GUIDs (and for the
    manifest, the meetings' revisions)."""
    project = inputs.project
    made_from = fingerprint(
        "feeds", project.fingerprint, dict(inputs.segment_guids),
        [(e.id, e.fingerprint) for e in feed.newest_first(project)],
        sorted(published.lengths.items()), sorted(published.durations.items()),
    )  # fmt: skip
    names = [paths.FEED, *(paths.segment_feed(kind) for kind in project.config.podcast.segments)]
    revisions = [(e.id, e.uid, inputs.revisions[e.uid]) for e in project.events]
    listed = fingerprint("manifest", made_from, revisions)
    stale = [name for name in names if _stale(outputs, name, made_from)]
    if not stale and not _stale(outputs, paths.MANIFEST, listed):
        return
    main = feed.main_feed(project, published.lengths)
    kinds = segments.feeds(project, published.lengths, published.durations, inputs.segment_guids)
    for each in (main, *kinds):
        if each.path in stale:
            yield Rendered(each.path, made_from, _feed(inputs, each))
    if _stale(outputs, paths.MANIFEST, listed):
        yield Rendered(
            paths.MANIFEST, listed, manifest.render(project, main, kinds, inputs.revisions)
        )


def _feed(inputs: Inputs, each: feed.Feed) -> bytes:
    channel = feed.channel(inputs.project, each)
    keyed = [(entry.key(), entry) for entry in each.entries]
    items = _reuse(inputs, each.path, keyed, functools.partial(_items, inputs, channel))
    return feed.assemble(channel, items)


def _items(inputs: Inputs, channel: bytes, entries: list[feed.Entry]) -> list[bytes]:
    html = _notes(inputs, [entry.episode for entry in entries])
    return list(feed.items(inputs.project, channel, entries, html))


def _notes(inputs: Inputs, episodes: Sequence[Episode]) -> dict[str, str]:
    """The show notes of ``episodes`` as HTML, by episode id: rendered once for every
    output that shows them, and kept while any episode has those notes."""
    with_notes = [e for e in episodes if e.notes_markdown]
    keyed = [(fingerprint("notes", e.notes_markdown), e.notes_markdown or "") for e in with_notes]
    everyone = {
        fingerprint("notes", e.notes_markdown) for e in inputs.project.episodes if e.notes_markdown
    }
    html = pieces.reuse(inputs.store, "notes", keyed, _notes_html, keep=everyone)
    return {e.id: h.decode("utf-8") for e, h in zip(with_notes, html, strict=True)}


def _notes_html(markdown: list[str]) -> list[bytes]:
    return [notes.to_html(text).encode("utf-8") for text in markdown]


def _key(inputs: Inputs, key: tuple[object, ...]) -> str:
    """A piece's key: what it is made from, within the project (config.toml, the cover)."""
    return fingerprint(inputs.project.fingerprint, key)


def _reuse(
    inputs: Inputs,
    namespace: str,
    keyed: Sequence[tuple[tuple[object, ...], T]],
    make: Callable[[list[T]], Iterable[bytes]],
) -> list[bytes]:
    """The pieces of ``keyed`` (what each is made from, the item), from ``namespace``."""
    return pieces.reuse(inputs.store, namespace, [(_key(inputs, k), i) for k, i in keyed], make)
