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
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from castcal.content.fields import (
    SLUG,
    BaseUrl,
    Description,
    Duration,
    Geo,
    HttpsUrl,
    Line,
    RelativeFile,
    ShortLine,
    TimeZone,
    TxtValue,
    WebUrl,
    check_https_url,
    check_web_url,
)
from castcal.content.spdx import check_license
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


FEED_NAME = "podcast.xml"  # the main feed in the site's folder (render/paths.py: FEED)


def check_https(value: str) -> str:
    if urlsplit(value).scheme != "https":
        raise ValueError(f"{value!r} is not an https:// URL")
    return check_web_url(value)


def check_moves(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    """Where the main feed was served before: never where it is served now."""
    current = str(info.data.get("base_url", "")) + FEED_NAME
    for url in value:
        if url == current:
            raise ValueError(
                f"{url!r} is where the feed is now (base_url + {FEED_NAME}); list only "
                "the URLs it was served from before"
            )
    return value


class Site(Strict):
    base_url: BaseUrl
    output: str = "feeds"
    # Where the main feed was served before; the feed names its new URL, and publish
    # redirects the old ones it can (publish/moves.py).
    previous_feed_urls: Annotated[
        tuple[Annotated[str, AfterValidator(check_https)], ...], AfterValidator(check_moves)
    ] = ()
    # Every enclosure URL through an analytics service (OP3, Podtrac): off when None.
    enclosure_prefix: Annotated[str, AfterValidator(check_prefix)] | None = None
    # The publisher's accessibility statement (uustatus.no), linked from every page's footer.
    accessibility_statement: Annotated[str, AfterValidator(check_https)] | None = None


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
    # Podcasting 2.0 and Apple tags (models below Config)
    funding: tuple[Funding, ...] = ()
    license_url: HttpsUrl | None = None  # before license, whose check reads it
    license: Annotated[str, AfterValidator(check_license_field)] | None = None
    txt: tuple[Txt, ...] = ()
    location: Location | None = None
    update_frequency: UpdateFrequency | None = None
    podroll: tuple[RemoteItem, ...] = ()
    block: bool = False  # itunes:block and podcast:block: directories leave the show out
    timestamps: bool = True  # the segments' start times atop each description


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
    podping: WebUrl | None = None  # podping.cloud: GET <podping>?url=<feed>, PODPING_TOKEN

    @property
    def bucket(self) -> str:
        return self.target.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        rest = self.target.removeprefix("s3://").partition("/")[2].strip("/")
        return f"{rest}/" if rest else ""


class Audio(Strict):
    """How masters (WAV, FLAC, AIFF) are encoded, and the loudness every episode is held
    to: ``[audio]`` in config.toml."""

    loudness: Annotated[float, Field(ge=-30.0, le=-9.0)] = -16.0  # LUFS (Apple: -16)
    true_peak: Annotated[float, Field(ge=-9.0, le=0.0)] = -1.0  # dBTP (Apple: -1)
    # kbps, constant; None: 96 for mono, 128 for stereo
    bitrate: Literal[64, 80, 96, 112, 128, 160, 192, 224, 256, 320] | None = None


class Config(Strict):
    site: Site
    podcast: Podcast
    calendar: Calendar | None = None
    publish: Publish | None = None
    audio: Audio = Audio()


# Podcasting 2.0 and Apple tags: what config.toml's [podcast] and an episode.toml may
# name, each checked as the podcast namespace document asks.


def check_prefix(value: str) -> str:
    """An analytics prefix (``https://op3.dev/e,pg=<guid>/``): the enclosure URL without
    its scheme is put after it, so it ends with a slash."""
    check_https_url(value)
    if not value.endswith("/"):
        raise ValueError(f"{value!r} must end with '/' (the audio URL is put after it)")
    return value


def check_license_field(value: str, info: ValidationInfo) -> str:
    return check_license(value, info.data.get("license_url"))


def check_rrule(value: str) -> str:
    """An RFC 5545 recurrence rule: NAME=value parts separated by ';', FREQ among them."""
    parts = value.split(";")
    if not all(_RRULE_PART.fullmatch(p) for p in parts) or not any(
        p.startswith("FREQ=") for p in parts
    ):
        raise ValueError(f"{value!r} is not an RFC 5545 rule like 'FREQ=MONTHLY'")
    return value


_RRULE_PART = re.compile(r"[A-Z]+=[A-Z0-9,+-]+")


class Funding(Strict):
    url: HttpsUrl
    text: ShortLine


class Txt(Strict):
    purpose: ShortLine | None = None  # "applepodcastsverify", "verify", ...
    value: TxtValue


class Location(Strict):
    name: ShortLine
    geo: Geo | None = None
    osm: Annotated[str, Field(pattern=r"^[NWR]\d+(#\d+)?$")] | None = None


class UpdateFrequency(Strict):
    text: ShortLine
    rrule: Annotated[str, AfterValidator(check_rrule)] | None = None
    complete: bool = False  # the show has ended


class RemoteItem(Strict):
    """A podcast the show recommends, by its podcast:guid."""

    feed_guid: uuid.UUID
    feed_url: HttpsUrl | None = None
