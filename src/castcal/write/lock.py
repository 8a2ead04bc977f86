"""The build lock: one castcal run at a time writes an output folder (a build, a publish).

The lock is an OS file lock on a file in the project's .castcal-cache/, named for the
output folder (nothing of castcal's own goes into the folder it publishes): it goes away
with the process that held it, so a build that was killed never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from castcal.errors import LockedError
from castcal.write.writer import output_error

LOCKS = Path(".castcal-cache") / "locks"


def lock_file(root: Path, out_dir: Path) -> Path:
    """The lock of ``out_dir`` for the project at ``root``."""
    folder = str(out_dir.resolve())
    return root / LOCKS / f"{hashlib.sha256(folder.encode()).hexdigest()[:16]}.lock"


@contextlib.contextmanager
def held(root: Path, out_dir: Path, wait: float) -> Iterator[None]:
    """Hold the lock of ``out_dir``, waiting up to ``wait`` seconds for another run to
    let it go; the folder is made if it is missing."""
    path = lock_file(root, out_dir)
    for folder in (out_dir, path.parent):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(folder, exc) from exc
    from filelock import FileLock, Timeout

    lock = FileLock(path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"{out_dir}: another castcal build is writing here; gave up after {wait:g} s "
            "(use --wait to wait longer)"
        ) from None
    except OSError as exc:
        raise output_error(path, exc) from exc
    try:
        yield
    finally:
        lock.release()
