"""What is fresh: a fingerprint of everything each output is made from, and the record of
each output file as the last build wrote it. An output whose fingerprint is the one
recorded, and whose file is still as written, is neither rendered nor written again."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from castcal.build.cache import Record


def fingerprint(*parts: object) -> str:
    """A short hash of the parts: bytes as they are, anything else by its repr (strings,
    numbers, datetimes and tuples, lists and dicts of them: what the repr of each shows is
    all of it, and the same on every run). Tens of thousands a build: no JSON."""
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode()
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.hexdigest()


class Outputs:
    """The records of an output folder's files: read at the start of a build, changed as
    it writes, saved with the rest of the cache at its end."""

    def __init__(self, folder: Path, records: Mapping[str, Record]) -> None:
        self.folder = folder
        self.records = dict(records)
        self.changed: dict[str, Record] = {}
        self.gone: set[str] = set()
        self.pending: dict[str, tuple[str, float | None]] = {}  # made, not yet recorded
        self.expected: set[str] = set()  # every output this build makes, fresh or not
        self._prefix = f"{folder}{os.sep}"  # os.stat on strings: thousands of files

    def fresh(self, name: str, print_: str) -> bool:
        """True if ``name`` was made from inputs with this fingerprint and is untouched."""
        self.expected.add(name)
        record = self.records.get(name)
        return record is not None and record.print == print_ and self._untouched(name, record)

    def duration(self, name: str) -> float:
        """A segment cut's duration, as recorded when it was made."""
        duration = self.records[name].duration
        assert duration is not None
        return duration

    def size(self, name: str) -> int:
        return self.records[name].size

    def made(self, name: str, print_: str, duration: float | None = None) -> None:
        """``name`` was made from inputs with this fingerprint (written, or found to hold
        its bytes already), and has this duration (a segment cut): recorded by ``settle``
        once the build has written it."""
        self.expected.add(name)
        self.pending[name] = (print_, duration)

    def settle(self) -> None:
        """Record every output made, as it now is on disk."""
        for name, (print_, duration) in self.pending.items():
            try:
                stat = os.stat(f"{self._prefix}{name}")  # noqa: PTH116 (no Path per file)
            except OSError:
                continue
            record = Record(print_, stat.st_size, stat.st_mtime_ns, duration)
            self.records[name] = self.changed[name] = record
        self.pending.clear()

    def forget(self, names: set[str]) -> None:
        """These outputs are no longer built."""
        for name in names & self.records.keys():
            del self.records[name]
            self.changed.pop(name, None)
            self.gone.add(name)

    def _untouched(self, name: str, record: Record) -> bool:
        try:
            stat = os.stat(f"{self._prefix}{name}")  # noqa: PTH116 (as above)
        except OSError:
            return False
        return record.size == stat.st_size and record.mtime == stat.st_mtime_ns
