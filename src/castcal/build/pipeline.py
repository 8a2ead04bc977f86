"""The pipeline of ``castcal build``: gather every fact, make the audio, render the rest,
write it all at once, the manifest last.

1. gather: the project with the facts of its audio (gather.py), or every problem in it;
2. guard: nothing published may be dropped or re-identified (guard.py), and each meeting's
   revision follows from the manifest published before (revisions.py);
3. make: the published audio files not fresh, staged (audio.py), which tells their lengths;
   the pool's helpers make them while the build renders what needs none of it (step 4);
4. render: every other file not fresh, staged if its bytes changed (outputs.py), the
   feeds and the manifest, which tell the audio's lengths, last;
5. write: everything staged made durable and renamed into place in order (write/), the
   files of removed items pruned, and what each output was made from remembered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from castcal.build import audio, coming, feeds, guard, outputs, published, unchanged
from castcal.build.cache import Store, code, folder_key
from castcal.build.clock import stamp_time
from castcal.build.context import Inputs, Rendered
from castcal.build.fresh import Outputs
from castcal.build.gather import Network, gather
from castcal.build.manifest import Manifest
from castcal.build.parallel import Pool
from castcal.build.pending import would_write
from castcal.build.revisions import revise
from castcal.content.models import Project
from castcal.content.schedule import Schedule, split
from castcal.errors import ContentError, UsageError, counted
from castcal.render import paths, segments
from castcal.write import lock, writer

PREVIEW = Path(".castcal-cache") / "preview"  # in the project: serve's own output folder


@dataclass(frozen=True)
class Request:
    """What a build is asked to do."""

    config_path: Path
    out: Path | None = None  # default: [site] output in config.toml
    wait: float = 10.0  # seconds to wait for another run writing the same folder
    strict: bool = False  # warnings fail the build
    allow_removal: bool = False
    guard_url: str | None = None  # also guard against the manifest published here
    jobs: int | None = None  # processes at work at once; None: one per core
    network: Network = field(default_factory=Network)
    # serve's preview: drafts and scheduled episodes too, into a folder of its own (default
    # PREVIEW), never the site's output folder, and no guard against what was published
    preview: bool = False


@dataclass(frozen=True)
class BuildResult:
    project: Project  # as published: no drafts, no episode due later (but in a preview)
    out_dir: Path
    written: list[str]
    unchanged: list[str]
    cleaned: int = 0  # temporary files an interrupted build left, removed
    coming: tuple[str, ...] = ()  # the scheduled episodes and the drafts, a line each
    next_due: datetime | None = None  # the soonest scheduled episode's time

    def summary(self) -> str:
        line = (
            f"{counted(len(self.project.episodes), 'episode')}, "
            f"{counted(len(self.project.events), 'meeting')}; "
            f"{counted(len(self.written), 'file')} written, "
            f"{len(self.unchanged)} unchanged, "
            f"in {self.out_dir}"
        )
        lines = [line, *self.coming]
        if self.cleaned:
            files = "file" if self.cleaned == 1 else "files"
            lines.insert(
                0, f"removed {self.cleaned} temporary {files} left by an interrupted build"
            )
        return "\n".join(lines)


def check(request: Request) -> Project:
    """The project, every episode and meeting in it (drafts and scheduled too), checked
    as a build would check it, guards included (against the output folder's manifest
    and ``guard_url``'s); nothing written but the cache."""
    return _check(request, None)[0]


def foresee(request: Request, now: datetime | None = None) -> tuple[Schedule, list[str]]:
    """As ``check``: what a build at ``now`` (default: as the build's) would publish,
    and a line for each scheduled episode and each draft."""
    when = now or stamp_time()
    schedule = _check(request, when)[1]
    return schedule, coming.lines(schedule, when)


def _check(request: Request, now: datetime | None) -> tuple[Project, Schedule]:
    root = request.config_path.parent
    with Store(root) as store, Pool(request.jobs) as pool:
        project = _load(request, store, pool)
        schedule = split(project, now or stamp_time(), preview=request.preview)
        out_dir = _out_dir(request, project)
        if not request.preview:
            previous = published.previous(out_dir, _published_at(request, store))
            guard.enforce(previous.identities(), schedule, allow_removal=request.allow_removal)
        return project, schedule


def build(request: Request, now: datetime | None = None) -> BuildResult:
    """Build the project into its output folder; ``now`` is the build's time (default:
    SOURCE_DATE_EPOCH when set, else the clock): what is due by then is published."""
    root = request.config_path.parent
    now = now or stamp_time()
    with Store(root) as store, Pool(request.jobs) as pool:
        project = _load(request, store, pool)
        schedule = split(project, now, preview=request.preview)
        out_dir = _out_dir(request, project)
        elsewhere = _published_at(request, store)  # the network, outside the lock
        with lock.held(root, out_dir, request.wait):
            cleaned = writer.clean_temporary(out_dir)  # what a killed build left
            previous = published.previous(out_dir, elsewhere)
            if not request.preview:
                problems = guard.check(
                    previous.identities(),
                    guard.identities(project, schedule),
                    allow_removal=request.allow_removal,
                )
                if problems:
                    raise ContentError(problems)
            result = _write(schedule.published, out_dir, previous, store, pool, now)
            lines = tuple(coming.lines(schedule, now))
            result = replace(result, coming=lines, next_due=schedule.next_due)
            _remember(request, store, project, schedule, result, now)
            return replace(result, cleaned=cleaned)


def asked(request: Request) -> unchanged.Asked:
    """How ``request`` asks for a build, as the no-change build knows it."""
    offline = request.network.offline
    return unchanged.Asked(
        request.config_path, request.out, request.strict, request.allow_removal, offline
    )


def _remember(
    request: Request,
    store: Store,
    project: Project,
    schedule: Schedule,
    result: BuildResult,
    now: datetime,
) -> None:
    """What the next build asked alike needs to know to find it has nothing to do, or
    nothing where files alone cannot tell it (remote audio, a draft's audio to come, a
    guard against a manifest elsewhere, a preview)."""
    media = [m for e in project.episodes for m in e.media()]
    if (
        request.preview
        or request.guard_url is not None
        or any(m.remote for m in media)
        or any(e.pending for e in project.episodes)
    ):
        unchanged.forget(store, asked(request))
        return
    root = request.config_path.parent
    read = [*store.stamps(), _stamp(root, request.config_path)]
    if project.config.podcast.image:
        read.append(_stamp(root, root / project.config.podcast.image))
    times = [e.published for e in project.episodes]
    times += [t for e in project.events for t in (e.start, e.end)]
    whole = replace(result, written=[], unchanged=result.written + result.unchanged)
    built = unchanged.Built(
        files=sorted(set(read)),
        code=code(),
        folder=str(result.out_dir.resolve()),
        built_at=now,
        until=min((t for t in times if t > now), default=None),
        summary=whole.summary().split("\n", 1)[0],
        scheduled=coming.scheduled(schedule),
        drafts=coming.drafts(schedule),
        warnings=[(w.path, w.field, w.message) for w in schedule.published.warnings],
    )
    unchanged.remember(store, asked(request), root, built)


def _stamp(root: Path, path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return path.resolve().relative_to(root.resolve()).as_posix(), stat.st_size, stat.st_mtime_ns


def _out_dir(request: Request, project: Project) -> Path:
    """Where the build writes: ``--out``, else [site] output; a preview's own folder."""
    root = request.config_path.parent
    site = root / project.config.site.output
    if not request.preview:
        return request.out if request.out is not None else site
    out = request.out if request.out is not None else root / PREVIEW
    if out.resolve() == site.resolve():
        raise UsageError(
            f"{out}: the preview holds drafts and scheduled episodes, and is never built "
            "into the site's output folder; give another --out"
        )
    return out


def _load(request: Request, store: Store, pool: Pool) -> Project:
    project = gather(request.config_path, store, pool, request.network)
    if request.strict and project.warnings:
        raise ContentError(project.warnings)
    return project


def _published_at(request: Request, store: Store) -> Manifest:
    """What the manifest at ``--guard-url`` says was published (nothing without one)."""
    if request.guard_url is None or request.preview:
        return Manifest()
    from castcal.media import remote

    client = request.network.client or remote.make_client()
    try:
        return published.at_url(request.guard_url, client, store, offline=request.network.offline)
    finally:
        if request.network.client is None:
            client.close()


def pending(request: Request, now: datetime | None = None) -> tuple[Schedule, list[str]]:
    """The project as a build at ``now`` (default: as the build's) would split it, and
    the files of the output folder that build would write or remove, found without
    writing any; the lock is held only while the folder is compared. No files: the
    folder is up to date with the sources."""
    root = request.config_path.parent
    now = now or stamp_time()
    with Store(root) as store, Pool(request.jobs) as pool:
        project = _load(request, store, pool)
        schedule = split(project, now)
        out_dir = _out_dir(request, project)
        if not out_dir.is_dir():  # nothing built yet: every file a build would write
            inputs = _inputs(schedule.published, Manifest(), store, pool, now)
            return schedule, would_write(inputs, Outputs(out_dir, {}))
        with lock.held(root, out_dir, request.wait):
            previous = published.previous(out_dir, Manifest())
            inputs = _inputs(schedule.published, previous, store, pool, now)
            records = Outputs(out_dir, store.records(folder_key(root, out_dir)))
            return schedule, would_write(inputs, records)


def _inputs(
    project: Project, previous: Manifest, store: Store, pool: Pool, now: datetime
) -> Inputs:
    """What a build at ``now`` renders from, after the one that wrote ``previous``."""
    return Inputs(
        project=project,
        revisions=revise(previous.revisions(), project.events, now),
        now=now,
        segment_guids={
            kind: previous.segment_guids.get(kind) or segments.feed_guid(project, kind)
            for kind in project.config.podcast.segments
        },
        store=store,
        pool=pool,
    )


def _write(
    project: Project, out_dir: Path, previous: Manifest, store: Store, pool: Pool, now: datetime
) -> BuildResult:
    folder = folder_key(project.root, out_dir)  # the records' key
    records = Outputs(out_dir, store.records(folder))
    inputs = _inputs(project, previous, store, pool, now)
    token = str(os.getpid())
    with writer.Transaction(out_dir, token) as transaction:
        try:
            # The audio is made by the pool's helpers while this process renders what
            # needs nothing of it; the feeds then tell the lengths of the files made.
            making = audio.start(project, records, transaction, pool)
            _stage(outputs.rendered(inputs, records), records, transaction)
            published_audio = making.finish(records, transaction)
            _stage(feeds.rendered(inputs, published_audio, records), records, transaction)
            written = transaction.commit(paths.order)
        except BaseException:
            pool.close()  # no helper stages anything more
            writer.clean_temporary(out_dir, token)  # what helpers staged, even killed ones
            raise
    known = records.records.keys() >= records.expected  # every output recorded before
    records.settle()
    gone = set(records.records) - records.expected
    records.forget(gone)
    if gone or not known:  # else nothing but what this build made is there
        # Only now that the manifest no longer lists them: the files of removed items.
        writer.prune(out_dir, records.expected, paths.MANAGED)
    store.put_records(folder, records.changed)
    store.forget_records(folder, records.gone)
    unchanged = sorted(records.expected - set(written))
    return BuildResult(project, out_dir, written, unchanged)


def _stage(rendered: Iterable[Rendered], records: Outputs, transaction: writer.Transaction) -> None:
    """Stage each rendered file whose bytes are new; each is recorded as made."""
    for name, print_, data in rendered:
        if not writer.same(transaction.path(name), data):
            transaction.stage(name, data)
        records.made(name, print_)
