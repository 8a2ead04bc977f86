"""What was published before: feeds/manifest.json.

The manifest is written last in every build. It records each episode's GUID and enclosure
and each meeting's UID with its revision (SEQUENCE, CREATED, LAST-MODIFIED and hashes of its
fields), so a later build knows what changed and can bump SEQUENCE by exactly one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castcal import __version__
from castcal.errors import ContentError, Problem
from castcal.guard import Identities
from castcal.models import Event, Project

if TYPE_CHECKING:
    from castcal.rss import Feed

NAME = "manifest.json"


@dataclass(frozen=True)
class Revision:
    """One meeting's revision state, as calendar clients need it."""

    sequence: int
    created: datetime
    last_modified: datetime
    significant: str  # hash of time, place, status and title: a change bumps SEQUENCE
    content: str  # hash of everything published about the meeting


def _hash(values: list[Any]) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:16]


def significant_hash(event: Event) -> str:
    return _hash(
        [
            event.start.isoformat(),
            event.end.isoformat(),
            event.location,
            event.meta.status,
            event.meta.title,
        ]
    )


def content_hash(event: Event) -> str:
    return _hash([significant_hash(event), event.meta.model_dump(mode="json")])


def revise(
    previous: dict[str, Revision], events: tuple[Event, ...], now: datetime
) -> dict[str, Revision]:
    """Each meeting's revision: unchanged ones keep theirs; a change of time, place, status
    or title bumps SEQUENCE by one; any change moves LAST-MODIFIED to ``now``."""
    revisions = {}
    for event in events:
        significant, content = event.hashes
        if not significant:  # an event not made by the loader
            significant, content = significant_hash(event), content_hash(event)
        old = previous.get(event.uid)
        if old is None:
            revisions[event.uid] = Revision(0, now, now, significant, content)
        elif old.content == content:
            revisions[event.uid] = old
        else:
            sequence = old.sequence + (old.significant != significant)
            revisions[event.uid] = Revision(sequence, old.created, now, significant, content)
    return revisions


# Meetings share stamps (those first published together, those changed in one build):
# each distinct one is written and read once.
@functools.lru_cache(maxsize=4096)
def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


@functools.lru_cache(maxsize=4096)
def _parse_stamp(value: str) -> datetime:
    if len(value) != 20 or not value.endswith("Z"):
        raise ValueError(f"{value!r} is not a UTC time like 2017-03-03T08:00:00Z")
    return datetime.fromisoformat(value)


def feed_sections(main_feed: Feed, segment_feeds: Sequence[Feed]) -> dict[str, bytes]:
    """The manifest's records of the feeds' items, as JSON text by section."""

    def items(feed: Feed, depth: int) -> str:
        # Written field by field (as _encode would, keys sorted): a feed has thousands.
        records = (
            (
                entry.episode.id,
                f'{{"enclosure": {_string(entry.url)}, "guid": {_string(entry.guid)}, '
                f'"length": {entry.length:d}}}',
            )
            for entry in sorted(feed.entries, key=lambda entry: entry.episode.id)
        )
        return _records(records, depth)

    pad = "  " * 3
    segments = {
        feed.path.removesuffix(".xml"): f'{{\n{pad}"guid": {_encode(feed.guid)},\n'
        f'{pad}"items": {items(feed, 3)}\n    }}'
        for feed in segment_feeds
    }
    return {
        "episodes": items(main_feed, 1).encode(),
        "segments": _records(sorted(segments.items()), 1).encode(),
    }


def event_sections(project: Project, revisions: dict[str, Revision]) -> dict[str, bytes]:
    """The manifest's records of the meetings, as JSON text by section."""

    def record(event: Event) -> str:  # field by field, keys sorted, as _encode would
        revision = revisions[event.uid]
        return (
            f'{{"content": {_string(revision.content)}, '
            f'"created": "{_stamp(revision.created)}", '
            f'"last_modified": "{_stamp(revision.last_modified)}", '
            f'"sequence": {revision.sequence:d}, '
            f'"significant": {_string(revision.significant)}, "uid": {_string(event.uid)}}}'
        )

    events = ((event.id, record(event)) for event in sorted(project.events, key=lambda e: e.id))
    return {"events": _records(events, 1).encode()}


def assemble(project: Project, sections: dict[str, bytes]) -> bytes:
    """The manifest from the UTF-8 text of its sections (``feed_sections``,
    ``event_sections``): a build where only meetings changed reuses the text of the feeds'
    records. Joined as bytes, once: the sections are megabytes at 10,000 episodes."""
    texts = {
        "castcal": _encode(__version__).encode(),
        "podcast": _encode({"guid": str(project.config.podcast.guid)}).encode(),
        **sections,
    }
    chunks = [b"{\n"]
    for index, key in enumerate(sorted(texts)):
        chunks += (b",\n  " if index else b"  ", _encode(key).encode(), b": ", texts[key])
    chunks.append(b"\n}\n")
    return b"".join(chunks)


def _records(records: Iterable[tuple[str, str]], depth: int) -> str:
    """Sorted JSON with one record (an episode, a meeting, ...) per line, easy to read and
    to diff: the object of ``records`` (key and the value's JSON text, sorted by key) at
    ``depth``. Each record is written as it comes: tens of thousands are never all in
    memory as objects."""
    pad = "  " * (depth + 1)
    lines = [f"{pad}{_string(key)}: {value}" for key, value in records]
    return "{\n" + ",\n".join(lines) + "\n" + "  " * depth + "}" if lines else "{}"


_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
_string: Callable[[str], str] = json.encoder.encode_basestring  # a string as _encode writes it


@dataclass(frozen=True)
class PublishedEpisode:
    guid: str
    enclosure: str
    length: int


@dataclass(frozen=True)
class PublishedEvent:
    uid: str
    revision: Revision


@dataclass(frozen=True)
class Published:
    """What a manifest says was published, by episode folder and event file name."""

    podcast_guid: str | None = None
    episodes: dict[str, PublishedEpisode] = field(default_factory=dict)
    events: dict[str, PublishedEvent] = field(default_factory=dict)
    # per segment kind: the feed's podcast:guid, and its items by episode folder
    segment_guids: dict[str, str] = field(default_factory=dict)
    segment_items: dict[str, dict[str, PublishedEpisode]] = field(default_factory=dict)

    def identities(self) -> Identities:
        return Identities(
            podcast_guid=self.podcast_guid,
            episodes={key: e.guid for key, e in self.episodes.items()},
            events={key: e.uid for key, e in self.events.items()},
            segments={
                kind: {key: e.guid for key, e in items.items()}
                for kind, items in self.segment_items.items()
            },
        )

    def revisions(self) -> dict[str, Revision]:
        return {e.uid: e.revision for e in self.events.values()}

    def merged(self, other: Published) -> Published:
        """Both manifests' items; where both name one, this one's wins."""
        kinds = set(self.segment_items) | set(other.segment_items)
        return Published(
            self.podcast_guid or other.podcast_guid,
            {**other.episodes, **self.episodes},
            {**other.events, **self.events},
            {**other.segment_guids, **self.segment_guids},
            {k: {**other.segment_items.get(k, {}), **self.segment_items.get(k, {})} for k in kinds},
        )


def parse(data: bytes, where: str) -> Published:
    """A manifest's content; ContentError naming ``where`` if it cannot be read."""
    try:
        document = json.loads(data)
        return Published(
            podcast_guid=document.get("podcast", {}).get("guid"),
            episodes={
                key: PublishedEpisode(str(e["guid"]), str(e["enclosure"]), int(e["length"]))
                for key, e in document.get("episodes", {}).items()
            },
            segment_guids={k: str(f["guid"]) for k, f in document.get("segments", {}).items()},
            segment_items={
                kind: {
                    key: PublishedEpisode(str(e["guid"]), str(e["enclosure"]), int(e["length"]))
                    for key, e in feed.get("items", {}).items()
                }
                for kind, feed in document.get("segments", {}).items()
            },
            events={
                key: PublishedEvent(
                    str(e["uid"]),
                    Revision(
                        sequence=int(e["sequence"]),
                        created=_parse_stamp(e["created"]),
                        last_modified=_parse_stamp(e["last_modified"]),
                        significant=str(e["significant"]),
                        content=str(e["content"]),
                    ),
                )
                for key, e in document.get("events", {}).items()
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError(
            [
                Problem(
                    where,
                    "-",
                    f"the manifest is damaged ({exc}); restore it from the published copy "
                    "rather than deleting it: it holds the identities castcal must keep",
                )
            ]
        ) from exc


def read(path: Path) -> Published:
    """The manifest in an output folder; an empty one if nothing was published there yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Published()
    return parse(data, str(path))
