"""Reading the project's files: TOML and text as UTF-8, each with the size and modification
time it had when read, and names that must stay inside their folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from castcal.content.fields import NOT_XML
from castcal.content.problems import Collector

OUTSIDE = "is a symlink to a place outside the project folder; copy it in instead"


@dataclass(frozen=True)
class Source:
    """A file as it was read: its bytes, and its size and modification time (ns) then."""

    path: Path
    data: bytes
    size: int
    mtime: int


# What tomllib's terse messages most often mean in a file an editor wrote.
TOML_HINTS = {
    "Invalid value": ' (text goes in quotes: language = "nb"; true, false, numbers and dates'
    " do not)",
    "Illegal character '\\n'": " (a quoted text is not closed on its line; text over several"
    ' lines goes in triple quotes: """…""")',
    "Cannot overwrite a value": " (this key is given twice)",
}


def read_file(path: Path) -> Source:
    """The file's bytes and, from the same open file, its size and modification time: a
    later change of the file always shows as another stamp. Raises OSError."""
    with path.open("rb") as file:
        stat = os.fstat(file.fileno())
        return Source(path, file.read(), stat.st_size, stat.st_mtime_ns)


def read_toml(path: Path, found: Collector) -> tuple[Source, dict[str, Any]] | None:
    """The TOML file's data (a UTF-8 byte-order mark is allowed), or None with the problem
    collected."""
    if path.is_symlink() and not path.resolve().is_relative_to(found.root.resolve()):
        found.add(path, "-", OUTSIDE)
        return None
    try:
        source = read_file(path)
    except FileNotFoundError:
        found.add(path, "-", "file not found")
        return None
    except OSError as exc:
        found.add(path, "-", f"cannot read the file: {exc.strerror}")
        return None
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        found.add(path, "-", not_utf8(source.data, exc))
        return None
    try:
        return source, tomli.loads(text)  # tomllib's parser, compiled
    except RecursionError:
        found.add(path, "-", "invalid TOML: arrays or inline tables nested too deeply")
    except tomli.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        message += TOML_HINTS.get(message, "")
        if where:
            found.add(path, f"line {where[1]}", f"invalid TOML at column {where[2]}: {message}")
        else:
            found.add(path, "-", f"invalid TOML: {message}")
    return None


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """Where a file stops being UTF-8, and what it looks like instead."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:200].count(0) > 10:
        kind = "it looks like UTF-16"
    else:
        kind = "often Latin-1 or Windows-1252"
    line = data.count(b"\n", 0, exc.start) + 1
    return f"not UTF-8 text: line {line}, byte {exc.start + 1} ({kind}); save the file as UTF-8"


def read_text(path: Path, field: str, named_in: Path, found: Collector) -> Source | None:
    """A UTF-8 text file whose characters XML can carry; ``named_in`` is the TOML file that
    names it, where a missing file is reported."""
    try:
        source = read_file(path)
        text = source.data.decode("utf-8")
    except FileNotFoundError:
        found.add(named_in, field, f"{path.name!r} does not exist")
        return None
    except OSError as exc:
        found.add(path, field, f"cannot read the file: {exc.strerror}")
        return None
    except UnicodeDecodeError as exc:
        found.add(path, field, not_utf8(source.data, exc))
        return None
    bad = NOT_XML.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        found.add(path, field, f"line {line}: control character U+{ord(bad.group()):04X}")
        return None
    return source


def inside(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it stays inside ``folder`` once symlinks are resolved. (The name
    has no '..' and is not absolute: the models refuse those.) Resolving is costly, so it is
    done only where a component of the name is a symlink."""
    target = folder / name
    step = folder
    for part in Path(name).parts:
        step = step / part
        if step.is_symlink():
            if not target.resolve().is_relative_to(folder.resolve()):
                return None
            break
    return target


def listing(folder: Path, found: Collector) -> list[Path]:
    """The entries of a folder but hidden ones, sorted by name. An entry that is a symlink
    to something outside the project is reported and left out: what is published comes
    from the project, not from wherever a link points."""
    with os.scandir(folder) as entries:
        found_entries = sorted((e.name, e.is_symlink()) for e in entries if e.name[0] != ".")
    paths = []
    for name, link in found_entries:
        path = folder / name
        if link and not path.resolve().is_relative_to(found.root.resolve()):
            found.add(path, "-", OUTSIDE)
        else:
            paths.append(path)
    return paths
