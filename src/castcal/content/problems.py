"""Collecting problems against their file and field, and turning pydantic's validation
errors into ``path: field: message`` lines an editor can act on."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from castcal.errors import Problem, display_path

M = TypeVar("M", bound=BaseModel)


class Collector:
    """Problems and warnings found so far, each tied to a file of the project."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: Path, field: str, message: str, *, remote: bool = False) -> None:
        """A problem; ``remote`` marks a failed network fetch rather than a content mistake."""
        self.problems.append(Problem(display_path(path, self.root), field, message, remote))

    def warn(self, path: Path, field: str, message: str) -> None:
        """Worth fixing, but published anyway unless the build is --strict."""
        self.warnings.append(Problem(display_path(path, self.root), field, message))


def validate(model: type[M], data: dict[str, Any], path: Path, found: Collector) -> M | None:
    """``data`` as a ``model``, or None with each of its problems collected."""
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


# pydantic's messages for a value of the wrong kind, said as an editor would understand them.
_WHOLE = "must be a whole number, written without quotes (number = 3)"
_NUMBER = "must be a number, written without quotes"
_TRUTH = "must be true or false, written without quotes"
PLAIN = {
    "int_parsing": _WHOLE, "int_type": _WHOLE, "int_from_float": _WHOLE,
    "float_parsing": _NUMBER, "float_type": _NUMBER,
    "bool_parsing": _TRUTH, "bool_type": _TRUTH,
    "string_type": 'must be text in quotes ("…")',
}  # fmt: skip


def _message(model: type[BaseModel], error: ErrorDetails) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        in_array = len(loc) == 3 and isinstance(loc[1], int)  # [[segments]], [[people]] …
        if in_array and loc[-1] in model.model_fields:  # a top-level key after such a header
            return (
                f"unknown key in this table; {loc[-1]} belongs at the top of the file, above"
                " every [[…]] header (each line after such a header is part of that table)"
            )
        known = _known_keys(model, loc[:-1])
        hint = f"; known keys here: {', '.join(known)}" if known else ""
        return f"unknown key (a typo?){hint}"
    if kind == "missing":
        return "required, but missing"
    if kind in PLAIN:
        return f"{PLAIN[kind]}, not {error['input']!r}"
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should be "):  # pydantic's own: "must be 'full' or …"
        return "must be " + message.removeprefix("Input should be ")
    return message


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model that ``loc`` points into."""
    current: object = model
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


def _unwrap(annotation: object) -> object:
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
