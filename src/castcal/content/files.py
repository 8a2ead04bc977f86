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


@dataclass(frozen=True)
class Source:
    """A file as it was read: its bytes, and its size and modification time (ns) then."""

    path: Path
    data: bytes
    size: int
    mtime: int


def read_file(path: Path) -> Source:
    """The file's bytes and, from the same open file, its size and modification time: a
    later change of the file always shows as another stamp. Raises OSError."""
    with path.open("rb") as file:
        stat = os.fstat(file.fileno())
        return Source(path, file.read(), stat.st_size, stat.st_mtime_ns)


def read_toml(path: Path, found: Collector) -> tuple[Source, dict[str, Any]] | None:
    try:
        source = read_file(path)
    except FileNotFoundError:
        found.add(path, "-", "file not found")
        return None
    except OSError as exc:
        found.add(path, "-", f"cannot read the file: {exc.strerror}")
        return None
    try:
        return source, tomli.loads(source.data.decode("utf-8"))  # tomllib's parser, compiled
    except UnicodeDecodeError as exc:
        found.add(path, "-", f"not UTF-8 text (byte {exc.start + 1})")
    except tomli.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        if where:
            found.add(path, f"line {where[1]}", f"invalid TOML at column {where[2]}: {message}")
        else:
            found.add(path, "-", f"invalid TOML: {message}")
    return None


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
        found.add(path, field, f"not UTF-8 text (byte {exc.start + 1})")
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


def listing(folder: Path) -> list[Path]:
    """The entries of a folder but hidden ones, sorted by name."""
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if not e.name.startswith("."))
    return [folder / name for name in names]
