"""Everything castcal remembers between builds, in one SQLite database in the project's
.castcal-cache/: facts about files (audio, the cover, remote enclosures, the published
manifest fetched), the episodes and meetings as loaded, the rendered pieces of the big
outputs, and what each output file was made from.

What castcal's code made (the content as loaded, the rendered pieces, what each output was
made from) is kept only while that code is as it was: an upgrade or an edited checkout may
load and render the same sources otherwise. The facts about files are kept: they are
measurements, kept as ``SCHEMA`` says.

Values are JSON text or bytes (loading them runs no code, whoever wrote the file). A build
writes its changes as it goes, in one transaction, committed when it ends: a build killed
at any moment leaves the database as it was before it, and the rendered pieces of a large
build are never all in memory at once. All of it is a cache: a
missing, damaged or foreign database costs one slower build, never a wrong one, and a
database that cannot be written is only not written.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from castcal import __version__

PATH = Path(".castcal-cache") / "castcal.sqlite3"
SCHEMA = "4"  # of the tables and of what the values hold: a change empties the database
_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS facts (kind TEXT, key TEXT, size INTEGER, mtime INTEGER,"
    " value TEXT NOT NULL, PRIMARY KEY (kind, key))",
    "CREATE TABLE IF NOT EXISTS content (key TEXT PRIMARY KEY, config TEXT NOT NULL,"
    " stamps TEXT NOT NULL, value TEXT NOT NULL, warnings TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pieces (namespace TEXT, key TEXT, value BLOB NOT NULL,"
    " PRIMARY KEY (namespace, key))",
    "CREATE TABLE IF NOT EXISTS outputs (folder TEXT, name TEXT, print TEXT NOT NULL,"
    " size INTEGER, mtime INTEGER, duration REAL, PRIMARY KEY (folder, name))",
)
_VERSION = {"schema": SCHEMA, "castcal": __version__}
_MADE = ("content", "pieces", "outputs")  # the tables of what castcal's code made
UNCHANGED = "unchanged"  # the facts of the no-change build (build/unchanged.py): made too


@dataclass(frozen=True, slots=True)
class Fact:
    """Something learned of a file, valid while it keeps this size and mtime (ns)."""

    size: int
    mtime: int
    value: object  # as JSON holds it


@dataclass(frozen=True, slots=True)
class Loaded:
    """An episode or meeting as loaded: the config.toml it was loaded with (by its
    fingerprint), the files it was read from as they were, its model as JSON, and the
    warnings it came with."""

    config: str
    stamps: list[tuple[str, int, int]]
    value: str
    warnings: list[list[str]]


@dataclass(frozen=True, slots=True)
class Record:
    """An output file as the build wrote it: what it was made from (a fingerprint), its
    size and mtime then, and a segment cut's duration."""

    print: str
    size: int
    mtime: int
    duration: float | None = None


class Store:
    """The database of one project, open for one build."""

    def __init__(self, root: Path) -> None:
        self.connection = _connect(root / PATH)
        self._writing = False  # in this build's transaction

    # Facts about files, and values kept by key (remote validators, a fetched manifest).

    def facts(self, kind: str) -> dict[str, Fact]:
        """What is remembered of each file of ``kind``, by key."""
        rows = self._select("SELECT key, size, mtime, value FROM facts WHERE kind = ?", kind)
        return {k: Fact(s, m, json.loads(v)) for k, s, m, v in rows}

    def put_fact(self, kind: str, key: str, fact: Fact) -> None:
        value = json.dumps(fact.value, sort_keys=True)
        self._later(
            "INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)",
            (kind, key, fact.size, fact.mtime, value),
        )

    def forget_fact(self, kind: str, key: str) -> None:
        self._later("DELETE FROM facts WHERE kind = ? AND key = ?", (kind, key))

    # Episodes and meetings as loaded.

    def loaded(self) -> dict[str, Loaded]:
        """Every episode and meeting as loaded by earlier builds, by key."""
        rows = self._select("SELECT key, config, stamps, value, warnings FROM content")
        return {k: Loaded(c, json.loads(s), v, json.loads(w)) for k, c, s, v, w in rows}

    def stamps(self) -> list[tuple[str, int, int]]:
        """The files every episode and meeting as loaded was read from, as they were."""
        rows = self._select("SELECT stamps FROM content")
        return [(str(n), int(s), int(m)) for (stamps,) in rows for n, s, m in json.loads(stamps)]

    def put_loaded(self, key: str, entry: Loaded) -> None:
        stamps, warnings = json.dumps(entry.stamps), json.dumps(entry.warnings)
        self._later(
            "INSERT OR REPLACE INTO content VALUES (?, ?, ?, ?, ?)",
            (key, entry.config, stamps, entry.value, warnings),
        )

    def forget_loaded(self, keys: Iterable[str]) -> None:
        self._later_many("DELETE FROM content WHERE key = ?", [(key,) for key in keys])

    # Rendered pieces of the big outputs, by output (or "notes") and key.

    def pieces(self, namespace: str) -> dict[str, bytes]:
        """The pieces kept in ``namespace``, by key (this build's new ones too)."""
        rows = self._select("SELECT key, value FROM pieces WHERE namespace = ?", namespace)
        return {key: bytes(value) for key, value in rows}

    def update_pieces(self, namespace: str, new: Mapping[str, bytes], gone: set[str]) -> None:
        """Keep ``new`` in ``namespace`` besides what it holds, and no longer ``gone``."""
        rows = [(namespace, key, value) for key, value in new.items()]
        self._later_many("INSERT OR REPLACE INTO pieces VALUES (?, ?, ?)", rows)
        self._later_many(
            "DELETE FROM pieces WHERE namespace = ? AND key = ?", [(namespace, k) for k in gone]
        )

    # What each output file was made from, by output folder.

    def records(self, folder: Path) -> dict[str, Record]:
        rows = self._select(
            "SELECT name, print, size, mtime, duration FROM outputs WHERE folder = ?", str(folder)
        )
        return {name: Record(*values) for name, *values in rows}

    def put_records(self, folder: Path, records: Mapping[str, Record]) -> None:
        where = str(folder)
        rows = [(where, n, r.print, r.size, r.mtime, r.duration) for n, r in records.items()]
        self._later_many("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget_records(self, folder: Path, names: Iterable[str]) -> None:
        rows = [(str(folder), name) for name in names]
        self._later_many("DELETE FROM outputs WHERE folder = ? AND name = ?", rows)

    # One transaction for everything the build changed.

    def commit(self) -> None:
        """Commit what this build wrote; a database that cannot be written (a full disk,
        another build's long transaction) is left as it was."""
        if self._writing and self.connection is not None:
            self._writing = False
            try:
                self.connection.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.commit()
        finally:
            self.close()

    def _select(self, sql: str, *args: object) -> list[Any]:
        """The rows of a query, as the DB-API gives them (of no declared type)."""
        if self.connection is None:
            return []
        try:
            return self.connection.execute(sql, args).fetchall()
        except sqlite3.Error:
            return []

    def _later(self, sql: str, row: tuple[object, ...]) -> None:
        self._later_many(sql, [row])

    def _later_many(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Write ``rows`` in this build's transaction, begun with its first write (taking
        the write lock at once: a second build of the project waits for this one)."""
        if not rows or self.connection is None:
            return
        try:
            if not self._writing:
                self.connection.execute("BEGIN IMMEDIATE")
                self._writing = True
            self.connection.executemany(sql, rows)
        except sqlite3.Error:  # the cache only saves time: this build remembers nothing
            self._rollback()

    def _rollback(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")
            self.connection.close()
        self.connection, self._writing = None, False


def _connect(path: Path) -> sqlite3.Connection | None:
    """The database at ``path``, made or emptied as needed: a damaged file, or one made
    by another castcal, is started afresh. None where none can be had (a read-only
    project folder): the build then remembers nothing."""
    for attempt in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.Error):
            return None
        try:
            _prepare(connection)
            return connection
        except sqlite3.DatabaseError:
            connection.close()
            if attempt == 0:
                for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
                    with contextlib.suppress(OSError):
                        (path.parent / name).unlink()
    return None


def _prepare(connection: sqlite3.Connection) -> None:
    # WAL: readers never wait for a writer; NORMAL: a commit is not fsynced (a cache).
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    with _transaction(connection):
        connection.execute(_TABLES[0])
        stored = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        made_by = stored.pop("code", None)
        if stored != _VERSION:  # made by another castcal: nothing in it can be trusted
            for table in ("facts", *_MADE, "meta"):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
            for table in _TABLES:
                connection.execute(table)
            connection.executemany("INSERT INTO meta VALUES (?, ?)", _VERSION.items())
        elif made_by != code():  # the facts hold; what the code made may read otherwise now
            for table in _MADE:
                connection.execute(f"DELETE FROM {table}")
            # Trusted without the outputs' records, the no-change build would pass over
            # files a build of the other code (killed, or since replaced) left behind.
            connection.execute("DELETE FROM facts WHERE kind = ?", (UNCHANGED,))
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (code(),))


def folder_key(root: Path, folder: Path) -> Path:
    """An output folder as its records are kept: relative to the project when inside it
    (a project moved, or restored elsewhere with its cache, keeps them), else absolute; the
    same by any path to the folder."""
    resolved = folder.resolve()
    try:
        return resolved.relative_to(root.resolve())
    except ValueError:
        return resolved


@functools.cache
def code() -> str:
    """castcal's own modules and templates, by name, size and mtime (ns)."""
    package = Path(__file__).resolve().parent.parent
    found = []
    for folder, _, names in os.walk(package):
        for name in names:
            if name.endswith((".py", ".j2")):
                stat = os.stat(os.path.join(folder, name))  # noqa: PTH116, PTH118
                found.append((folder, name, stat.st_size, stat.st_mtime_ns))
    return hashlib.blake2b(repr(sorted(found)).encode(), digest_size=12).hexdigest()


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One transaction, taking the write lock from the start (so two builds of one project
    wait for each other instead of failing halfway), rolled back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
