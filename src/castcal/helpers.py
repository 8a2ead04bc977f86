"""Helper processes for a build with much audio to probe or make: the CPU-bound parts of a
first build (walking, cutting and tagging thousands of MP3s) on every core.

Probing: while loading, helpers and the build take new audio files one at a time from a
shared counter and probe them; the facts come back to the build's probe cache (a file that
fails is probed again, and reported, as its episode is loaded).

Making: once the project is loaded, helpers take episodes one at a time, from the same
counter as the build itself, make their published audio and stage it in temporary files as
the one writer does, while the build makes the chapters and the meetings' calendars and then
joins in. What a helper staged comes back to the build, which alone renames anything into
place: a helper never publishes a file, and a build that fails removes what its helpers
staged.

Aside: a helper makes the show page, when it must be made again, from the start of the
build while the build makes everything else (see plan.Planned.aside).

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
from typing import Any, TypeVar

from castcal.errors import CastcalError, OutputError

T = TypeVar("T")
FEWEST_EPISODES = 8  # with less audio to make, a helper costs more than it saves
FEWEST_PROBES = 32  # nor with fewer files to probe


def cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this process may start helpers (see above)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


def how_many(jobs: int | None, work: int, fewest: int = FEWEST_EPISODES) -> int:
    """Helpers for ``work`` things to do (episodes, files) in ``jobs`` processes at once
    (None: one per core), each helper with ``fewest`` or more."""
    wanted = (cores() if jobs is None else jobs) - 1
    if wanted < 1 or work < fewest or not can_fork():
        return 0
    return min(wanted, work // fewest)


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
    """A forked process running ``work`` over the numbers it takes from ``claims`` (none
    without claims); what ``work`` returns (or raises) comes back through a pipe. ``task``
    names its work in messages; ``after`` is done once the helper has reported (the build
    no longer waits for it, but for ``reap``)."""

    def __init__(
        self,
        claims: Claims | None,
        work: Callable[[Iterator[int]], object],
        task: str,
        after: Callable[[], object] | None = None,
    ) -> None:
        self.task = task
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the helper
            os.close(read)
            _helper(claims, work, task, write, parent, after)
        os.close(write)
        self.pid, self.pipe = pid, read
        self.reported = False  # whether it said how it went (else it was killed)
        self.reaped = False

    def result(self) -> Any:
        """What ``work`` returned, once the helper has reported; raises what it raised."""
        with os.fdopen(self.pipe, "rb") as pipe:
            data = pipe.read()
        try:
            kind, value = pickle.loads(data)
        except Exception:
            raise OutputError(f"a helper process {self.task} {self.reap()}") from None
        self.reported = True
        if kind == "raised":
            raise value
        return value

    def reap(self) -> str:
        """Wait for the helper's end (its ``after`` done); how it ended."""
        if self.reaped:
            return "ended"
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        return _ended(status)


def start(
    claims: Claims,
    work: Callable[[Iterator[int]], object],
    helpers: int,
    task: str,
    after: Callable[[], object] | None = None,
) -> list[Helper]:
    """Up to ``helpers`` helpers: fewer if the system has no more processes to give."""
    team: list[Helper] = []
    for _ in range(helpers):
        try:
            team.append(Helper(claims, work, task, after))
        except OSError:  # EAGAIN, ENOMEM: the build does the rest itself
            break
    return team


def collect(
    team: list[Helper], take: Callable[[Helper, Any], object], claims: Claims | None = None
) -> BaseException | None:
    """Take in each helper's result in turn (``take`` gets the helper and its result), once
    it has reported. The first failure is
    returned, not raised, once every helper is in; on a failure ``claims`` stop, so the
    other helpers end after the number they have."""
    failure: BaseException | None = None
    for helper in team:
        try:
            take(helper, helper.result())
        except BaseException as exc:
            if claims is not None:
                claims.stop()
            failure = failure or exc
    return failure


def together(count: int, helpers: int, work: Callable[[Iterator[int]], T], task: str) -> list[T]:
    """``work`` done by this process and ``helpers`` forked ones, each number from 0 to
    count - 1 taken by one of them: what each returned, this process's first. If one
    fails, the others stop after the number they have, and the failure is raised."""
    claims = Claims(count)
    team: list[Helper] = []
    results: list[T] = []
    failure: BaseException | None = None
    try:
        team += start(claims, work, helpers, task)
        results.append(work(iter(claims)))
    except BaseException as exc:
        failure = exc
        claims.stop()
    failure = collect(team, lambda _, result: results.append(result), claims) or failure
    for helper in team:
        helper.reap()
    claims.close()
    if failure is not None:
        raise failure
    return results


def _helper(
    claims: Claims | None,
    work: Callable[[Iterator[int]], object],
    task: str,
    pipe: int,
    parent: int,
    after: Callable[[], object] | None,
) -> None:
    """The helper's whole life; it never returns into the build's code."""
    code = 0
    try:
        try:
            numbers = _while_alive(claims, parent) if claims is not None else iter(())
            outcome: tuple[str, object] = ("returned", work(numbers))
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # every failure goes to the build
            code = 1
            data = pickle.dumps(("raised", _portable(exc, task)), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(pipe, view) :]
        os.close(pipe)  # the build reads on
        if after is not None and code == 0:
            after()
    finally:
        os._exit(code)  # no atexit handlers, no buffers of the build's flushed twice


def _while_alive(claims: Claims, parent: int) -> Iterator[int]:
    """The numbers of ``claims``, until the build that forked this helper is gone."""
    for number in claims:
        yield number
        if os.getppid() != parent:
            return


def _portable(exc: BaseException, task: str) -> BaseException:
    """``exc`` as the build can raise it again: castcal's own errors and an interrupt as
    they are, anything else (a bug) as its traceback."""
    if isinstance(exc, CastcalError | KeyboardInterrupt):
        with contextlib.suppress(Exception):  # else as its traceback, below
            return pickle.loads(pickle.dumps(exc))  # type: ignore[no-any-return]
    import traceback

    text = "".join(traceback.format_exception(exc))
    return RuntimeError(f"a helper process {task} failed:\n{text}")


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.valid_signals() else "unknown"
        return f"was stopped by signal {number} ({name}); nothing was published"
    code = os.waitstatus_to_exitcode(status)
    return f"ended with exit code {code} and no report; nothing was published"
