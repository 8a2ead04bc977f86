"""Helper processes for a build with many episodes' audio to make: the CPU-bound part of a
first build (reading, cutting and tagging thousands of MP3s) on every core.

A helper is forked once the project is loaded. It takes episodes one at a time, from the
same counter as the build itself, makes their published audio and stages it in temporary
files as the one writer does, while the build makes the chapters and the meetings'
calendars and then joins in. What a helper staged comes back to the build, which alone
renames anything into place: a helper never publishes a file, and a build that fails
removes what its helpers staged.

Only where fork is safe: not on Windows (no fork) nor macOS (system libraries with threads),
and not in a process with threads of its own (``serve --watch``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from castcal.errors import CastcalError, OutputError

FEWEST_EPISODES = 8  # with less audio to make, a helper costs more than it saves


def cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


def how_many(jobs: int | None, episodes_to_make: int) -> int:
    """Helpers for a build of ``jobs`` processes at once (None: one per core) with audio to
    make for ``episodes_to_make`` episodes."""
    wanted = (cores() if jobs is None else jobs) - 1
    if wanted < 1 or episodes_to_make < FEWEST_EPISODES or not can_fork():
        return 0
    return min(wanted, episodes_to_make // FEWEST_EPISODES)  # each with plenty to do


class Claims:
    """The numbers 0 to count - 1, each handed out once, in order, to whichever process
    sharing them asks next: a counter in an anonymous file, under a POSIX record lock
    (held by a process, not a file descriptor, so a process that dies lets it go)."""

    def __init__(self, count: int) -> None:
        import tempfile

        self.count = count
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the build)
        os.pwrite(self.file.fileno(), bytes(8), 0)

    def _update(self, change: Callable[[int], int]) -> int:
        import fcntl

        fd = self.file.fileno()
        fcntl.lockf(fd, fcntl.LOCK_EX)
        try:
            number = int.from_bytes(os.pread(fd, 8, 0), "little")
            os.pwrite(fd, change(number).to_bytes(8, "little"), 0)
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        return number

    def __iter__(self) -> Iterator[int]:
        while (number := self._update(lambda n: min(n + 1, self.count))) < self.count:
            yield number

    def stop(self) -> None:
        """No more numbers for anyone: each process finishes the one it has."""
        self._update(lambda n: self.count)

    def close(self) -> None:
        self.file.close()


class Helper:
    """A forked process running ``work`` over the numbers it takes from ``claims``; what
    ``work`` returns (or raises) comes back through a pipe."""

    def __init__(self, claims: Claims, work: Callable[[Iterator[int]], object]) -> None:
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the helper
            os.close(read)
            _helper(claims, work, write, parent)
        os.close(write)
        self.pid, self.pipe = pid, read
        self.reported = False  # whether it said how it went (else it was killed)

    def result(self) -> Any:
        """What ``work`` returned, once the helper is done; raises what it raised."""
        with os.fdopen(self.pipe, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        try:
            kind, value = pickle.loads(data)
        except Exception:
            raise OutputError(f"a helper process making audio files {_ended(status)}") from None
        self.reported = True
        if kind == "raised":
            raise value
        return value


def _helper(
    claims: Claims, work: Callable[[Iterator[int]], object], pipe: int, parent: int
) -> None:
    """The helper's whole life; it never returns into the build's code."""
    code = 0
    try:
        try:
            outcome: tuple[str, object] = ("returned", work(_while_alive(claims, parent)))
        except BaseException as exc:  # every failure goes to the build
            outcome, code = ("raised", _portable(exc)), 1
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(pipe, view) :]
    finally:
        os._exit(code)  # no atexit handlers, no buffers of the build's flushed twice


def _while_alive(claims: Claims, parent: int) -> Iterator[int]:
    """The numbers of ``claims``, until the build that forked this helper is gone."""
    for number in claims:
        yield number
        if os.getppid() != parent:
            return


def _portable(exc: BaseException) -> BaseException:
    """``exc`` as the build can raise it again: castcal's own errors and an interrupt as
    they are, anything else (a bug) as its traceback."""
    if isinstance(exc, CastcalError | KeyboardInterrupt):
        with contextlib.suppress(Exception):  # else as its traceback, below
            return pickle.loads(pickle.dumps(exc))  # type: ignore[no-any-return]
    import traceback

    text = "".join(traceback.format_exception(exc))
    return RuntimeError(f"a helper process making audio files failed:\n{text}")


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.valid_signals() else "unknown"
        return f"was stopped by signal {number} ({name}); nothing was published"
    code = os.waitstatus_to_exitcode(status)
    return f"ended with exit code {code} and no report; nothing was published"
