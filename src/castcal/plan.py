"""What a build writes, file by file, in the order it writes them, each with a fingerprint
of its inputs so that an output whose inputs did not change is not rendered again.

The renderers (feedgen, icalendar, Jinja2, mutagen) are imported only when some output
needs them: a build with nothing changed never loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from castcal import layout, manifest, segments
from castcal.chapters import chapters
from castcal.models import Episode, Event, Media, Project
from castcal.notes import Rendered
from castcal.output import Data
from castcal.state import Outputs, Parts, Print, fingerprint

if TYPE_CHECKING:
    from castcal.tagging import TagInfo

Piece = TypeVar("Piece", str, bytes)  # a rendered piece of an output: text or XML bytes
NOTES = "notes"  # the pieces store of show notes as HTML


class Planned(NamedTuple):
    """One output (a named tuple: a build plans thousands)."""

    name: str  # inside the output folder
    fingerprint: Print
    produce: Callable[[], tuple[Data, dict[str, Any]]]  # the bytes, and facts to remember
    # May be made by a helper process while the build goes on: nothing that comes later
    # needs what making it leaves behind, and it leaves nothing behind but its file and
    # its own cache files.
    aside: bool = False


@dataclass
class Published:
    """Facts about what this build publishes, filled in as the files are written (or
    found already written): the length of each file, the duration of each segment cut."""

    lengths: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # outputs found as the last build left them
    # What to wait for before the facts are all in: files that helper processes make; and
    # before the manifest, outputs that helpers make aside.
    pending: list[Callable[[], None]] = field(default_factory=list)
    aside: list[Callable[[], None]] = field(default_factory=list)

    def keep(self, name: str, records: Outputs) -> None:
        """``name`` stays as the last build wrote it: its facts are those recorded."""
        self.lengths[name] = records.size(name)
        extra = records.extra(name)
        if "duration" in extra:
            self.durations[name] = float(extra["duration"])
        self.kept.append(name)

    def settle(self) -> None:
        """Wait for the files made elsewhere (by helper processes): then their facts are in."""
        while self.pending:
            self.pending.pop(0)()

    def finish(self) -> None:
        """Wait for everything made elsewhere, the outputs made aside too."""
        self.settle()
        while self.aside:
            self.aside.pop(0)()


def _kept(records: Outputs | None, published: Published, name: str, print_: Print) -> bool:
    """True for a file left as the last build made it from these inputs: kept."""
    if records is None or not records.fresh(name, print_):
        return False
    published.keep(name, records)
    return True


def _tag_print(project: Project) -> str:
    """What every published audio file's tags share: the show, the cover, segment titles."""
    show = project.config.podcast
    segment_titles = {k: v.title for k, v in show.segments.items()}
    return fingerprint(show.title, show.author, project.cover.name, segment_titles)


def _copy_info(project: Project, episode: Episode) -> TagInfo:
    """The tags of the episode's published copies."""
    from castcal import tagging

    show = project.config.podcast
    chapter_list = tuple(chapters(show, episode))
    return tagging.info_for(
        project, episode, title=episode.meta.title, album=show.title, chapters=chapter_list
    )


def _tagged(
    project: Project, episode: Episode, item: Media
) -> Callable[[], tuple[bytes, dict[str, Any]]]:
    def produce() -> tuple[bytes, dict[str, Any]]:
        from castcal import tagging

        source = (episode.folder / item.source).read_bytes()
        return tagging.tag(source, item.facts.extension, _copy_info(project, episode)), {}

    return produce


def _copy_print(tag_print: str, episode: Episode, item: Media) -> Print:
    return ("audio", tag_print, episode.fingerprint, item.source)


def _predicted(project: Project, records: Outputs | None) -> dict[str, int] | None:
    """The lengths the episodes' tagged copies (not their segments) will have, known before
    they are made: a kept copy's from the records, an MP3's from its tag and audio. None if
    one cannot be known so (an M4A or Ogg copy, which mutagen saves; an unreadable file)."""
    from castcal import tagging

    tag_print, lengths = _tag_print(project), {}
    for episode in project.episodes:
        for item in (episode.audio, *episode.alternates):
            path = layout.media(episode, item)
            if path is None:
                continue
            if records is not None and records.fresh(path, _copy_print(tag_print, episode, item)):
                lengths[path] = records.size(path)
            elif item.facts.extension != "mp3":
                return None
            else:
                try:
                    info = _copy_info(project, episode)
                    lengths[path] = tagging.mp3_length(episode.folder / item.source, info)
                except OSError:
                    return None  # the copy's own making reports it
    return lengths


def _episode_segments(
    project: Project, planned_segments: list[segments.Planned] | None
) -> dict[str, list[segments.Planned]]:
    by_episode: dict[str, list[segments.Planned]] = {}
    for planned in segments.plan(project) if planned_segments is None else planned_segments:
        by_episode.setdefault(planned.episode.id, []).append(planned)
    return by_episode


def _audio_files(
    project: Project, episode: Episode, planned: list[segments.Planned], tag_print: str
) -> Iterator[tuple[str, Print, Media | segments.Planned]]:
    """The audio files published for ``episode``, each with its fingerprint: made from the
    episode and what tag_print covers, those two fingerprints side by side (no hashing, no
    new strings: tens of thousands are kept in the output records). Its tagged copies, then
    the segments cut from the same MP3, which the disk has just read (an hour is 57 MB; a
    thousand do not stay cached until a second pass)."""
    for item in (episode.audio, *episode.alternates):
        path = layout.media(episode, item)
        if path is not None:
            yield path, _copy_print(tag_print, episode, item), item
    for segment in planned:
        where = segments.target(segment)
        if where is not None:
            yield where[0], ("segment", tag_print, episode.fingerprint, segment.kind), segment


def audio_to_make(project: Project, records: Outputs, limit: int) -> int:
    """How many episodes (``limit`` at most) have a tagged copy whose record says it must be
    made again: a quick guess at a build's audio work, from the records alone (no file is
    looked at; a copy's segments are made from the same inputs)."""
    tag_print, entries, count = _tag_print(project), records.entries, 0
    for episode in project.episodes:
        name = layout.media(episode, episode.audio)
        if name is None:
            continue
        entry = entries.get(name)
        if entry is None or entry[0] != _copy_print(tag_print, episode, episode.audio):
            count += 1
            if count >= limit:
                break
    return count


def audio(
    project: Project,
    numbers: Iterable[int],
    published: Published,
    records: Outputs | None = None,
    planned_segments: list[segments.Planned] | None = None,
) -> Iterator[Planned]:
    """The published audio files of the episodes with these numbers (their places in
    ``project.episodes``), episode by episode: each one's tagged copies, then its segments.
    With ``records``, a file still as it was made from the same inputs is only kept. A
    helper process makes those of the episodes it takes (see helpers.py)."""
    tag_print, by_episode = _tag_print(project), _episode_segments(project, planned_segments)
    cuts: dict[str, Any] = {}
    for number in numbers:
        episode = project.episodes[number]
        files = _audio_files(project, episode, by_episode.get(episode.id, []), tag_print)
        for name, print_, source in files:
            if _kept(records, published, name, print_):
                continue
            if isinstance(source, segments.Planned):

                def cut(planned: segments.Planned = source) -> tuple[bytes, dict[str, Any]]:
                    data, duration = segments.render(project, planned, cuts)
                    return data, {"duration": duration}

                yield Planned(name, print_, cut)
            else:
                yield Planned(name, print_, _tagged(project, episode, source))


def _event_print(project: Project, event: Event, revision: manifest.Revision) -> Print:
    """What a meeting's files are made from, side by side, not hashed, as the episodes'
    files (a thousand meetings); the id and UID too: a renamed file keeps its content, not
    its UID."""
    return (
        "event", project.fingerprint, event.id, event.uid, event.fingerprint,
        revision.sequence, revision.last_modified, revision.created,
    )  # fmt: skip


def outputs(
    project: Project,
    revisions: dict[str, manifest.Revision],
    now: datetime,
    segment_guids: dict[str, str],  # every kind's podcast:guid
    published: Published,
    parts: Parts | None = None,
    planned_segments: list[segments.Planned] | None = None,
    records: Outputs | None = None,
    numbers: Iterable[int] | None = None,
) -> Iterator[Planned]:
    """Every output in the order written: the page (made aside, if it can be), the files a
    feed points at (the cover, chapters, transcripts, the meetings' own calendars, then the
    audio), then the feeds and calendars, and the manifest last. Generated lazily: the
    feeds' fingerprints need the lengths of the audio written before them. With
    ``records`` (of the last build), an episode's or meeting's file still as it was made
    from the same inputs is not planned at all, only kept (``published.kept``): thousands
    are, in a build after one change. ``numbers``: the episodes whose audio this process
    makes, when helper processes make the others' (``published.settle`` waits for them);
    all by default."""
    show = project.config.podcast
    tag_print = _tag_print(project)
    cover = project.cover
    event_prints = {e.uid: _event_print(project, e, revisions[e.uid]) for e in project.events}
    # repr, not JSON: the meetings' prints hold times, which JSON would hand back one by one.
    meetings = repr(tuple(event_prints.values()))
    calendar_print = fingerprint("calendar", project.fingerprint, meetings)
    to_html: list[Rendered] = []  # notes as HTML, with the last build's: made when needed

    def notes_html() -> Rendered:
        if not to_html:
            to_html.append(Rendered(parts.get(NOTES) if parts is not None else {}))
        return to_html[0]

    def pieced(
        name: str,
        render: Callable[[Mapping[Hashable, Piece]], tuple[Data, Mapping[Hashable, Piece]]],
    ) -> Callable[[], tuple[Data, dict[str, Any]]]:
        """An output rendered from the pieces of its last render that are still valid."""

        def produce() -> tuple[Data, dict[str, Any]]:
            done = ahead.pop(name, None)
            data, pieces = done if done is not None else render(before(name))
            if parts is not None:
                parts.put(name, pieces)
            return data, {}

        return produce

    def before(name: str) -> Mapping[Hashable, Any]:
        return parts.get(name) if parts is not None else {}

    # Outputs rendered ahead of their turn, while helper processes make the audio: written
    # in their turn all the same, the feeds after the files they point at.
    ahead: dict[str, tuple[Data, Mapping[Hashable, Any]]] = {}

    # The page first, and aside: it is made from the episodes and meetings alone (no
    # published file's length), so a helper process may make it, with its Jinja2 and its
    # pieces, from the start, while this one makes everything else.
    upcoming = [e.id for e in project.events if e.end >= now]

    def page(before: Mapping[Hashable, bytes]) -> tuple[Data, Mapping[Hashable, bytes]]:
        from castcal import page as show_page

        return show_page.render(project, now, before, notes_html())

    page_print = fingerprint(
        "page", project.fingerprint, [e.fingerprint for e in project.episodes], calendar_print,
        upcoming,
    )  # fmt: skip
    yield Planned(layout.PAGE, page_print, pieced(layout.PAGE, page), aside=True)
    yield Planned(layout.cover(project), fingerprint("cover", cover.name), lambda: (cover.data, {}))

    def kept(name: str, print_: Print) -> bool:
        return _kept(records, published, name, print_)

    if planned_segments is None:
        planned_segments = segments.plan(project)
    for episode in project.episodes:

        def json_chapters(episode: Episode = episode) -> tuple[bytes, dict[str, Any]]:
            from castcal.chapters import json_chapters as render

            return render(show, episode), {}

        print_: Print = ("chapters", tag_print, episode.fingerprint)
        if not kept(layout.chapters(episode), print_):
            yield Planned(layout.chapters(episode), print_, json_chapters)
        if episode.transcript is not None:

            def transcript(episode: Episode = episode) -> tuple[bytes, dict[str, Any]]:
                assert episode.transcript is not None
                return episode.transcript.encode(), {}

            path, print_ = layout.transcript(episode), ("vtt", episode.fingerprint)
            if not kept(path, print_):
                yield Planned(path, print_, transcript)
    calendar = project.config.calendar
    vevents: dict[Print, str] = {}  # each meeting's VEVENT, made once for both calendars
    for event in project.events:
        revision, event_print = revisions[event.uid], event_prints[event.uid]
        if kept(layout.event(event), event_print):
            continue

        def single(
            event: Any = event, revision: Any = revision, key: Print = event_print
        ) -> tuple[bytes, dict[str, Any]]:
            from castcal import ics

            vevents[key] = ics.vevent_text(project, event, revision)
            return ics.single(project, event, revision, vevents[key]), {}

        yield Planned(layout.event(event), event_print, single)

    def series(before: Mapping[Hashable, str]) -> tuple[Data, Mapping[Hashable, str]]:
        """The series, reusing each meeting's VEVENT text from the last build where the
        meeting did not change: a scheduled job re-renders only what changed."""
        from castcal import ics

        # The calendar's properties and VTIMEZONE: 0.07 s to make for 40 years.
        opening_key = ("series-opening", project.fingerprint, ics.series_years(project))
        texts: dict[Hashable, str] = {
            opening_key: before.get(opening_key) or ics.series_opening(project)
        }
        for event in project.events:
            key = event_prints[event.uid]
            texts[key] = (
                before.get(key)
                or vevents.get(key)
                or ics.vevent_text(project, event, revisions[event.uid])
            )
        joined = [texts[event_prints[e.uid]] for e in project.events]
        return ics.series(project, revisions, joined, texts[opening_key]), texts

    def atom_feed(before: Mapping[Hashable, bytes]) -> tuple[Data, Mapping[Hashable, bytes]]:
        from castcal import atom

        return atom.render(project, revisions, before)

    feeds: dict[str, Any] = {}  # by path: made when first needed, then shared
    newest: list[Episode] = []  # the episodes newest first: sorted once for all the feeds

    def main_feed(lengths: Mapping[str, int]) -> Any:
        from castcal import rss

        if not newest:
            newest.extend(rss.newest_first(project))
        if layout.FEED not in feeds:
            feeds[layout.FEED] = rss.main_feed(project, lengths, newest)
        return feeds[layout.FEED]

    # Helper processes make the audio meanwhile (a first build): what needs none of it is
    # rendered now. The main feed needs the tagged copies' lengths, which an MP3's tag and
    # audio tell before it is made; the segments' cuts, not (segment feeds wait).
    speculated: dict[str, int] | None = None
    if numbers is not None:
        if calendar is not None:
            for name, render in ((layout.CALENDAR, series), (layout.ATOM, atom_feed)):
                if records is None or not records.fresh(name, calendar_print):
                    ahead[name] = render(before(name))
        speculated = _predicted(project, records)
        if speculated is not None:
            from castcal import rss

            early = main_feed(speculated)
            ahead[layout.FEED] = rss.render(project, early, before(layout.FEED), notes_html())

    # The audio last of the files the feeds point at: helper processes, when there are any,
    # make theirs meanwhile.
    everyone = range(len(project.episodes))
    yield from audio(project, everyone if numbers is None else numbers, published, records,
                     planned_segments)  # fmt: skip
    published.settle()
    if speculated is not None and any(published.lengths.get(n) != v for n, v in speculated.items()):
        # A source changed while the build read it: the main feed is made again, as it is.
        ahead.pop(layout.FEED, None)
        feeds.pop(layout.FEED, None)

    # The feeds: everything below depends on the lengths written above.
    feeds_print = fingerprint(
        "feeds",
        project.fingerprint,
        [e.fingerprint for e in project.episodes],
        sorted(i for i in published.lengths.items() if i[0].startswith("audio/")),
        sorted(published.durations.items()),
        segment_guids,
    )

    def feed_sections() -> dict[str, bytes]:
        made = made_feeds()
        segment_feeds = [made[segments.feed_path(kind)] for kind in show.segments]
        return manifest.feed_sections(made[layout.FEED], segment_feeds)

    def made_feeds() -> dict[str, Any]:
        main_feed(published.lengths)
        if len(feeds) < 1 + len(show.segments):
            lengths, durations = published.lengths, published.durations
            made = segments.feeds(
                project, planned_segments, lengths, durations, segment_guids, newest
            )
            feeds.update((feed.path, feed) for feed in made)
        return feeds

    def feed(
        path: str,
    ) -> Callable[[Mapping[Hashable, bytes]], tuple[Data, Mapping[Hashable, bytes]]]:
        def render(before: Mapping[Hashable, bytes]) -> tuple[Data, Mapping[Hashable, bytes]]:
            from castcal import rss

            return rss.render(project, made_feeds()[path], before, notes_html())

        return render

    for path in (layout.FEED, *(segments.feed_path(kind) for kind in show.segments)):
        yield Planned(path, feeds_print, pieced(path, feed(path)))
    feed_records: dict[str, bytes] = {}  # the manifest's, while the feeds' items are at hand
    if feeds:  # then let the items go: tens of thousands of them at 10,000 episodes
        feed_records = feed_sections()
        feeds.clear()
    if calendar is not None:
        yield Planned(layout.CALENDAR, calendar_print, pieced(layout.CALENDAR, series))
        yield Planned(layout.ATOM, calendar_print, pieced(layout.ATOM, atom_feed))

    def manifest_bytes(before: Mapping[Hashable, bytes]) -> tuple[Data, Mapping[Hashable, bytes]]:
        """The manifest, its feeds' records reused when only meetings changed, and the
        other way round."""
        prints = {"episodes": feeds_print, "segments": feeds_print, "events": calendar_print}
        texts = {name: before[key] for name, p in prints.items() if (key := (name, p)) in before}
        if "events" not in texts:
            texts.update(manifest.event_sections(project, revisions))
        if "episodes" not in texts or "segments" not in texts:
            texts.update(feed_records or feed_sections())
        pieces: dict[Hashable, bytes] = {(name, prints[name]): text for name, text in texts.items()}
        return manifest.assemble(project, texts), pieces

    published.finish()  # the manifest last of all: after what helpers make aside, too
    yield Planned(
        manifest.NAME,
        fingerprint("manifest", feeds_print, calendar_print),
        pieced(manifest.NAME, manifest_bytes),
    )
    if to_html and parts is not None:  # notes were needed: keep every episode's HTML
        markdown = (e.notes_markdown for e in project.episodes if e.notes_markdown)
        if (notes_kept := to_html[0].kept(markdown)) is not None:
            parts.put(NOTES, notes_kept)
