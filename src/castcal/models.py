"""The content as validated data: config, show, episodes, segments, people. No I/O here.

Every model is frozen and rejects unknown keys, so a typo in a TOML file is an error
instead of a setting that silently does nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
import zoneinfo
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from castcal.errors import Problem
from castcal.vocab import APPLE_CATEGORIES, PERSON_ROLES

PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class Strict(BaseModel):
    # Validators are built on first use: a build that takes every model from its cache
    # never pays for building them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def model_post_init(self, context: Any, /) -> None:
        object.__setattr__(self, "__pydantic_fields_set__", _shared(self.__pydantic_fields_set__))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the class and its field values: half the time of pydantic's own
        state (the build cache holds thousands of these)."""
        fields_set = self.__pydantic_fields_set__
        if fields_set == self.__dict__.keys():
            return _restore, (type(self), self.__dict__)
        return _restore, (type(self), self.__dict__, fields_set)


def shape() -> str:
    """The name and fields of every model, as one string: what a pickle of them assumes."""
    models, seen = [Strict], []
    while models:
        model = models.pop()
        seen.append(f"{model.__name__}({','.join(model.model_fields)})")
        models.extend(model.__subclasses__())
    return ";".join(sorted(seen))


# Which fields of a model were given: one set object for all models with the same ones.
# Pydantic makes a set per model, 200 bytes each, a seventh of an episode's memory; frozen
# models never change theirs (a copy with changes gets a new set).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _shared(fields: set[str]) -> set[str]:
    return _FIELDS_SETS.setdefault(frozenset(fields), fields)


def _restore(cls: type[Strict], values: dict[str, Any], fields_set: set[str] | None = None) -> Any:
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(
        model, "__pydantic_fields_set__", _shared(set(values) if fields_set is None else fields_set)
    )
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def check_text(value: str) -> str:
    """Free text: no characters XML cannot carry, no control characters, no edge spaces."""
    bad = NOT_XML.search(value)
    if bad:
        raise ValueError(
            f"contains the control character U+{ord(bad.group()):04X} at position "
            f"{bad.start() + 1}; remove it (often pasted from a word processor)"
        )
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def check_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    if len(value) > 255:
        raise ValueError(f"is {len(value)} characters long; podcast apps allow at most 255")
    return value


def check_description(value: str) -> str:
    size = len(value.encode("utf-8"))
    if size > 4000:
        raise ValueError(f"is {size} bytes of UTF-8; Apple allows at most 4000")
    return value


def check_web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{value!r} is not an https:// (or http://) URL")
    return value


def check_base_url(value: str) -> str:
    check_web_url(value)
    if not value.endswith("/"):
        raise ValueError(f"{value!r} must end with '/' (it is the folder feeds/ is served from)")
    return value


def check_relative_file(value: str) -> str:
    """A file named relative to its TOML file; must not climb out of that folder."""
    path = Path(value)
    if path.is_absolute() or ".." in path.parts or value.startswith(("/", "\\")):
        raise ValueError(f"{value!r} must be a file inside this folder (no '..', no absolute path)")
    if "://" in value:
        raise ValueError(f"{value!r} must be a local file name")
    return value


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_audio_source(value: str) -> str:
    """An audio file in the episode folder, or an http(s) URL of one hosted elsewhere."""
    if _SCHEME.match(value):
        if urlsplit(value).scheme not in ("https", "http"):
            raise ValueError(
                f"{value!r}: audio is a file in this folder or an https:// URL, nothing else"
            )
        return check_web_url(value)
    return check_relative_file(value)


def parse_timestamp(value: object) -> object:
    """'17:45', '1:02:03', '0:05.5' or a number of seconds, to seconds as a float."""
    if isinstance(value, bool):
        raise ValueError("must be a time like '17:45' or a number of seconds")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d{1,3})?)", value.strip())
        if m and float(m.group(3)) < 60 and (m.group(1) is None or int(m.group(2)) < 60):
            return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        raise ValueError(f"{value!r} is not a time like '17:45' or '1:02:03'")
    return value


def require_offset(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(
            "has no UTC offset; write it like 2017-04-20T07:00:00+02:00 so the time is unambiguous"
        )
    if not isinstance(value, datetime):
        raise ValueError(
            "must be a date and time with a UTC offset, like 2017-04-20T07:00:00+02:00"
        )
    return value


Text = Annotated[str, AfterValidator(check_text)]
Line = Annotated[str, AfterValidator(check_text), AfterValidator(check_line)]
Description = Annotated[str, AfterValidator(check_text), AfterValidator(check_description)]
WebUrl = Annotated[str, AfterValidator(check_web_url)]
RelativeFile = Annotated[str, AfterValidator(check_relative_file)]
AudioSource = Annotated[str, AfterValidator(check_audio_source)]
Seconds = Annotated[float, BeforeValidator(parse_timestamp), Field(ge=0)]
Instant = Annotated[datetime, BeforeValidator(require_offset)]


def check_role(value: str) -> str:
    if value not in PERSON_ROLES:
        raise ValueError(
            f"{value!r} is not a Podcast Taxonomy role (e.g. host, co-host, guest, producer)"
        )
    return value


def check_slug_keys(value: dict[str, SegmentKind]) -> dict[str, SegmentKind]:
    for kind in value:
        if not SLUG.match(kind):
            raise ValueError(f"segment kind {kind!r} must be lower-case a-z, 0-9 and '-'")
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


class Site(Strict):
    base_url: Annotated[str, AfterValidator(check_base_url)]
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


def parse_duration(value: object) -> object:
    """An ISO 8601 duration of hours and minutes ("PT1H30M") or days ("P1D")."""
    if isinstance(value, str):
        m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", value)
        if m and any(m.groups()) and not value.endswith("T"):
            days, hours, minutes = (int(g or 0) for g in m.groups())
            return timedelta(days=days, hours=hours, minutes=minutes)
        raise ValueError(f"{value!r} is not a duration like 'PT1H30M' or 'P1D'")
    return value


def check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Oslo'") from None
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), Field(gt=timedelta(0))]


class Calendar(Strict):
    """The breakfast-meeting series: ``[calendar]`` in config.toml."""

    name: Line
    description: Description
    timezone: Annotated[str, AfterValidator(check_timezone)] = "Europe/Oslo"
    default_start: time = time(8, 0)
    default_duration: Duration = timedelta(hours=1, minutes=30)
    location: Line
    url: WebUrl | None = None
    refresh: Duration = timedelta(hours=12)
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


class Segment(Strict):
    kind: str
    start: Seconds
    title: Line | None = None
    audio: AudioSource | None = None  # the segment as a file of its own, for its feed


def check_segment_order(value: tuple[Segment, ...]) -> tuple[Segment, ...]:
    kinds = [s.kind for s in value]
    for kind in kinds:
        if kinds.count(kind) > 1:
            raise ValueError(f"segment kind {kind!r} appears more than once")
    for before, after in itertools.pairwise(value):
        if after.start <= before.start:
            raise ValueError(
                f"segments must be in ascending start order: {after.kind!r} starts at "
                f"{after.start:g} s, not after {before.kind!r} at {before.start:g} s"
            )
    return value


class EpisodeMeta(Strict):
    """What an editor writes in ``episodes/<id>/episode.toml``."""

    title: Line
    number: Annotated[int, Field(gt=0)] | None = None
    season: Annotated[int, Field(gt=0)] | None = None
    published: Instant
    audio: AudioSource
    alternates: tuple[AudioSource, ...] = ()
    summary: Description
    notes: RelativeFile | None = None
    transcript: RelativeFile | None = None
    explicit: bool | None = None
    episode_type: Literal["full", "trailer", "bonus"] = "full"
    guid: Line | None = None
    people: tuple[Person, ...] = ()
    segments: Annotated[
        tuple[Segment, ...], AfterValidator(check_segment_order), Field(min_length=1)
    ]


class AudioFacts(Strict):
    """What a podcast app needs to know about a published audio file."""

    length: int
    mime: str
    extension: str
    duration: float

    @property
    def seconds(self) -> int:
        return round(self.duration)


# What apps accept as the one <enclosure>: Apple takes only MP3 and AAC in RSS.
MAIN_TYPES = ("audio/mpeg", "audio/x-m4a")


def is_url(source: str) -> bool:
    return bool(_SCHEME.match(source))


class Media(Strict):
    """One audio file of an episode: where it comes from and what it is."""

    source: str  # as written in episode.toml: a file in the episode folder, or a URL
    facts: AudioFacts

    @property
    def remote(self) -> bool:
        return is_url(self.source)


class Episode(Strict):
    id: str
    folder: Path
    meta: EpisodeMeta
    guid: str
    audio: Media
    alternates: tuple[Media, ...] = ()
    segment_audio: dict[str, Media] = Field(default_factory=dict)  # by segment kind
    notes_markdown: str | None = None
    transcript: str | None = None
    fingerprint: str = ""  # of everything the episode was read from
    # Each segment's item GUID in its kind's feed (segment_guid), made once, when loaded.
    segment_guids: dict[str, str] = Field(default_factory=dict)


class Speaker(Strict):
    name: Line
    affiliation: Line | None = None
    role: Line | None = None

    def line(self) -> str:
        return ", ".join(p for p in (self.name, self.role, self.affiliation) if p)


def local_time(value: object) -> object:
    """Meetings are written in the calendar's local time; a bare date takes the default
    start time, which the loader fills in."""
    if isinstance(value, datetime | date):
        return value
    raise ValueError("must be a local date and time like 2017-03-03T08:00:00")


class EventMeta(Strict):
    """What an editor writes in ``events/<id>.toml``."""

    title: Line
    start: Annotated[datetime | date, BeforeValidator(local_time)]
    end: Annotated[datetime, BeforeValidator(local_time)] | None = None
    location: Line | None = None
    registration: WebUrl | None = None
    url: WebUrl | None = None
    status: Literal["confirmed", "tentative", "cancelled"] = "confirmed"
    description: Text | None = None
    speakers: tuple[Speaker, ...] = ()
    uid: Line | None = None


class Event(Strict):
    """A meeting with its times resolved to aware datetimes in the calendar's zone."""

    id: str
    meta: EventMeta
    uid: str
    start: datetime
    end: datetime
    location: str
    fingerprint: str = ""  # of the file it was read from
    hashes: tuple[str, str] = ("", "")  # for its revision: see manifest.revise

    @property
    def cancelled(self) -> bool:
        return self.meta.status == "cancelled"

    def details(self) -> str:
        """The meeting as text, for calendars, the Atom feed and calendar links: clients
        show no structured speakers, so they go here."""
        parts = []
        if self.cancelled:
            parts.append("Møtet er avlyst.")
        if self.meta.description:
            parts.append(self.meta.description)
        if self.meta.speakers:
            parts.append("Innledere:\n" + "\n".join(f"- {s.line()}" for s in self.meta.speakers))
        if self.meta.registration:
            parts.append(f"Påmelding: {self.meta.registration}")
        return "\n\n".join(parts)


class Cover(Strict):
    """The show's artwork, already checked against Apple's rules."""

    data: bytes
    extension: str
    mime: str
    size: int

    @property
    def name(self) -> str:
        """Published name; it changes with the content, as Apple asks of new artwork."""
        return f"cover-{hashlib.sha256(self.data).hexdigest()[:12]}.{self.extension}"


class Project(Strict):
    root: Path
    config: Config
    cover: Cover
    episodes: tuple[Episode, ...]
    events: tuple[Event, ...] = ()
    warnings: tuple[Problem, ...] = ()
    fingerprint: str = ""  # of config.toml and the cover

    @property
    def base_url(self) -> str:
        return self.config.site.base_url


def podcast_guid(feed_url: str) -> uuid.UUID:
    """The Podcasting 2.0 GUID of a feed: UUIDv5 of its URL without scheme and end slashes."""
    return uuid.uuid5(PODCAST_NAMESPACE, feed_url.split("://", 1)[-1].rstrip("/"))


def episode_guid(show_guid: uuid.UUID, episode_id: str) -> str:
    """The item GUID of an episode that does not set its own: stable per folder name."""
    return str(uuid.uuid5(show_guid, episode_id))


def segment_guid(episode_guid: str, kind: str) -> str:
    """A segment item's GUID: derived from its episode's, so it never changes either."""
    return str(uuid.uuid5(PODCAST_NAMESPACE, f"{episode_guid}/{kind}"))
