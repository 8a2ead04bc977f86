"""What earlier builds learned, so a scheduled job does no work twice.

- Probe facts: an audio file's facts, and the cover's check, keyed by path, size and
  modification time (``.castcal-cache/probes.json`` in the project). A file whose size or
  mtime changed is probed again; nothing is ever hashed to find out.
- Output records: for each file in the output folder, a fingerprint of everything it was
  made from, and its size and mtime as written (``.castcal-state.pickle`` there). An output
  whose inputs have the same fingerprint, and whose file is still as written, is not
  rendered again.
- Loaded models and rendered pieces: see Loaded and Parts below.

All are caches: deleting them costs one slower build, never a wrong one.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import pickle
import struct
import sys
import zlib
from collections.abc import Callable, Hashable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

from castcal import __version__
from castcal.output import overwrite, replace

PROTOCOL = pickle.HIGHEST_PROTOCOL
PROBES = Path(".castcal-cache") / "probes.json"
OUTPUTS = ".castcal-state.pickle"


# One encoder for every fingerprint: json.dumps with options makes a new one per call.
_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


def fingerprint(*parts: object) -> str:
    """A short hash of the parts (bytes, strings, or anything JSON can hold)."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=12)
    for part in parts:
        if isinstance(part, bytes):
            digest.update(b"b%d:" % len(part))
            digest.update(part)
        else:
            text = part if isinstance(part, str) else _ENCODE(part)
            encoded = text.encode()
            digest.update(b"s%d:" % len(encoded))
            digest.update(encoded)
    return digest.hexdigest()


# What reading a damaged cache, or one pickled by other code, can raise.
_UNREADABLE = (
    OSError, ValueError, EOFError, TypeError, AttributeError, ImportError, pickle.UnpicklingError
)  # fmt: skip


def _unpickle(data: bytes | memoryview) -> Any:
    """Tens of thousands of long-lived objects, made without the cycle collector walking
    them as they arrive, then set aside from its collections (build.build lets them back
    in when it ends; at 10,000 episodes one walk of them took 0.3 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# A pickled cache ends with a seal: a mark, the length and the CRC-32 of what comes before.
# It is rewritten in place (creating and renaming files is the slowest part of a small
# build on some disks), so a build killed while writing one leaves a file that fails the seal.
_SEAL = struct.Struct(">8sQI")
_MARK = b"castcal\x01"


class _Sealing:
    """Writes through to ``out``, keeping the length and CRC-32 of what went by."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.length, self.crc = out, 0, 0

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.length += len(data)
        return self.out.write(data)


def sealed(write: Callable[[Any], object]) -> Callable[[BinaryIO], None]:
    """What ``write`` writes, followed by its seal."""

    def writer(out: BinaryIO) -> None:
        sealing = _Sealing(out)
        write(sealing)
        out.write(_SEAL.pack(_MARK, sealing.length, sealing.crc))

    return writer


def _unsealed(raw: bytes) -> memoryview:
    """What a sealed file holds, if its seal is whole and matches."""
    body = memoryview(raw)[: -_SEAL.size]
    if len(raw) < _SEAL.size or _SEAL.unpack_from(raw, len(body)) != (
        _MARK, len(body), zlib.crc32(body)
    ):  # fmt: skip
        raise ValueError("not a whole cache file")
    return body


def _read(path: Path) -> Any:
    """A cache file's content (sealed pickle or JSON, by its suffix); None if it cannot be
    read."""
    try:
        raw = path.read_bytes()
        return _unpickle(_unsealed(raw)) if path.suffix == ".pickle" else json.loads(raw)
    except _UNREADABLE:
        return None


def _write(path: Path, content: Any) -> None:
    """Pickle ``content`` to ``path``, sealed, in place."""
    with suppress(OSError):  # a cache not saved costs time on the next build, nothing else
        overwrite(path, sealed(functools.partial(pickle.dump, content, protocol=PROTOCOL)))


def _load(path: Path) -> dict[str, Any]:
    """A cache file's document; an empty one if it is missing, damaged or of another
    castcal."""
    data = _read(path)
    return data if isinstance(data, dict) and data.get("castcal") == __version__ else {}


def _save(path: Path, entries: Mapping[Any, Any], **more: str) -> None:
    document = {"castcal": __version__, "entries": entries, **more}
    if path.suffix == ".pickle":
        _write(path, document)
        return
    data = (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode()
    with suppress(OSError):  # as in _write
        replace(path, data, durable=False)


class Probes:
    """Facts about source files, valid while their size and mtime stay the same."""

    def __init__(self, root: Path) -> None:
        self.path = root / PROBES
        self.entries: dict[str, Any] = _load(self.path).get("entries", {})
        self.changed = False

    def get(self, key: str, path: Path) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        if entry["size"] != stat.st_size or entry["mtime"] != stat.st_mtime_ns:
            return None
        facts: dict[str, Any] = entry["facts"]
        return facts

    def put(self, key: str, path: Path, facts: dict[str, Any]) -> None:
        stat = path.stat()
        self.entries[key] = {"size": stat.st_size, "mtime": stat.st_mtime_ns, "facts": facts}
        self.changed = True

    def save(self) -> None:
        if self.changed:
            _save(self.path, self.entries)


# An output's fingerprint: a hash, or a tuple of the fingerprints and values it is made from.
Print = str | tuple[Hashable, ...]
# An output's record: the fingerprint of its inputs, its size and mtime as written, and
# facts to remember (None for none). A tuple: tens of thousands are kept and pickled.
Record = tuple[Print, int, int, dict[str, Any] | None]


class Outputs:
    """Fingerprints of the inputs of each output file, and the file as it was written."""

    LAYOUT = 2  # of the records; a file of another layout is not read

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = out_dir / OUTPUTS
        self.prefix = f"{out_dir}{os.sep}"  # os.stat on strings: thousands of files
        document = _load(self.path)
        if document.get("layout") != str(self.LAYOUT):
            document = {}
        self.entries: dict[str, Record] = document.get("entries", {})
        self.whole: str = document.get("whole", "")  # of all inputs of the last build
        self.changed = False

    def all_fresh(self, whole: str) -> bool:
        """True if the last build had exactly these inputs and left every file untouched:
        then there is nothing to do, not even to plan."""
        if not self.entries or whole != self.whole:
            return False
        return all(self._untouched(name, entry) for name, entry in self.entries.items())

    def _untouched(self, name: str, entry: Record) -> bool:
        try:
            stat = os.stat(f"{self.prefix}{name}")  # noqa: PTH116 (no Path per file)
        except OSError:
            return False
        return entry[1] == stat.st_size and entry[2] == stat.st_mtime_ns

    def fresh(self, name: str, print_: Print) -> bool:
        """True if ``name`` was made from inputs with this fingerprint and is untouched."""
        entry = self.entries.get(name)
        return entry is not None and entry[0] == print_ and self._untouched(name, entry)

    def size(self, name: str) -> int:
        return self.entries[name][1]

    def extra(self, name: str) -> dict[str, Any]:
        entry = self.entries.get(name)
        return (entry[3] if entry is not None else None) or {}

    def record(self, name: str, print_: Print, extra: dict[str, Any] | None = None) -> None:
        stat = os.stat(f"{self.prefix}{name}")  # noqa: PTH116 (as above)
        self.entries[name] = (print_, stat.st_size, stat.st_mtime_ns, extra or None)
        self.changed = True

    def forget(self, names: list[str]) -> None:
        for name in names:
            if self.entries.pop(name, None) is not None:
                self.changed = True

    def save(self, whole: str = "") -> None:
        if self.changed or whole != self.whole:
            self.whole = whole
            _save(self.path, self.entries, whole=whole, layout=str(self.LAYOUT))


PARTS = Path(".castcal-cache") / "parts"


class Parts:
    """Rendered pieces of the big outputs (a feed's items, the series' VEVENTs, the page's
    entries), each keyed by what it is made from: an output rendered again
    renders only its new and changed pieces. Kept per output, and read only when that
    output is rendered: a build with nothing changed never reads them."""

    LAYOUT = 3  # of the pieces and their keys; pieces of another layout are not read

    def __init__(self, root: Path) -> None:
        self.folder = root / PARTS

    def _path(self, name: str) -> Path:
        return self.folder / f"{name.replace('/', '%')}.pickle"

    def get(self, name: str) -> Mapping[Hashable, Any]:
        """The pieces ``name`` was last rendered from."""
        document = _load(self._path(name))
        if document.get("layout") != str(self.LAYOUT):
            return {}
        entries: Mapping[Hashable, Any] = document.get("entries", {})
        return entries

    def put(self, name: str, parts: Mapping[Hashable, str | bytes]) -> None:
        """The pieces ``name`` was just rendered from (these replace the old ones)."""
        _save(self._path(name), parts, layout=str(self.LAYOUT))


LOADED = Path(".castcal-cache") / "loaded.pickle"  # one file per shard: loaded-<shard>.pickle
# Episodes and meetings are spread over shards by a hash of their key: one change re-saves
# one shard, a sixteenth of them, not the whole archive.
SPREAD = 16
SHARDS = (
    *(f"episodes-{i:02d}" for i in range(SPREAD)),
    *(f"events-{i:02d}" for i in range(SPREAD)),
    "other",
)


class Loaded:
    """Episodes and meetings as the loader made them, valid while every file they were read
    from keeps its size and mtime and config.toml is the same: a build with nothing changed
    then neither parses nor validates them again.

    Stored with pickle in the project's own cache folder, written only by castcal, and
    thrown away whole if it was written by another castcal or Python version.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, tuple[list[tuple[str, int, int]], str, Any, list[Any]]] = {}
        self.changed: set[str] = set()  # the shards to save
        header = self._header()
        for shard in SHARDS:
            match _read(self._path(shard)):  # a file of another layout holds other keys
                case (stored_header, stored_shard, dict() as entries) if (
                    stored_header == header and stored_shard == shard
                ):
                    self.entries.update(entries)

    def _path(self, shard: str) -> Path:
        return self.root / LOADED.with_name(f"loaded-{shard}.pickle")

    @staticmethod
    def _shard(key: str) -> str:
        kind, _, name = key.partition(":")
        if kind in ("episode", "event"):
            return f"{kind}s-{zlib.crc32(name.encode()) % SPREAD:02d}"
        return SHARDS[-1]

    def _header(self) -> tuple[str, str, str, str, str]:
        # The models hold paths as the config path gave them, relative or not: a project
        # moved, or reached by another path, starts afresh. Their shape is in it too, so a
        # changed model never meets a pickle of the old one.
        from castcal.models import shape

        return __version__, sys.version, str(self.root), str(self.root.resolve()), shape()

    def _stamp(self, relative: str) -> tuple[str, int, int] | None:
        try:
            stat = os.stat(f"{self.root}{os.sep}{relative}")  # noqa: PTH116 (as above)
        except OSError:
            return None
        return relative, stat.st_size, stat.st_mtime_ns

    def get(self, key: str, config: str) -> tuple[Any, list[Any]] | None:
        """The object stored under ``key`` and the warnings it came with, if still valid."""
        entry = self.entries.get(key)
        if entry is None or entry[1] != config:
            return None
        for relative, size, mtime in entry[0]:
            if self._stamp(relative) != (relative, size, mtime):
                return None
        return entry[2], entry[3]

    def put(self, key: str, config: str, deps: list[str], value: Any, warnings: list[Any]) -> None:
        stamps = [s for d in deps if (s := self._stamp(d)) is not None]
        if len(stamps) == len(deps):
            self.entries[key] = (stamps, config, value, warnings)
            self.changed.add(self._shard(key))

    def drop_except(self, keys: set[str]) -> None:
        for key in set(self.entries) - keys:
            del self.entries[key]
            self.changed.add(self._shard(key))

    def save(self) -> None:
        if not self.changed:
            return
        header = self._header()
        by_shard: dict[str, dict[str, Any]] = {shard: {} for shard in self.changed}
        for key, value in self.entries.items():  # each key's shard found once, not per shard
            entries = by_shard.get(self._shard(key))
            if entries is not None:
                entries[key] = value
        for shard in sorted(by_shard):
            _write(self._path(shard), (header, shard, by_shard[shard]))
        self.changed.clear()
