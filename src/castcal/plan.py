"""What a build writes, file by file, in the order it writes them, each with a fingerprint
of its inputs so that an output whose inputs did not change is not rendered again.

The renderers (feedgen, icalendar, Jinja2, mutagen) are imported only when some output
needs them: a build with nothing changed never loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from castcal import layout, manifest, segments
from castcal.chapters import chapters
from castcal.models import Episode, Media, Project
from castcal.state import Parts, fingerprint

Piece = TypeVar("Piece", str, bytes)  # a rendered piece of an output: text or XML bytes


@dataclass(frozen=True)
class Planned:
    name: str  # inside the output folder
    fingerprint: str
    produce: Callable[[], tuple[bytes, dict[str, Any]]]  # the bytes, and facts to remember


@dataclass
class Published:
    """Facts about what this build publishes, filled in as the files are written (or
    found already written): the length of each file, the duration of each segment cut."""

    lengths: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)


def _tag_print(project: Project) -> str:
    """What every published audio file's tags share: the show, the cover, segment titles."""
    show = project.config.podcast
    segment_titles = {k: v.title for k, v in show.segments.items()}
    return fingerprint(show.title, show.author, project.cover.name, segment_titles)


def _tagged(
    project: Project, episode: Episode, item: Media
) -> Callable[[], tuple[bytes, dict[str, Any]]]:
    def produce() -> tuple[bytes, dict[str, Any]]:
        from castcal import tagging

        source = (episode.folder / item.source).read_bytes()
        show = project.config.podcast
        info = tagging.info_for(
            project,
            episode,
            title=episode.meta.title,
            album=show.title,
            chapters=tuple(chapters(show, episode)),
        )
        return tagging.tag(source, item.facts.extension, info), {}

    return produce


def with_lengths(project: Project, published: Published) -> Project:
    """The project with each published copy's length in place of its source's."""

    def update(episode: Episode, item: Media) -> Media:
        path = layout.media(episode, item)
        length = published.lengths.get(path) if path else None
        if length is None:
            return item
        return item.model_copy(update={"facts": item.facts.model_copy(update={"length": length})})

    episodes = tuple(
        e.model_copy(
            update={
                "audio": update(e, e.audio),
                "alternates": tuple(update(e, a) for a in e.alternates),
            }
        )
        for e in project.episodes
    )
    return project.model_copy(update={"episodes": episodes})


def outputs(
    project: Project,
    revisions: dict[str, manifest.Revision],
    now: datetime,
    segment_guids: dict[str, str],  # every kind's podcast:guid
    published: Published,
    parts: Parts | None = None,
) -> Iterator[Planned]:
    """Every output in the order written: the files a feed points at, then the feeds and
    calendars, the page, and the manifest last. Generated lazily: the feeds' fingerprints
    need the lengths of the audio written before them."""
    show = project.config.podcast
    # Each segment feed's podcast:guid: the published one, else derived from its URL.
    tag_print = _tag_print(project)
    cover = project.cover
    yield Planned(layout.cover(project), fingerprint("cover", cover.name), lambda: (cover.data, {}))
    for episode in project.episodes:
        for item in (episode.audio, *episode.alternates):
            path = layout.media(episode, item)
            if path is not None:
                print_ = fingerprint("audio", tag_print, episode.fingerprint, item.source)
                yield Planned(path, print_, _tagged(project, episode, item))
    cuts: dict[str, Any] = {}
    planned_segments = segments.plan(project)
    for planned in planned_segments:
        where = segments.target(planned)
        if where is None:
            continue
        print_ = fingerprint("segment", tag_print, planned.episode.fingerprint, planned.kind)

        def cut(planned: segments.Planned = planned) -> tuple[bytes, dict[str, Any]]:
            data, duration = segments.render(project, planned, cuts)
            return data, {"duration": duration}

        yield Planned(where[0], print_, cut)
    for episode in project.episodes:
        chapter_print = fingerprint("chapters", tag_print, show.author, episode.fingerprint)

        def json_chapters(episode: Episode = episode) -> tuple[bytes, dict[str, Any]]:
            from castcal.chapters import json_chapters as render

            return render(show, episode), {}

        yield Planned(layout.chapters(episode), chapter_print, json_chapters)
        if episode.transcript is not None:
            text = episode.transcript.encode()

            def transcript(text: bytes = text) -> tuple[bytes, dict[str, Any]]:
                return text, {}

            yield Planned(layout.transcript(episode), fingerprint("vtt", text), transcript)
    calendar = project.config.calendar
    calendar_print = fingerprint(
        "calendar",
        project.fingerprint,
        [(e.fingerprint, revisions[e.uid].sequence, str(revisions[e.uid].last_modified))
         for e in project.events],
    )  # fmt: skip
    event_prints = {}
    vevents: dict[str, str] = {}  # each meeting's VEVENT, made once for both calendars
    for event in project.events:
        revision = revisions[event.uid]
        event_prints[event.uid] = event_print = fingerprint(
            "event", project.fingerprint, event.fingerprint, revision.sequence,
            str(revision.last_modified), str(revision.created),
        )  # fmt: skip

        def single(
            event: Any = event, revision: Any = revision, key: str = event_print
        ) -> tuple[bytes, dict[str, Any]]:
            from castcal import ics

            vevents[key] = ics.vevent_text(project, event, revision)
            return ics.single(project, event, revision, vevents[key]), {}

        yield Planned(layout.event(event), event_print, single)

    # The feeds: everything below depends on the lengths written above.
    cut_list = [
        segments.published(p, where[0], published.lengths[where[0]], published.durations[where[0]])
        if (where := segments.target(p)) is not None
        else segments.Published(p, p.episode.segment_audio[p.kind].source,
                                p.episode.segment_audio[p.kind].facts)
        for p in planned_segments
    ]  # fmt: skip
    full = with_lengths(project, published)
    feeds_print = fingerprint(
        "feeds",
        project.fingerprint,
        [e.fingerprint for e in project.episodes],
        sorted(i for i in published.lengths.items() if i[0].startswith("audio/")),
        sorted(published.durations.items()),
        segment_guids,
    )

    def pieced(
        name: str, render: Callable[[dict[str, Piece]], tuple[bytes, dict[str, Piece]]]
    ) -> Callable[[], tuple[bytes, dict[str, Any]]]:
        """An output rendered from the pieces of its last render that are still valid."""

        def produce() -> tuple[bytes, dict[str, Any]]:
            data, pieces = render(parts.get(name) if parts is not None else {})
            if parts is not None:
                parts.put(name, pieces)
            return data, {}

        return produce

    def main_feed(before: dict[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
        from castcal import rss

        return rss.render(full, None, before)

    yield Planned(layout.FEED, feeds_print, pieced(layout.FEED, main_feed))
    segment_feeds_cache: list[Any] = []

    def segment_feeds() -> list[Any]:
        if not segment_feeds_cache:
            segment_feeds_cache.extend(segments.feeds(full, cut_list, segment_guids))
        return segment_feeds_cache

    for kind in show.segments:

        def one_segment_feed(
            before: dict[str, bytes], kind: str = kind
        ) -> tuple[bytes, dict[str, bytes]]:
            from castcal import rss

            feed = next(f for f in segment_feeds() if f.path == segments.feed_path(kind))
            return rss.render(full, feed, before)

        path = segments.feed_path(kind)
        yield Planned(path, feeds_print, pieced(path, one_segment_feed))
    if calendar is not None:

        def series(before: dict[str, str]) -> tuple[bytes, dict[str, str]]:
            """The series, reusing each meeting's VEVENT text from the last build where the
            meeting did not change: a scheduled job re-renders only what changed."""
            from castcal import ics

            texts = {}
            for event in project.events:
                key = event_prints[event.uid]
                texts[key] = (
                    before.get(key)
                    or vevents.get(key)
                    or ics.vevent_text(project, event, revisions[event.uid])
                )
            joined = [texts[event_prints[e.uid]] for e in project.events]
            return ics.series(project, revisions, joined), texts

        def atom_feed(before: dict[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
            from castcal import atom

            return atom.render(project, revisions, before)

        yield Planned(layout.CALENDAR, calendar_print, pieced(layout.CALENDAR, series))
        yield Planned(layout.ATOM, calendar_print, pieced(layout.ATOM, atom_feed))
    upcoming = [e.id for e in project.events if e.end >= now]

    def page(before: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        from castcal import page as show_page

        return show_page.render(full, now, before)

    page_print = fingerprint("page", feeds_print, calendar_print, upcoming)
    yield Planned(layout.PAGE, page_print, pieced(layout.PAGE, page))

    def manifest_bytes() -> tuple[bytes, dict[str, Any]]:
        return manifest.dump(full, revisions, segment_feeds()), {}

    yield Planned(
        manifest.NAME, fingerprint("manifest", feeds_print, calendar_print), manifest_bytes
    )
