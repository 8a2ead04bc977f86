"""Episodes, meetings, the cover and the whole project as validated models. No I/O here.

What an editor writes (``EpisodeMeta``, ``EventMeta``) is validated as written; the loader
completes each into an ``Episode`` (with the facts of its audio) or an ``Event`` (with its
times resolved in the calendar's zone).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from castcal.content.config import (
    Config,
    Funding,
    Location,
    Person,
    Strict,
    check_license_field,
)
from castcal.content.fields import (
    AudioSource,
    Description,
    Geo,
    HttpsUrl,
    Instant,
    Line,
    LocalDateTime,
    LocalTime,
    RelativeFile,
    Seconds,
    ShortLine,
    Text,
    WebUrl,
    is_url,
)
from castcal.errors import Problem


class Segment(Strict):
    kind: str
    start: Seconds
    title: Line | None = None
    audio: AudioSource | None = None  # the segment as a file of its own, for its feed
    summary: Description | None = None  # its item's description in its kind's feed


class EpisodePerson(Person):
    """Someone heard in the episode; ``segments``: the kinds of the segments they are in
    (none: all of it), so a segment's item in its kind's feed names only its own people."""

    segments: tuple[str, ...] = ()


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
    people: tuple[EpisodePerson, ...] = ()
    segments: Annotated[
        tuple[Segment, ...], AfterValidator(check_segment_order), Field(min_length=1)
    ]
    draft: bool = False  # kept out of every output whatever its date
    meeting: Line | None = None  # the id of the meeting (events/<id>.toml) it recorded
    # Podcasting 2.0 and Apple tags of the episode's item (config.py has the channel's)
    funding: tuple[Funding, ...] = ()
    license_url: HttpsUrl | None = None  # before license, whose check reads it
    license: Annotated[str, AfterValidator(check_license_field)] | None = None
    location: Location | None = None
    block: bool = False  # stays in the feed, with itunes:block: apps hide it
    soundbites: tuple[Soundbite, ...] = ()


class AudioFacts(Strict):
    """What a podcast app needs to know about an audio file."""

    length: int
    mime: str
    extension: str
    duration: float
    # A master (WAV, FLAC, AIFF) encoded by castcal: the MP3 made of it, under
    # .castcal-cache/. The loudness (LUFS) and true peak (dBTP) of the audio published
    # (local files; audio hosted elsewhere is not downloaded to be measured).
    encoded: str | None = None
    lufs: float | None = None
    peak: float | None = None
    unmeasured: str | None = None  # why its loudness could not be measured

    @property
    def measured(self) -> bool:
        """Whether its loudness was measured, or found not to be measurable."""
        return self.lufs is not None or self.unmeasured is not None

    @property
    def seconds(self) -> int:
        return round(self.duration)


# What apps accept as the one <enclosure>: Apple takes only MP3 and AAC in RSS.
MAIN_TYPES = ("audio/mpeg", "audio/x-m4a")


class Media(Strict):
    """One audio file of an episode: where it comes from and what it is."""

    source: str  # as written in episode.toml: a file in the episode folder, or a URL
    facts: AudioFacts

    @property
    def remote(self) -> bool:
        return is_url(self.source)


class Episode(Strict):
    id: str  # the folder name
    meta: EpisodeMeta
    guid: str
    audio: Media
    alternates: tuple[Media, ...] = ()
    segment_audio: dict[str, Media] = Field(default_factory=dict)  # by segment kind
    notes_markdown: str | None = None
    transcript: str | None = None
    fingerprint: str  # of its folder name and everything it was read from
    segment_guids: dict[str, str]  # each segment's item GUID in its kind's feed, by kind
    pending: tuple[str, ...] = ()  # a draft's audio files not there yet (stand-ins above)

    def media(self) -> list[Media]:
        """Every audio file of the episode: the main one, alternates, segments' own."""
        return [self.audio, *self.alternates, *self.segment_audio.values()]

    @property
    def draft(self) -> bool:
        return self.meta.draft

    @property
    def published(self) -> datetime:
        return self.meta.published


class Speaker(Strict):
    name: Line
    affiliation: Line | None = None
    role: Line | None = None

    def line(self) -> str:
        return ", ".join(p for p in (self.name, self.role, self.affiliation) if p)


class EventMeta(Strict):
    """What an editor writes in ``events/<id>.toml``."""

    title: Line
    start: LocalTime
    end: LocalDateTime | None = None
    location: Line | None = None
    registration: WebUrl | None = None
    url: WebUrl | None = None
    status: Literal["confirmed", "tentative", "cancelled"] = "confirmed"
    description: Text | None = None
    speakers: tuple[Speaker, ...] = ()
    uid: Line | None = None
    draft: bool = False  # kept out of every output whatever its date
    geo: Geo | None = None  # where the venue is, "geo:59.91,10.75": GEO in its VEVENT


class Event(Strict):
    """A meeting with its times resolved to aware datetimes in the calendar's zone."""

    id: str  # the file name without .toml
    meta: EventMeta
    uid: str
    zone: str  # the calendar's time zone, which start and end are in
    start: datetime
    end: datetime
    location: str
    fingerprint: str  # of its file name and its file
    significant: str  # a hash of time, place, status and title: a change bumps SEQUENCE
    content: str  # a hash of everything published about the meeting

    @field_validator("start", "end")
    @classmethod
    def _in_zone(cls, value: datetime, info: ValidationInfo) -> datetime:
        """In the calendar's zone (read back from JSON, the time has only its offset)."""
        return value.astimezone(ZoneInfo(info.data["zone"]))

    @property
    def cancelled(self) -> bool:
        return self.meta.status == "cancelled"

    @property
    def draft(self) -> bool:
        return self.meta.draft


@dataclass(frozen=True)
class Cover:
    """The show's artwork, already checked against Apple's rules."""

    data: bytes
    extension: str
    mime: str
    size: int

    @property
    def name(self) -> str:
        """Published name; it changes with the content, as Apple asks of new artwork."""
        return f"cover-{hashlib.sha256(self.data).hexdigest()[:12]}.{self.extension}"


@dataclass(frozen=True)
class Project:
    """Everything a build publishes, validated: made by the loader, never from user data."""

    root: Path
    config: Config
    cover: Cover
    episodes: tuple[Episode, ...]  # in publishing order, oldest first
    events: tuple[Event, ...]  # by start time
    warnings: tuple[Problem, ...]
    fingerprint: str  # of config.toml and the cover

    @property
    def base_url(self) -> str:
        return self.config.site.base_url


def episode_folder(root: Path, episode_id: str) -> Path:
    return root / "episodes" / episode_id


MAX_SOUNDBITE = 120.0  # seconds, as the podcast namespace allows


class Soundbite(Strict):
    """A part of the episode an app may play as its preview (podcast:soundbite); the
    loader checks it lies inside the audio."""

    start: Seconds
    duration: Annotated[Seconds, Field(gt=0, le=MAX_SOUNDBITE)]
    title: ShortLine | None = None
