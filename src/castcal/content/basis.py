"""What the checks of episodes and meetings take from config.toml, even from one with
problems: each part that none of its problems touches, so one run reports everything.

A misspelt key in ``[podcast]`` must not hide a meeting that ends before it starts, a
segment kind that was never declared, or two episodes with one number. What depends on a
part that has problems is not checked until it is fixed, and the build says so once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from castcal.content.config import Calendar, Config, Site
from castcal.content.files import read_toml
from castcal.content.problems import Collector

SEGMENTS, CALENDAR = "podcast.segments", "calendar"
Location = tuple[int | str, ...]  # where pydantic found a problem: keys and indexes


@dataclass(frozen=True)
class Basis:
    """The parts of config.toml the content checks use; None where unknown."""

    parsed: bool = False  # config.toml was read as TOML: absent parts are absent
    kinds: tuple[str, ...] | None = None  # the segment kinds [podcast.segments] declares
    podcast_guid: uuid.UUID | None = None
    image: str | None = None
    base_url: str = ""  # "" when unknown: derived UIDs then name no host
    calendar: Calendar | None = None
    broken: frozenset[str] = field(default_factory=frozenset)  # SEGMENTS, CALENDAR: given, bad


def of(config: Config) -> Basis:
    """All of a valid config.toml's parts."""
    podcast = config.podcast
    return Basis(
        parsed=True,
        kinds=tuple(podcast.segments),
        podcast_guid=podcast.guid,
        image=podcast.image,
        base_url=config.site.base_url,
        calendar=config.calendar,
    )


def salvage(path: Path) -> Basis:
    """The parts of ``path`` (a config.toml with problems, already reported) that none of
    its problems touches."""
    read = read_toml(path, Collector(path.parent))  # its problems: reported already
    if read is None:
        return Basis()
    data = read[1]
    try:
        return of(Config.model_validate(data))
    except ValidationError as exc:
        failed = [error["loc"] for error in exc.errors()]
    segments = _sound(data, failed, ("podcast", "segments"))
    image = _sound(data, failed, ("podcast", "image"))
    return Basis(
        parsed=True,
        kinds=tuple(segments) if isinstance(segments, dict) else None,
        podcast_guid=_guid(_sound(data, failed, ("podcast", "guid"))),
        image=image if isinstance(image, str) else None,
        base_url=_base_url(_sound(data, failed, ("site",))),
        calendar=_calendar(_sound(data, failed, ("calendar",))),
        broken=frozenset(
            name
            for name, key in ((SEGMENTS, ("podcast", "segments")), (CALENDAR, ("calendar",)))
            if _given(data, key) and _sound(data, failed, key) is None
        ),
    )


def _sound(data: Mapping[str, object], failed: Sequence[Location], key: Location) -> object:
    """The value at ``key`` if it is given and no problem lies in it or around it."""
    for loc in failed:
        if loc[: len(key)] == key or key[: len(loc)] == loc:
            return None
    return _at(data, key)


def _given(data: Mapping[str, object], key: Location) -> bool:
    return _at(data, key) is not None


def _at(data: Mapping[str, object], key: Location) -> object:
    value: object = data
    for part in key:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _guid(value: object) -> uuid.UUID | None:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return uuid.UUID(value)
    return None


def _base_url(value: object) -> str:
    if isinstance(value, dict):
        with contextlib.suppress(ValidationError):
            return Site.model_validate(value).base_url
    return ""


def _calendar(value: object) -> Calendar | None:
    if isinstance(value, dict):
        with contextlib.suppress(ValidationError):
            return Calendar.model_validate(value)
    return None
