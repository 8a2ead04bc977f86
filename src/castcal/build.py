"""The pipeline: load -> revise -> tag the audio -> render -> write, the manifest last."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from castcal import (
    atom,
    content,
    guard,
    ics,
    layout,
    manifest,
    output,
    page,
    rss,
    segments,
    tagging,
)
from castcal.chapters import chapters, json_chapters
from castcal.errors import ContentError, OutputError, RemoteError, UsageError
from castcal.models import AudioFacts, Episode, Media, Project

if TYPE_CHECKING:
    import httpx

CACHE = Path(".castcal-cache") / "remote.json"
GUARD_CACHE = Path(".castcal-cache") / "guard.json"

# Gives a progress callback for a number of remote probes; the CLI shows a bar on a terminal.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None] | None]]


@dataclass(frozen=True)
class BuildResult:
    project: Project
    out_dir: Path
    written: list[str]
    unchanged: list[str]

    def summary(self) -> str:
        return (
            f"{len(self.project.episodes)} episodes, {len(self.project.events)} meetings; "
            f"{len(self.written)} file{'' if len(self.written) == 1 else 's'} written, "
            f"{len(self.unchanged)} unchanged, "
            f"in {self.out_dir}"
        )


@dataclass
class Options:
    """How a build or check reaches the network."""

    offline: bool = False
    client: httpx.Client | None = None  # tests hand in one bound to their server
    progress: Progress = field(default=lambda count: nullcontext(None))


def load(config_path: Path, options: Options, *, strict: bool = False) -> Project:
    """The project with the facts of all its audio, local and remote; with ``strict``,
    warnings fail like problems."""
    root = config_path.parent

    def lookup(urls: list[str]) -> dict[str, AudioFacts | str]:
        from castcal import remote  # httpx only for projects with remote audio

        client = options.client or remote.make_client()
        prober = remote.Prober(client, root / CACHE, offline=options.offline)
        try:
            with options.progress(len(urls)) as advance:
                results = prober.probe_all(urls, advance)
        finally:
            if options.client is None:
                client.close()
        if not options.offline:
            with suppress(OutputError):  # the cache only saves time; never fail on it
                output.write(root, [(CACHE.as_posix(), prober.cache_bytes())])
        return results

    project = content.load(config_path, lookup)
    if strict and project.warnings:
        raise ContentError(project.warnings)
    return project


def _tag_info(project: Project, episode: Episode) -> tagging.TagInfo:
    show = project.config.podcast
    return tagging.TagInfo(
        title=episode.meta.title,
        artist=show.author,
        album=show.title,
        year=episode.meta.published.year,
        track=episode.meta.number,
        cover=project.cover.data,
        cover_mime=project.cover.mime,
        toc_title=episode.meta.title,
        chapters=tuple(chapters(show, episode)),
    )


def published_audio(
    project: Project, lengths: dict[tuple[str, str], int]
) -> Iterator[tuple[str, output.Content]]:
    """Tagged copies of the local audio, one at a time; records each copy's length, which
    is what the feed must announce (tags change the size)."""
    for episode in project.episodes:
        for item in (episode.audio, *episode.alternates):
            path = layout.media(episode, item)
            if path is None:
                continue
            source = (episode.folder / item.source).read_bytes()
            data = tagging.tag(source, item.facts.extension, _tag_info(project, episode))
            lengths[(episode.id, item.source)] = len(data)
            yield path, data


def with_lengths(project: Project, lengths: dict[tuple[str, str], int]) -> Project:
    """The project with each published copy's length in place of its source's."""

    def update(episode: Episode, item: Media) -> Media:
        length = lengths.get((episode.id, item.source))
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


def render(
    project: Project, revisions: dict[str, manifest.Revision], now: datetime
) -> list[tuple[str, output.Content]]:
    """Every file but the audio, in the order written: what a feed points at comes first,
    then the feeds, so a reader never finds a feed ahead of its files."""
    show = project.config.podcast
    files: list[tuple[str, output.Content]] = [(layout.cover(project), project.cover.data)]
    for episode in project.episodes:
        files.append((layout.chapters(episode), json_chapters(show, episode)))
        if episode.transcript is not None:
            files.append((layout.transcript(episode), episode.transcript.encode("utf-8")))
    for event in project.events:
        files.append((layout.event(event), ics.single(project, event, revisions[event.uid])))
    files.append((layout.FEED, rss.render(project)))
    if project.config.calendar is not None:
        files.append((layout.CALENDAR, ics.series(project, revisions)))
        files.append((layout.ATOM, atom.render(project, revisions)))
    files.append((layout.PAGE, page.render(project, now)))
    return files


def output_dir(project: Project, out: Path | None) -> Path:
    return out if out is not None else project.root / project.config.site.output


def stamp_time() -> datetime:
    """The time to stamp on what changes in this build: SOURCE_DATE_EPOCH when set (for
    reproducible builds), else now. Only used for new or changed meetings, and recorded in
    the manifest, so an unchanged meeting keeps its stamps from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None


def identities(project: Project) -> guard.Identities:
    """The identities this build would publish."""
    segment_items: dict[str, dict[str, str]] = {}
    for item in segments.plan(project):
        guid = segments.item_guid(item.episode, item.kind)
        segment_items.setdefault(item.kind, {})[item.episode.id] = guid
    return guard.Identities(
        podcast_guid=str(project.config.podcast.guid),
        episodes={e.id: e.guid for e in project.episodes},
        events={e.id: e.uid for e in project.events},
        segments=segment_items,
    )


def published_at(project: Project, guard_url: str | None, options: Options) -> manifest.Published:
    """What the manifest at ``guard_url`` says was published (nothing without a URL)."""
    if guard_url is None:
        return manifest.Published()
    from castcal import remote

    client = options.client or remote.make_client()
    try:
        data = remote.fetch_manifest(
            client, guard_url, project.root / GUARD_CACHE, offline=options.offline
        )
    except remote.ProbeError as exc:
        raise RemoteError(f"{exc}; the build cannot check what was published") from None
    finally:
        if options.client is None:
            client.close()
    return manifest.parse(data, guard_url)


def build(
    config_path: Path,
    out: Path | None = None,
    wait: float = 10.0,
    now: datetime | None = None,
    *,
    strict: bool = False,
    allow_removal: bool = False,
    guard_url: str | None = None,
    options: Options | None = None,
) -> BuildResult:
    options = options or Options()
    project = load(config_path, options, strict=strict)
    out_dir = output_dir(project, out)
    elsewhere = published_at(project, guard_url, options)  # the network, outside the lock
    with output.locked(out_dir, wait):
        published = manifest.read(out_dir / manifest.NAME).merged(elsewhere)
        problems = guard.check(
            published.identities(), identities(project), allow_removal=allow_removal
        )
        if problems:
            raise ContentError(problems)
        now = now or stamp_time()
        revisions = manifest.revise(published.revisions(), project.events, now)
        lengths: dict[tuple[str, str], int] = {}
        audio = output.write(out_dir, published_audio(project, lengths))
        cut: list[segments.Published] = []
        audio.add(output.write(out_dir, segments.produce(project, cut)))
        project = with_lengths(project, lengths)
        files = render(project, revisions, now)
        segment_feeds = segments.feeds(project, cut, published.segment_guids)
        files += [(feed.path, rss.render(project, feed)) for feed in segment_feeds]
        files.append((manifest.NAME, manifest.dump(project, revisions, segment_feeds)))
        audio.add(output.write(out_dir, files))
        # Only now that the manifest no longer lists them: files of removed items.
        output.prune(out_dir, set(audio.written + audio.unchanged))
    return BuildResult(project, out_dir, audio.written, audio.unchanged)
