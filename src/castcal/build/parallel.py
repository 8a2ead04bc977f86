"""The one process pool of a build: the CPU-bound work of a first build (probing thousands
of audio files, cutting and tagging them) on every core.

The pool is started by the first task big enough to share (``fewest`` items or more), and
only where fork is safe: on Linux, in a process with no threads of its own (not in
``castcal serve --watch``); elsewhere the build does the work itself. Tasks are module
functions of picklable arguments: a helper shares nothing with the build but what the
task carries, and sends back only what it returns. A helper that fails fails the build;
one that is killed is named with the signal that killed it; and a helper whose build is
killed is killed with it (Linux's parent-death signal), so none is left behind holding
the build's lock or writing a file.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from castcal.errors import OutputError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")
_PR_SET_PDEATHSIG = 1  # prctl(2)


def cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this process may start helpers (see above)."""
    return sys.platform == "linux" and threading.active_count() == 1


class Pool:
    """Helper processes for a build, ``jobs`` of them (None: one per core)."""

    def __init__(self, jobs: int | None) -> None:
        self.size = cores() if jobs is None else jobs
        self._executor: ProcessPoolExecutor | None = None

    def map(self, work: Callable[[T], R], items: Sequence[T], *, fewest: int, task: str) -> list[R]:
        """``work`` done on each item, in order (see ``start``)."""
        return self.start(work, items, fewest=fewest, task=task).results()

    def start(
        self, work: Callable[[T], R], items: Sequence[T], *, fewest: int, task: str
    ) -> Batch[R]:
        """``work`` to be done on each item: by the helpers, from now on, when there are
        ``fewest`` items or more; else by the build itself, when the results are asked
        for. ``task`` names the work in the message when a helper dies."""
        usable = self._executor is not None or can_fork()
        if self.size < 2 or len(items) < fewest or not usable:
            return Batch(self, functools.partial(map, work, items), task, pooled=False)
        from concurrent.futures.process import BrokenProcessPool

        chunk = max(1, min(fewest, len(items) // (4 * self.size)))
        try:
            results = self._start().map(work, items, chunksize=chunk)  # all submitted now
        except BrokenProcessPool:  # a helper died before the last item was handed over
            raise self.broken(task) from None
        return Batch(self, functools.partial(iter, results), task, pooled=True)

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:  # imported here: most builds start no helper
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                self.size,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with,
                initargs=(os.getpid(),),
            )
        return self._executor

    def broken(self, task: str) -> OutputError:
        """The error that fails the build when a helper doing ``task`` died."""
        return OutputError(f"a helper process {task} {self._ended()}")

    def _ended(self) -> str:
        """How the helper that broke the pool ended (the pool stops the others with
        SIGTERM). The pool knows its processes only by a private attribute; without it,
        the message says less."""
        self._executor, executor = None, self._executor
        assert executor is not None
        processes = dict(getattr(executor, "_processes", None) or {})
        executor.shutdown(wait=True, cancel_futures=True)
        codes = sorted(
            (code for p in processes.values() if (code := p.exitcode)),
            key=lambda code: code == -signal.SIGTERM,
        )
        if codes and codes[0] < 0:
            number = -codes[0]
            name = signal.Signals(number).name if number in signal.valid_signals() else "?"
            return f"was stopped by signal {number} ({name}); nothing was published"
        code = f" with exit code {codes[0]}" if codes else ""
        return f"ended{code} without a word; nothing was published"

    def close(self) -> None:
        """No helper left running (those busy finish the item they have)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Batch(Generic[R]):
    """Work handed to the pool (or kept for the build), whose results come when asked."""

    def __init__(
        self, pool: Pool, each: Callable[[], Iterator[R]], task: str, *, pooled: bool
    ) -> None:
        self.pool, self.each, self.task, self.pooled = pool, each, task, pooled

    def results(self, advance: Callable[[int], None] | None = None) -> list[R]:
        """What the work returned for each item, in order; ``advance(1)`` as each comes
        in (a progress bar). A helper's failure is raised once the others are stopped."""
        each, self.each = self.each, functools.partial(iter, ())  # let the items go once done
        if not self.pooled:
            return _collect(each(), advance)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return _collect(each(), advance)
        except BrokenProcessPool:
            raise self.pool.broken(self.task) from None
        except BaseException:
            self.pool.close()  # the others stop after the item they have
            raise


def _collect(results: Iterator[R], advance: Callable[[int], None] | None) -> list[R]:
    if advance is None:
        return list(results)
    collected = []
    for result in results:
        collected.append(result)
        advance(1)
    return collected


def _die_with(parent: int) -> None:
    """In a helper: be killed when the build that started it dies."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the line above
        os._exit(1)
