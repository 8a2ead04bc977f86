"""What config.toml holds, as validated models: the site, the show, the meeting series and
where publishing sends the output.

Every model is frozen and rejects unknown keys, so a typo in a TOML file is an error
instead of a setting that silently does nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from castcal.content.fields import (
    SLUG,
    BaseUrl,
    Description,
    Duration,
    Line,
    RelativeFile,
    TimeZone,
    WebUrl,
)
from castcal.content.vocab import APPLE_CATEGORIES, PERSON_ROLES

MIN_REFRESH = timedelta(minutes=15)
MAX_MEETING = timedelta(days=7)


class Strict(BaseModel):
    """Frozen, no unknown keys; validators are built when first used."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def model_post_init(self, context: object, /) -> None:
        # Pydantic gives each model a set of the names of its given fields, 200-700
        # bytes: a third of an episode's memory (10,000 episodes: 23 MB). A frozen model
        # never changes its set (a copy with changes gets a new one), so the models
        # with the same given fields share one.
        fields = self.__pydantic_fields_set__
        object.__setattr__(
            self, "__pydantic_fields_set__", _FIELDS.setdefault(frozenset(fields), fields)
        )


_FIELDS: dict[frozenset[str], set[str]] = {}


def check_role(value: str) -> str:
    if value not in PERSON_ROLES:
        raise ValueError(
            f"{value!r} is not a Podcast Taxonomy role (e.g. host, co-host, guest, producer)"
        )
    return value


class Person(Strict):
    name: Line
    role: Annotated[str, AfterValidator(check_role)] = "host"
    href: WebUrl | None = None
    img: WebUrl | None = None

    @property
    def group(self) -> str:
        return PERSON_ROLES[self.role]


class Owner(Strict):
    name: Line
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SegmentKind(Strict):
    title: Line
    description: Description


def check_slug_keys(value: dict[str, SegmentKind]) -> dict[str, SegmentKind]:
    for kind in value:
        if not SLUG.match(kind):
            raise ValueError(f"segment kind {kind!r} must be lower-case a-z, 0-9 and '-'")
    return value


class Site(Strict):
    base_url: BaseUrl
    output: str = "feeds"


def check_categories(value: list[list[str]]) -> list[list[str]]:
    for entry in value:
        if not 1 <= len(entry) <= 2:
            raise ValueError('each category is ["Category"] or ["Category", "Subcategory"]')
        top, *sub = entry
        if top not in APPLE_CATEGORIES:
            raise ValueError(f"{top!r} is not one of Apple's podcast categories (exact casing)")
        if sub and sub[0] not in APPLE_CATEGORIES[top]:
            raise ValueError(f"{sub[0]!r} is not an Apple subcategory of {top!r}")
    return value


class Podcast(Strict):
    title: Line
    description: Description
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2})?$")]
    author: Line
    owner: Owner
    image: RelativeFile
    categories: Annotated[list[list[str]], AfterValidator(check_categories), Field(min_length=1)]
    explicit: bool
    type: Literal["episodic", "serial"] = "episodic"
    guid: uuid.UUID
    copyright: Line | None = None
    locked: bool = True
    link: WebUrl | None = None
    apple_url: WebUrl | None = None  # the show in Apple Podcasts, for the show page
    spotify_url: WebUrl | None = None
    people: tuple[Person, ...] = ()
    segments: Annotated[
        dict[str, SegmentKind], AfterValidator(check_slug_keys), Field(min_length=1)
    ]


def _minutes(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes} minute{'s' * (minutes != 1)}"


def check_refresh(value: timedelta) -> timedelta:
    """Every subscriber's calendar fetches the series this often: not more than 4 an hour."""
    if value < MIN_REFRESH:
        raise ValueError(
            f"is {_minutes(value)}; subscribers' calendars must not be asked to fetch more "
            'often than every 15 minutes ("PT15M"); the usual is "PT12H" or "P1D"'
        )
    return value


def check_meeting_length(value: timedelta) -> timedelta:
    """A meeting's length when its file gives no end: hours, at most a few days."""
    if value > MAX_MEETING:
        raise ValueError(
            f"is {value.days} days; a meeting's default length must be at most 7 days "
            '("P7D"); write the end in the meeting\'s file for a longer one'
        )
    return value


class Calendar(Strict):
    """The breakfast-meeting series: ``[calendar]`` in config.toml."""

    name: Line
    description: Description
    timezone: TimeZone = "Europe/Oslo"
    default_start: time = time(8, 0)
    default_duration: Annotated[Duration, AfterValidator(check_meeting_length)] = timedelta(
        hours=1, minutes=30
    )
    location: Line
    url: WebUrl | None = None
    refresh: Annotated[Duration, AfterValidator(check_refresh)] = timedelta(hours=12)
    alarm: Duration | None = None


def check_target(value: str) -> str:
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[^\s]*)?", value)
    if not match:
        raise ValueError(f"{value!r} is not an S3 target like 's3://bucket/prefix'")
    return value


class Publish(Strict):
    """Where ``castcal publish`` sends feeds/: S3 or anything that speaks its API. The
    credentials come from the environment or the AWS config chain, never from this file."""

    target: Annotated[str, AfterValidator(check_target)]
    endpoint_url: WebUrl | None = None  # for R2, MinIO, B2 ...
    region: Line | None = None
    hubs: tuple[WebUrl, ...] = ()  # WebSub hubs to ping, and to name in the feeds
    pubnotify: WebUrl | None = None  # Podcast Index style: GET <pubnotify>?url=<feed>

    @property
    def bucket(self) -> str:
        return self.target.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        rest = self.target.removeprefix("s3://").partition("/")[2].strip("/")
        return f"{rest}/" if rest else ""


class Config(Strict):
    site: Site
    podcast: Podcast
    calendar: Calendar | None = None
    publish: Publish | None = None
