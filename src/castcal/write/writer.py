"""The one writer: each changed file staged beside its place, all made durable, then renamed
into place in the order given, so a reader (or a crash) sees each file whole, old or new.

Staging names a temporary file for the file it becomes and the build's token (its process
number), so what a failed or killed build staged can always be found and removed. Helper
processes stage with their build's token; only the build renames.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from castcal.errors import OutputError
from castcal.write.syncfs import Watch

# A file's content as rendered: whole, or its pieces in order (a feed, the page: written
# one after another, never joined, so the 11 MB feed of 10,000 items is not in memory twice).
Data = bytes | bytearray | list[bytes]
ONE_SYNC_FROM = 64  # staged files: fewer are fsynced one by one
WRITE_SIZE = 1 << 20  # pieces are gathered into writes of about this many bytes


class Staged(NamedTuple):
    """A file staged for an output: the output's path in the folder, the temp file's name."""

    name: str
    tmp: str


# A new file, for writing only, never one already there; bytes as they are on any system.
_NEW_FILE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def same(dest: str | Path, data: Data) -> bool:
    """Whether ``dest`` already holds exactly ``data``."""
    pieces = data if isinstance(data, list) else [data]
    try:
        if os.stat(dest).st_size != sum(len(piece) for piece in pieces):  # noqa: PTH116
            return False
        with open(dest, "rb") as file:  # noqa: PTH123 (a name as a string: thousands of files)
            return all(file.read(len(piece)) == piece for piece in pieces)
    except FileNotFoundError:
        return False


def stage(out_dir: Path, name: str, data: Data, token: str) -> Staged:
    """``data`` in a new temporary file beside ``out_dir/name``, not yet synced nor in
    place; OutputError naming the file if it cannot be written (nothing left behind)."""
    dest = os.path.join(out_dir, name)  # noqa: PTH118 (no Path per file: thousands)
    try:
        fd, tmp = _create(dest, token)
    except OSError as exc:
        raise output_error(Path(dest), exc) from exc
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        _remove(tmp)
        raise output_error(Path(dest), exc) from exc
    except BaseException:
        _remove(tmp)
        raise
    return Staged(name, os.path.basename(tmp))  # noqa: PTH119 (as above)


def _write_all(fd: int, data: Data) -> None:
    """``data`` written to ``fd``: whole content straight from memory, pieces gathered
    into writes of about WRITE_SIZE (a page is thousands of small pieces)."""
    if not isinstance(data, list):
        _write(fd, data)
        return
    buffer = bytearray()
    for piece in data:
        buffer += piece
        if len(buffer) >= WRITE_SIZE:
            _write(fd, buffer)
            del buffer[:]
    _write(fd, buffer)


def _write(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # noqa: PTH108 (as above)


def _create(dest: str, token: str) -> tuple[int, str]:
    """A new temporary file beside ``dest``, named for it and the build, with the mode a
    new file gets (0666 less the umask). Only one build writes a folder at a time: the
    name is taken only if a killed build of the same number left it, or another machine
    writes to the same shared folder; then the next free one. The folder only when it is
    missing: two system calls a file, for the thousands of a first build."""
    folder, base = os.path.split(dest)
    stem = os.path.join(folder, f".{base}.{token}")  # noqa: PTH118 (as above)
    for attempt in range(100):
        tmp = f"{stem}.tmp" if not attempt else f"{stem}-{attempt}.tmp"
        try:
            return os.open(tmp, _NEW_FILE, 0o666), tmp
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103 (as above)
            return os.open(tmp, _NEW_FILE, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", folder)


class Transaction:
    """The files one build stages in ``out_dir``, made durable and renamed into place
    together by ``commit``; whatever is not renamed when it closes is removed."""

    def __init__(self, out_dir: Path, token: str) -> None:
        self.out_dir, self.token = out_dir, token
        self.staged: list[Staged] = []
        self.renamed = 0
        self.watch = Watch(out_dir)  # before any file is staged: it learns of every failure

    def stage(self, name: str, data: Data) -> None:
        self.staged.append(stage(self.out_dir, name, data, self.token))

    def adopt(self, staged: Iterable[Staged]) -> None:
        """Files helper processes staged for this build."""
        self.staged.extend(staged)

    def commit(self, order: Callable[[str], int]) -> list[str]:
        """Every staged file durable before any is renamed into place, then each renamed,
        by ``order`` of its name (files of one rank in the order staged); the names
        written. For many files, one sync, and one syncfs that reports a failed write
        (or, where it cannot, an fsync of each file, cheap after the sync); a few are
        fsynced one by one, as a sync would flush everything else."""
        self.staged.sort(key=lambda staged: order(staged.name))
        checked = False
        if len(self.staged) > ONE_SYNC_FROM:
            os.sync()
            try:
                checked = self.watch.sync()
            except OSError as exc:
                raise output_error(self.out_dir, exc) from exc
        for name, tmp in [] if checked else self.staged:
            try:
                _fsync(self._path(name, tmp))
            except OSError as exc:
                raise output_error(self.out_dir / name, exc) from exc
        folders = set()
        for name, tmp in self.staged:
            dest = self.path(name)
            try:
                os.replace(self._path(name, tmp), dest)  # noqa: PTH105 (names as strings)
            except OSError as exc:
                raise output_error(Path(dest), exc) from exc
            self.renamed += 1
            folders.add(os.path.dirname(dest))  # noqa: PTH120
        for folder in sorted(folders):
            _fsync(folder)
        return [name for name, _ in self.staged]

    def close(self) -> None:
        self.watch.close()
        for name, tmp in self.staged[self.renamed :]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(name, tmp))  # noqa: PTH108 (names as strings)

    def _path(self, name: str, tmp: str) -> str:
        return os.path.join(self.out_dir, os.path.dirname(name), tmp)  # noqa: PTH118, PTH120

    def path(self, name: str) -> str:
        """Where output ``name`` goes (a string: thousands of files, no Path each)."""
        return os.path.join(self.out_dir, name)  # noqa: PTH118

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fsync(path: Path | str) -> None:
    """fsync a file or a folder by name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(dest: Path, data: Data) -> None:
    """One file written atomically: staged, fsynced, renamed, its folder fsynced."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with Transaction(dest.parent, str(os.getpid())) as transaction:
        transaction.stage(dest.name, data)
        transaction.commit(lambda name: 0)


def output_error(dest: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{dest}: the disk is full; the previous file was left as it was")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{dest}: the output folder is not writable ({exc.strerror})")
    return OutputError(f"{dest}: cannot write: {exc.strerror}")


def prune(out_dir: Path, keep: set[str], folders: Iterable[str]) -> list[str]:
    """Remove the files in ``folders`` (which the build writes whole) that this build did
    not produce: those of removed episodes and meetings, replaced artwork, audio that
    changed format. Returns their names. Thousands of files: os.scandir, names only."""
    removed = []
    for folder in folders:
        try:
            with os.scandir(out_dir / folder) as entries:
                names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
        except FileNotFoundError:
            continue
        for name in names:
            if not name.startswith(".") and f"{folder}/{name}" not in keep:
                (out_dir / folder / name).unlink()
                removed.append(f"{folder}/{name}")
    return removed


def _temporary(name: str, token: str | None) -> bool:
    """A temp file as _create names it: .{name}.{token}.tmp or .{name}.{token}-{n}.tmp;
    with ``token``, one of that build's only."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    if token is None:
        return True
    return name[: -len(".tmp")].rsplit(".", 1)[-1].split("-")[0] == token


def clean_temporary(out_dir: Path, token: str | None = None) -> int:
    """Remove the temporary files a killed build left behind (never a published file);
    with ``token``, only those of that build. Returns how many were removed."""
    return sum(_unlink(path) for path in temporary(out_dir, token))


def temporary(out_dir: Path, token: str | None = None) -> Iterator[str]:
    """The temporary files (of the build of ``token``) in ``out_dir``, as paths. Through
    thousands of files: os.scandir, and no Path for each."""
    folders = [str(out_dir)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            found = []
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif _temporary(entry.name, token) and entry.is_file(follow_symlinks=False):
                    found.append(entry.path)
        yield from found  # once the folder is read: its files are then removed


def _unlink(path: str) -> int:
    """1 once ``path`` is removed, 0 if it was already gone."""
    try:
        os.unlink(path)  # noqa: PTH108 (a name from scandir)
    except FileNotFoundError:
        return 0
    return 1
