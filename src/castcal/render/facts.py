"""What the renderers are told besides the content: each meeting's revision and what the
build learned making the published audio."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Revision:
    """One meeting's revision, as calendar clients need it."""

    sequence: int
    created: datetime
    last_modified: datetime
    significant: str  # the hash of time, place, status and title it was made for
    content: str  # the hash of everything published about the meeting


@dataclass(frozen=True)
class Published:
    """The published audio files, by path in feeds/: each one's length in bytes (a tagged
    copy is longer than its source), and each segment cut's duration in seconds."""

    lengths: Mapping[str, int] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
