"""The pipeline: load -> revise -> tag the audio -> render -> write, the manifest last."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from castcal import content, guard, manifest, output, plan, segments, state
from castcal.errors import ContentError, RemoteError, UsageError
from castcal.models import AudioFacts, Project

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
    jobs: int | None = None  # processes making audio at once; None: one per core


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
            with suppress(OSError):  # the cache only saves time; never fail on it
                output.replace(root / CACHE, prober.cache_bytes())
        return results

    probes, loaded = state.Probes(root), state.Loaded(root)
    try:
        project = content.load(config_path, lookup, probes, loaded, options.jobs)
    finally:  # facts about files, true whatever else is wrong: the next build needs them
        probes.save()
    loaded.drop_except(
        {content.CONFIG_KEY}
        | {f"episode:{e.id}" for e in project.episodes}
        | {f"event:{e.id}.toml" for e in project.events}
    )
    loaded.save()
    if strict and project.warnings:
        raise ContentError(project.warnings)
    return project


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


def identities(project: Project, planned: list[segments.Planned] | None = None) -> guard.Identities:
    """The identities this build would publish (``planned``: its segments, if known)."""
    segment_items: dict[str, dict[str, str]] = {}
    for item in segments.plan(project) if planned is None else planned:
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
    # The loaded project lives as long as the build: the cycle collector need not walk its
    # objects again and again (at 10,000 episodes one walk took 0.3 s). Unfrozen at the
    # end, for `serve --watch`, which builds again in the same process.
    gc.freeze()
    try:
        return _write(project, out, wait, now, allow_removal, guard_url, options)
    finally:
        gc.unfreeze()


def _write(
    project: Project,
    out: Path | None,
    wait: float,
    now: datetime | None,
    allow_removal: bool,
    guard_url: str | None,
    options: Options,
) -> BuildResult:
    out_dir = output_dir(project, out)
    elsewhere = published_at(project, guard_url, options)  # the network, outside the lock
    with output.locked(out_dir, wait):
        published = manifest.read(out_dir / manifest.NAME).merged(elsewhere)
        planned_segments = segments.plan(project)
        problems = guard.check(
            published.identities(),
            identities(project, planned_segments),
            allow_removal=allow_removal,
        )
        if problems:
            raise ContentError(problems)
        now = now or stamp_time()
        revisions = manifest.revise(published.revisions(), project.events, now)
        outputs = state.Outputs(out_dir)
        # Each segment feed's podcast:guid: the published one, else derived from its URL.
        guids = {
            kind: published.segment_guids.get(kind) or segments.feed_guid(project, kind)
            for kind in project.config.podcast.segments
        }
        whole = state.fingerprint(
            project.fingerprint,
            [e.fingerprint for e in project.episodes],
            [(e.fingerprint, e.uid, str(revisions[e.uid])) for e in project.events],
            [e.id for e in project.events if e.end >= now],
            guids,
        )
        if outputs.all_fresh(whole):
            result = output.WriteResult(unchanged=sorted(outputs.entries))
        else:
            facts = plan.Published()
            parts = state.Parts(project.root)
            share = _share(project, out_dir, outputs, planned_segments, options.jobs)
            numbers = share.claims if share is not None else None
            items = plan.outputs(
                project, revisions, now, guids, facts, parts, planned_segments, outputs, numbers
            )
            aside = _aside(options.jobs)
            try:
                result = output.write_planned(out_dir, items, outputs, facts, share, aside)
            except BaseException:
                outputs.save()  # the records of what was written before it failed
                raise
            # Only now that the manifest no longer lists them: files of removed items.
            built = set(result.written + result.unchanged)
            if built != set(outputs.entries):  # something is no longer built
                outputs.forget(output.prune(out_dir, built))
                outputs.forget(sorted(set(outputs.entries) - built))
            outputs.save(whole)
    return BuildResult(project, out_dir, result.written, result.unchanged)


def _share(
    project: Project,
    out_dir: Path,
    outputs: state.Outputs,
    planned_segments: list[segments.Planned],
    jobs: int | None,
) -> output.Share | None:
    """Helper processes for a build with many episodes' audio to make (see helpers.py)."""
    from castcal import helpers

    if helpers.how_many(jobs, len(project.episodes)) == 0:  # not even with every episode
        return None
    limit = helpers.FEWEST_EPISODES * helpers.cores()
    count = helpers.how_many(jobs, plan.audio_to_make(project, outputs, limit))
    if not count:
        return None
    claims = helpers.Claims(len(project.episodes))

    def work(numbers: Iterator[int]) -> output.HelperResult:
        mine = plan.Published()
        items = plan.audio(project, numbers, mine, outputs, planned_segments)
        return output.make_elsewhere(out_dir, items, outputs, mine)

    return output.Share(count, claims, work)


def _aside(jobs: int | None) -> int:
    """How many helpers at a time may make an output aside: one (for the page), if any."""
    from castcal import helpers

    return helpers.how_many(jobs, 1, fewest=1)
