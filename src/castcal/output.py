"""The one writer: atomic, write-if-changed file output, and the build lock.

Each file is written to a temporary file in its destination folder, made durable, and
renamed over the old one, so a reader (or a crash) sees the whole old file or the whole new
one, never half of either. A file whose bytes would not change is not touched at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from castcal.errors import LockedError, OutputError

if TYPE_CHECKING:
    from castcal.helpers import Claims, Helper
    from castcal.plan import Planned, Published
    from castcal.state import Outputs, Print

LOCK_NAME = ".castcal.lock"

Writer = Callable[[BinaryIO], object]  # writes a file's content to it
Data = bytes | bytearray  # a file's content, as rendered
ONE_SYNC_FROM = 64  # staged files: fewer are fsynced one by one


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _same(dest: Path, content: Data) -> bool:
    try:
        return dest.stat().st_size == len(content) and dest.read_bytes() == content
    except FileNotFoundError:
        return False


def _fsync(path: Path) -> None:
    """fsync a file or a folder by name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(dest: Path, content: Data | Writer, *, durable: bool = True) -> None:
    """Write ``content`` to ``dest`` atomically: temp file, fsync, rename, fsync folder.
    ``content`` may be a function writing it to a file (a big cache is then never whole in
    memory). A cache, which only saves time, is not worth the fsyncs (``durable=False``):
    a reader still sees the whole old file or the whole new one."""
    tmp = _stage(dest, content)
    try:
        if durable:
            _fsync(tmp)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync(dest.parent)


def overwrite(dest: Path, content: Writer) -> None:
    """Write a cache file in place: no new file, no rename, no fsync. Only for a file that
    castcal alone reads and that can tell a whole copy from a torn one (state's seal): a
    published file always goes through ``replace`` or ``write_planned``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT, 0o666)  # the umask applies
    with os.fdopen(fd, "wb") as out:
        content(out)
        out.truncate()  # what is left of a longer old copy


# A new file, for writing only, never one already there; bytes as they are on any system.
_NEW_FILE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _create(dest: Path) -> tuple[int, Path]:
    """A new temporary file beside ``dest``, named for it and this process, with the mode a
    new file gets (0666 less the umask). Only one build writes a folder at a time, under its
    lock: the name is taken unless a killed process of the same number left it, or another
    machine writes to the same shared folder; then the next free one. Made in two system
    calls, not mkstemp's five or six, for the thousands of files of a first build; the
    folder only when it is missing."""
    stem = f".{dest.name}.{os.getpid()}"
    for attempt in range(100):
        tmp = dest.with_name(f"{stem}.tmp" if not attempt else f"{stem}-{attempt}.tmp")
        try:
            return os.open(tmp, _NEW_FILE, 0o666), tmp
        except FileNotFoundError:
            dest.parent.mkdir(parents=True, exist_ok=True)
            return os.open(tmp, _NEW_FILE, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", str(dest.parent))


def _stage(dest: Path, data: Data | Writer) -> Path:
    """``data`` in a temporary file beside ``dest``, not yet synced nor in place."""
    fd, tmp = _create(dest)
    try:
        if isinstance(data, bytes | bytearray):
            try:  # straight to the file: no buffer, no copy
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        else:
            with os.fdopen(fd, "wb") as out:
                data(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


Staged = tuple[str, str, "Print", dict[str, Any]]  # temp file, output, fingerprint, facts


@dataclass
class Made:
    """Planned outputs rendered, before any is renamed into place. Only names and facts,
    not the planned outputs (whose renderers hold on to models): memory stays small with
    tens of thousands of files."""

    staged: list[Staged] = field(default_factory=list)
    # Rendered to the bytes already in place: the output, its fingerprint and facts.
    unchanged: list[tuple[str, Print, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Share:
    """Helper processes to start for a build: how many, the episode numbers they share
    with it, and the work each does with the numbers it takes (``make_elsewhere``)."""

    helpers: int
    claims: Claims
    work: Callable[[Iterator[int]], HelperResult]


# What a helper made: its outputs, then the lengths, durations and kept outputs it found.
HelperResult = tuple[Made, dict[str, int], dict[str, float], list[str]]


Rendered = tuple[str | None, dict[str, Any], int]  # temp file (None: unchanged), facts, length


def _render(out_dir: Path, item: Planned) -> Rendered:
    """Render ``item`` and stage it, unless its file already holds those bytes."""
    data, extra = item.produce()
    dest = out_dir / item.name
    if _same(dest, data):
        return None, extra, len(data)
    try:
        return _stage(dest, data).name, extra, len(data)
    except OSError as exc:
        raise _output_error(dest, exc) from exc


def _account(item: Planned, rendered: Rendered, published: Published, made: Made) -> None:
    tmp, extra, length = rendered
    published.lengths[item.name] = length
    if "duration" in extra:
        published.durations[item.name] = float(extra["duration"])
    if tmp is None:
        made.unchanged.append((item.name, item.fingerprint, extra))
    else:
        made.staged.append((tmp, item.name, item.fingerprint, extra))


def _make(
    out_dir: Path,
    items: Iterable[Planned],
    state: Outputs,
    published: Published,
    made: Made,
    team: _Team | None = None,
) -> None:
    """Render and stage ``items``, in order, into ``made``; their facts into ``published``.
    With ``team``, an item marked aside may be made by a helper process meanwhile."""
    for item in items:
        if state.fresh(item.name, item.fingerprint):
            published.keep(item.name, state)
        elif team is None or not item.aside or not team.aside(item):
            _account(item, _render(out_dir, item), published, made)


def make_elsewhere(
    out_dir: Path, items: Iterable[Planned], state: Outputs, published: Published
) -> HelperResult:
    """What a helper process does: render and stage ``items`` for the build that forked
    it, which renames them into place. If it fails, it removes what it staged."""
    made = Made()
    try:
        _make(out_dir, items, state, published, made)
    except BaseException:
        _unlink_staged(out_dir, made.staged)
        raise
    return made, published.lengths, published.durations, published.kept


def write_planned(
    out_dir: Path,
    items: Iterable[Planned],
    state: Outputs,
    published: Published,
    share: Share | None = None,
    aside: int = 0,
) -> WriteResult:
    """Write the planned outputs, in their order, all or nothing.

    An output whose inputs have the fingerprint recorded for it, and whose file is
    untouched, is not even rendered; one rendered to the bytes already on disk is not
    written. The others are staged in temporary files, made durable (with one sync when
    there are many, not a thousand fsyncs), then renamed into place in order, the
    manifest last; a failure before the renames leaves every old file as it was. Lengths
    and durations go into ``published``. With ``share``, helper processes make some of
    the audio meanwhile (``published.settle`` waits for them); what they staged is renamed
    here, in the order the plan settled it. Up to ``aside`` helpers at a time make an
    output marked aside (the page) while this process goes on with the next.
    """
    from castcal.syncfs import Watch

    result, made = WriteResult(), Made()
    renamed = 0
    team = _Team(out_dir, state, published, made, share, aside)
    watch = Watch(out_dir)  # before any file is staged: it learns of every failed write
    try:
        team.start()
        _make(out_dir, items, state, published, made, team)
        published.finish()
        result.unchanged += published.kept  # as found: by the plan, or above
        # Every staged file durable before any of them is renamed into place. For many
        # files, one sync, and one syncfs that reports a failed write (or, where it
        # cannot, an fsync of each file, cheap after the sync); a few are fsynced one by
        # one, as a sync would also flush everything else waiting to be written.
        checked = False
        if len(made.staged) > ONE_SYNC_FROM:
            os.sync()
            try:
                checked = watch.sync()
            except OSError as exc:
                raise _output_error(out_dir, exc) from exc
        for tmp, name, _, _ in [] if checked else made.staged:
            try:
                _fsync(Path(_beside(out_dir, name, tmp)))
            except OSError as exc:
                raise _output_error(out_dir / name, exc) from exc
        folders = set()
        for tmp, name, print_, extra in made.staged:
            dest = out_dir / name
            try:
                os.replace(_beside(out_dir, name, tmp), dest)  # noqa: PTH105 (as above)
            except OSError as exc:
                raise _output_error(dest, exc) from exc
            renamed += 1
            state.record(name, print_, extra)
            result.written.append(name)
            folders.add(dest.parent)
        for folder in sorted(folders):
            _fsync(folder)
    finally:
        watch.close()
        team.stop()
        for name, print_, extra in made.unchanged:  # what was found as it would be written
            with contextlib.suppress(OSError):
                state.record(name, print_, extra)
        _unlink_staged(out_dir, made.staged[renamed:])
    result.unchanged += [name for name, _, _ in made.unchanged]
    return result


class _Team:
    """The helper processes of one write_planned, if it has any: started, waited for
    when the plan settles, stopped and cleaned up after if the build fails."""

    def __init__(
        self,
        out_dir: Path,
        state: Outputs,
        published: Published,
        made: Made,
        share: Share | None,
        aside: int,
    ) -> None:
        self.out_dir, self.state, self.published, self.made = out_dir, state, published, made
        self.share = share
        self.helpers: list[Helper] = []  # running
        self.done: list[Helper] = []  # reported, maybe still syncing
        self.lost: list[int] = []  # helpers that ended without a word: their temp files
        self.room = aside  # for helpers making an output aside
        self.set_aside: list[tuple[Helper, Planned]] = []

    def aside(self, item: Planned) -> bool:
        """Start a helper making ``item``, if there is room for one: True if started."""
        from castcal import helpers

        if self.room < 1 or not helpers.can_fork():
            return False
        out_dir = self.out_dir
        try:
            helper = helpers.Helper(None, lambda _: _render(out_dir, item), f"making {item.name}")
        except OSError:  # no process to be had: made here
            return False
        self.room -= 1
        self.set_aside.append((helper, item))
        self.published.aside.append(self.gather_aside)
        return True

    def gather_aside(self) -> None:
        """Wait for the outputs made aside; take them in, or raise what a helper raised."""
        from castcal.helpers import collect

        items = dict(self.set_aside)
        helpers, self.set_aside = list(items), []
        self.room += len(helpers)

        def take(helper: Helper, rendered: Rendered) -> None:
            _account(items[helper], rendered, self.published, self.made)

        failure = collect(helpers, take)
        self._ended(helpers, reap=True)
        if failure is not None:
            raise failure

    def start(self) -> None:
        if self.share is None:
            return
        from castcal.helpers import start

        self.published.pending.append(self.gather)
        # Once it has reported, a helper starts writing out what was staged (os.sync): on
        # another core, while this build renders the feeds, not after.
        self.helpers = start(
            self.share.claims, self.share.work, self.share.helpers, "making audio files", os.sync
        )

    def gather(self) -> None:
        """Wait for every helper; take in what it made. A helper's failure stops the
        others after the episode each has, and is raised once all are in."""
        from castcal.helpers import collect

        assert self.share is not None
        team, self.helpers = self.helpers, []
        self.done += team  # reaped in stop(): each writes out its files first
        failure = collect(team, self._take, self.share.claims)
        self._ended(team, reap=False)
        if failure is not None:
            raise failure

    def _take(self, _: Helper, result: HelperResult) -> None:
        theirs, lengths, durations, kept = result
        self.made.staged += theirs.staged
        self.made.unchanged += theirs.unchanged
        self.published.lengths.update(lengths)
        self.published.durations.update(durations)
        for name in kept:
            self.published.keep(name, self.state)

    def _ended(self, team: list[Helper], *, reap: bool) -> None:
        """Note the helpers that ended without a word (their temp files are removed by
        their process number), and wait for the others' ends with ``reap``."""
        self.lost += [helper.pid for helper in team if not helper.reported]
        if reap:
            for helper in team:
                helper.reap()

    def stop(self) -> None:
        """After the build, or its failure: no helper left running, none of their temp
        files left behind."""
        with contextlib.suppress(BaseException):
            self.gather_aside()  # only if the build failed before it settled
        if self.share is not None:
            if self.helpers:  # the build failed before it settled
                self.share.claims.stop()
                with contextlib.suppress(BaseException):
                    self.gather()
            for helper in self.done:
                helper.reap()
            self.share.claims.close()
        if self.lost:
            clean_temporary(self.out_dir, made_by=set(self.lost))


def _unlink_staged(out_dir: Path, staged: list[Staged]) -> None:
    for tmp, name, _, _ in staged:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_beside(out_dir, name, tmp))  # noqa: PTH108 (names kept as strings)


def _beside(out_dir: Path, name: str, tmp: str) -> str:
    """The path of the temporary file ``tmp`` staged for the output ``name``."""
    return os.path.join(out_dir, os.path.dirname(name), tmp)  # noqa: PTH118, PTH120


def _output_error(dest: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{dest}: the disk is full; the previous file was left as it was")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{dest}: the output folder is not writable ({exc.strerror})")
    return OutputError(f"{dest}: cannot write: {exc.strerror}")


# The folders whose every file the build writes; anything else there is left over.
MANAGED = ("audio", "chapters", "transcripts", "events", "images")


def prune(out_dir: Path, keep: set[str]) -> list[str]:
    """Remove files in the managed folders that this build did not produce: those of
    removed episodes and meetings, replaced artwork, audio that changed format."""
    removed = []
    for folder in MANAGED:
        for path in sorted((out_dir / folder).glob("*")):
            name = path.relative_to(out_dir).as_posix()
            if path.is_file() and not path.name.startswith(".") and name not in keep:
                path.unlink()
                removed.append(name)
    return removed


def _temporary(name: str, made_by: set[int] | None = None) -> bool:
    """A temp file as _create names it: .{name}.{process}.tmp or .{name}.{process}-{n}.tmp;
    with ``made_by``, one of those processes' only."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    if made_by is None:
        return True
    process = name[: -len(".tmp")].rsplit(".", 1)[-1].split("-")[0]
    return process.isdigit() and int(process) in made_by


def clean_temporary(out_dir: Path, made_by: set[int] | None = None) -> None:
    """Remove temporary files a killed build left behind (never a published file); with
    ``made_by``, only those of these processes (helpers that were stopped). Every build
    looks, through thousands of files: os.scandir, and no Path for each."""
    folders = [str(out_dir)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif _temporary(entry.name, made_by) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)  # noqa: PTH108 (a name from scandir)


@contextlib.contextmanager
def locked(out_dir: Path, wait: float) -> Iterator[None]:
    """Hold the output folder's build lock, waiting up to ``wait`` seconds for it.

    The lock is an OS file lock: it goes away with the process that held it, so a build
    that was killed never leaves a stale lock behind.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(out_dir, exc) from exc
    from filelock import FileLock, Timeout

    lock = FileLock(out_dir / LOCK_NAME, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"{out_dir}: another castcal build is writing here; gave up after {wait:g} s "
            "(use --wait to wait longer)"
        ) from None
    except OSError as exc:
        raise _output_error(out_dir / LOCK_NAME, exc) from exc
    try:
        clean_temporary(out_dir)
        yield
    finally:
        lock.release()
