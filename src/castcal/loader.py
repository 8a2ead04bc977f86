"""Reading project files into models, one problem at a time, without ever stopping at the
first: each problem is recorded against its file and field, and the caller raises them all."""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import tomli
from pydantic import BaseModel, ValidationError

from castcal.errors import Problem, display_path
from castcal.models import NOT_XML

M = TypeVar("M", bound=BaseModel)


class Collector:
    """Problems found so far, each tied to a file of the project."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.raw: dict[Path, bytes] = {}  # the bytes of each file read, for fingerprints

    def add(self, path: Path, field: str, message: str, *, remote: bool = False) -> None:
        """A problem; ``remote`` marks a failed network fetch rather than a content mistake."""
        self.problems.append(Problem(display_path(path, self.root), field, message, remote))

    def warn(self, path: Path, field: str, message: str) -> None:
        """Worth fixing, but published anyway unless the build is --strict."""
        self.warnings.append(Problem(display_path(path, self.root), field, message))


def read_toml(path: Path, found: Collector) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        found.add(path, "-", "file not found")
        return None
    except OSError as exc:
        found.add(path, "-", f"cannot read the file: {exc.strerror}")
        return None
    found.raw[path] = raw
    try:
        return tomli.loads(raw.decode("utf-8"))  # tomllib's parser, compiled: 2.5x faster
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


def validate(model: type[M], data: dict[str, Any], path: Path, found: Collector) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            found.add(path, _field_name(error["loc"]), _message(model, error))
        return None


def _field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or "-"


def _message(model: type[BaseModel], error: Any) -> str:
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, error["loc"][:-1])
        hint = f"; known keys here: {', '.join(known)}" if known else ""
        return f"unknown key (a typo?){hint}"
    if error["type"] == "missing":
        return "required, but missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model that ``loc`` points into."""
    current: Any = model
    for part in loc:
        if isinstance(part, str):
            if not (isinstance(current, type) and issubclass(current, BaseModel)):
                return []
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """The model inside Optional[...], tuple[..., ...], list[...] or dict[str, ...]."""
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            annotation = next((a for a in args if a is not type(None)), annotation)
        elif origin in (tuple, list):
            annotation = args[0]
        elif origin is dict:
            annotation = args[1]
        elif origin is typing.Annotated:
            annotation = args[0]
        else:
            return annotation


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


def read_text(path: Path, field: str, found: Collector) -> str | None:
    """A UTF-8 text file whose characters XML can carry."""
    try:
        raw = path.read_bytes()
        found.raw[path] = raw
        text = raw.decode("utf-8")
    except FileNotFoundError:
        found.add(path.parent / "episode.toml", field, f"{path.name!r} does not exist")
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
    return text
