"""syncfs(2): one call that makes a whole file system durable and reports any write to it
that failed since a folder of it was opened. Linux has reported such failures through
syncfs since 5.8; before, and elsewhere, only an fsync of each file does, so there a
build fsyncs each file it staged (after one sync they are cheap, but not free: 0.44 s
for the 5,000 files of a first build of the benchmark, most of it after the audio).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

REPORTS_FROM = (5, 8)  # the first Linux whose syncfs returns writeback errors


@functools.cache
def _call() -> Callable[[int], int] | None:
    """libc's syncfs, where it reports failed writes; else None."""
    if sys.platform != "linux":
        return None
    numbers = os.uname().release.split("-")[0].split(".")[:2]
    try:
        if tuple(int(n) for n in numbers) < REPORTS_FROM:
            return None
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (ValueError, OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


class Watch:
    """An open folder of the file system the output is written to: opened before the
    first file is staged, it learns of every write to that file system that fails after."""

    def __init__(self, folder: Path) -> None:
        self.fd = os.open(folder, os.O_RDONLY)

    def sync(self) -> bool:
        """Everything on the file system durable. False where syncfs cannot say whether a
        write failed (the caller fsyncs each file then); OSError if one did."""
        call = _call()
        if call is None:
            return False
        if call(self.fd) != 0:
            import ctypes

            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
