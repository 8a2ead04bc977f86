"""The one exception family. The CLI turns each into a message and an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content: which file, which field, what is wrong."""

    path: str
    field: str
    message: str
    remote: bool = False  # a network fetch failed, not the content

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


def counted(number: int, noun: str) -> str:
    """A count as a summary line says it: "1 episode", "2 episodes"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def display_path(path: Path, root: Path) -> str:
    """A path as the editor knows it: relative to the project when it is inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class CastcalError(Exception):
    """Base of every error castcal reports to its user."""

    exit_code = 1


class ContentError(CastcalError):
    """The content has problems; all of them, found in one run."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        if self.problems and all(p.remote for p in self.problems):
            self.exit_code = RemoteError.exit_code  # only the network failed
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[ContentError], tuple[list[Problem]]]:
        return type(self), (self.problems,)  # pickled with its problems, as a helper sends it


class OutputError(CastcalError):
    """The output folder cannot be written."""

    exit_code = 1


class UsageError(CastcalError):
    """The command was called wrongly (an option or environment variable)."""

    exit_code = 2


class LockedError(CastcalError):
    """Another build holds the output lock."""

    exit_code = 3


class RemoteError(CastcalError):
    """A network fetch failed and no cache covers it."""

    exit_code = 4
