"""The no-change build: when every file the last build read is as it was, every file it
wrote is as it left it, and no time a renderer looks at has come, there is nothing to do,
and castcal says so without loading the content.

Loading 2,000 episodes and meetings from the cache (pydantic's models, their validators)
is most of what a build with nothing to do would cost otherwise: 0.73 s where parsing the
project's TOML alone takes 0.39 s (bench/run.py, (b) and (e)). This module imports none
of it. What it trusts, the last successful build wrote down (``remember``):

- which build it was: the config file, the output folder, --strict, --allow-removal,
  --offline (a build asked otherwise is not answered from here);
- every file it read, by size and mtime (config.toml, the cover, each episode's and each
  meeting's files, audio included), and the names in episodes/ and events/;
- the first time after it at which an output would change by the clock alone: the next
  scheduled episode, the next start or end of a meeting (the page, the calendars);
- the summary it printed, its warnings, and what is scheduled and drafted.

It writes nothing down where it cannot tell from files alone: remote audio (only the
server knows whether it changed), a guard against a published manifest elsewhere, a
preview. Every file castcal wrote is checked by ``Outputs`` as in a full build.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from castcal.build.cache import PATH, UNCHANGED, Fact, Store, code, folder_key
from castcal.build.clock import stamp_time
from castcal.build.coming import away
from castcal.errors import Problem
from castcal.write import writer

KIND = UNCHANGED  # of the facts kept by the cache
FOLDERS = ("episodes", "events")


@dataclass(frozen=True)
class Asked:
    """How a build was asked for: two builds asked alike make the same files."""

    config_path: Path
    out: Path | None
    strict: bool
    allow_removal: bool
    offline: bool

    def key(self) -> str:
        out = None if self.out is None else [str(self.out), str(self.out.resolve())]
        config = [str(self.config_path), str(self.config_path.resolve())]  # as the summary says
        return json.dumps([config, out, self.strict, self.allow_removal, self.offline])


@dataclass(frozen=True)
class Said:
    """What a build with nothing to do prints."""

    summary: str
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Built:
    """What the last build read, wrote and said (see the module's docstring)."""

    files: list[tuple[str, int, int]]  # relative path, size, mtime in ns
    code: str  # castcal's own files as they were (``cache.code``)
    folder: str  # the output folder, resolved: the key of its files' records
    built_at: datetime
    until: datetime | None  # the first time an output changes by the clock
    summary: str  # its first line
    scheduled: list[tuple[str, datetime]]  # "scheduled: ... (Europe/Oslo)", and when
    drafts: list[str]
    warnings: list[tuple[str, str, str]]


def attempt(asked: Asked, now: datetime | None = None) -> Said | None:
    """What to say if a build asked so at ``now`` (default: the build's time) has nothing
    to do; None if it may have."""
    now = now or stamp_time()
    root = asked.config_path.parent
    if not (root / PATH).is_file():
        return None
    with Store(root) as store:
        fact = store.facts(KIND).get(asked.key())
        if fact is None:
            return None
        built = _parse(fact.value)
        if built is None or not _still(built, root, now):
            return None
        records = store.records(folder_key(root, Path(built.folder)))
    prefix = f"{built.folder}{os.sep}"
    for name, record in records.items():
        if not _same(f"{prefix}{name}", record.size, record.mtime):
            return None
    if next(writer.temporary(Path(built.folder)), None) is not None:
        return None  # a killed build's: the build removes them and says so
    lines = [built.summary]
    lines += [f"{text}, {away(at - now)}" for text, at in built.scheduled]
    lines += built.drafts
    return Said("\n".join(lines), tuple(Problem(*w) for w in built.warnings))


def _still(built: Built, root: Path, now: datetime) -> bool:
    """Whether the clock is still within what ``built`` was made for, and every file it
    read is as it was."""
    if now < built.built_at or (built.until is not None and now >= built.until):
        return False
    if built.code != code():
        return False
    listed = _listing(root)
    if listed is None or listed != _names(built.files):
        return False
    prefix = f"{root}{os.sep}"
    return all(_same(f"{prefix}{name}", size, mtime) for name, size, mtime in built.files)


def _same(path: str, size: int, mtime: int) -> bool:
    try:
        stat = os.stat(path)  # noqa: PTH116 (thousands: no Path each)
    except OSError:
        return False
    return stat.st_size == size and stat.st_mtime_ns == mtime


def _listing(root: Path) -> dict[str, list[str]] | None:
    """The names in episodes/ and events/, sorted (none for a folder that is not there);
    None if either cannot be read."""
    listed = {}
    for folder in FOLDERS:
        try:
            listed[folder] = sorted(os.listdir(root / folder))  # noqa: PTH208
        except FileNotFoundError:
            listed[folder] = []
        except OSError:
            return None
    return listed


def _names(files: list[tuple[str, int, int]]) -> dict[str, list[str]]:
    """The names in episodes/ and events/ that ``files`` were read from."""
    names: dict[str, set[str]] = {folder: set() for folder in FOLDERS}
    for name, _, _ in files:
        folder, _, rest = name.partition("/")
        if folder in names and rest:
            names[folder].add(rest.split("/", 1)[0])
    return {folder: sorted(found) for folder, found in names.items()}


def remember(store: Store, asked: Asked, root: Path, built: Built) -> None:
    """Write down what this build read (its files by path relative to ``root``) and made.
    Only if episodes/ and events/ hold nothing else than what was read: a file castcal
    skipped (a folder without episode.toml, a note) would be a change unseen."""
    if _listing(root) != _names(built.files):
        forget(store, asked)
        return
    value = {
        "files": built.files,
        "code": built.code,
        "folder": built.folder,
        "built_at": built.built_at.isoformat(),
        "until": None if built.until is None else built.until.isoformat(),
        "summary": built.summary,
        "scheduled": [[text, at.isoformat()] for text, at in built.scheduled],
        "drafts": built.drafts,
        "warnings": [list(w) for w in built.warnings],
    }
    store.put_fact(KIND, asked.key(), Fact(0, 0, value))


def forget(store: Store, asked: Asked) -> None:
    """No build asked so is to be answered from what was written down."""
    store.forget_fact(KIND, asked.key())


def _parse(value: object) -> Built | None:
    """What ``remember`` wrote; None if it is not that (another castcal's, damaged)."""
    try:
        assert isinstance(value, dict)
        until = value["until"]
        return Built(
            files=[(str(n), int(s), int(m)) for n, s, m in value["files"]],
            code=str(value["code"]),
            folder=str(value["folder"]),
            built_at=datetime.fromisoformat(value["built_at"]),
            until=None if until is None else datetime.fromisoformat(until),
            summary=str(value["summary"]),
            scheduled=[(str(t), datetime.fromisoformat(a)) for t, a in value["scheduled"]],
            drafts=[str(d) for d in value["drafts"]],
            warnings=[(str(p), str(f), str(m)) for p, f, m in value["warnings"]],
        )
    except (AssertionError, KeyError, TypeError, ValueError):
        return None
