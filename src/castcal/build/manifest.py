"""What was published: feeds/manifest.json, read at the start of a build and written last.

It records each episode's GUID, enclosure and measured loudness, each segment feed's GUID
and items, and each meeting's UID with its revision (SEQUENCE, CREATED, LAST-MODIFIED and
hashes of its fields), so a later build can guard what was published and bump SEQUENCE by
exactly one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

from castcal import __version__
from castcal.build.guard import Identities
from castcal.content.models import Project
from castcal.errors import ContentError, Problem
from castcal.render.facts import Revision
from castcal.render.feed import Entry, Feed

NAME = "manifest.json"
T = TypeVar("T")
# json.dumps with any option builds an encoder each call (8,000 for a manifest of 1,000
# episodes and 1,000 meetings, a fifth of its time): one encoder, built once, instead.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Item:
    guid: str
    enclosure: str
    length: int


@dataclass(frozen=True)
class Manifest:
    """What a manifest says was published, by episode folder and meeting file name."""

    podcast_guid: str | None = None
    episodes: dict[str, Item] = field(default_factory=dict)
    events: dict[str, tuple[str, Revision]] = field(default_factory=dict)  # UID, revision
    # per segment kind: the feed's podcast:guid, and its items by episode folder
    segment_guids: dict[str, str] = field(default_factory=dict)
    segment_items: dict[str, dict[str, Item]] = field(default_factory=dict)

    def identities(self) -> Identities:
        return Identities(
            podcast_guid=self.podcast_guid,
            episodes={key: e.guid for key, e in self.episodes.items()},
            events={key: uid for key, (uid, _) in self.events.items()},
            segments={
                kind: {key: e.guid for key, e in items.items()}
                for kind, items in self.segment_items.items()
            },
        )

    def revisions(self) -> dict[str, Revision]:
        """Each meeting's revision, by UID."""
        return dict(self.events.values())

    def merged(self, other: Manifest) -> Manifest:
        """Both manifests' items; where both name one, this one's wins."""
        kinds = set(self.segment_items) | set(other.segment_items)
        return Manifest(
            self.podcast_guid or other.podcast_guid,
            {**other.episodes, **self.episodes},
            {**other.events, **self.events},
            {**other.segment_guids, **self.segment_guids},
            {k: {**other.segment_items.get(k, {}), **self.segment_items.get(k, {})} for k in kinds},
        )


def render(
    project: Project, main: Feed, segments: Sequence[Feed], revisions: Mapping[str, Revision]
) -> bytearray:
    """The manifest of what this build publishes, as sorted JSON with one record (an
    episode, a meeting, ...) per line: easy to read, and to diff."""
    events = {event.id: event for event in project.events}
    document = {
        "castcal": __version__,
        "podcast": {"guid": str(project.config.podcast.guid)},
        "episodes": _items(main),
        "segments": {
            feed.path.removesuffix(".xml"): {"guid": feed.guid, "items": _items(feed)}
            for feed in segments
        },
        "events": _Records(events, lambda e: _revision(e.uid, revisions[e.uid])),
    }
    out = bytearray()
    _layout(document, 0, out)
    out += b"\n"
    return out


class _Records(Generic[T]):
    """An object of records, each on a line of its own, made one at a time as it is
    written (the manifest of 10,000 episodes has 30,000)."""

    def __init__(self, items: Mapping[str, T], record: Callable[[T], dict[str, object]]) -> None:
        self.items, self.record = items, record

    def __iter__(self) -> Iterator[tuple[str, dict[str, object]]]:
        for key in sorted(self.items):
            yield key, self.record(self.items[key])


def _items(feed: Feed) -> _Records[Entry]:
    entries = {entry.episode.id: entry for entry in feed.entries}
    return _Records(entries, _item)


def _item(entry: Entry) -> dict[str, object]:
    item: dict[str, object] = {"enclosure": entry.url, "guid": entry.guid, "length": entry.length}
    facts = entry.episode.audio.facts
    if not entry.kind and facts.lufs is not None:  # the episode's audio, as measured
        item["loudness"] = facts.lufs
        if facts.peak is not None:
            item["true_peak"] = facts.peak
    return item


def _revision(uid: str, revision: Revision) -> dict[str, object]:
    return {
        "content": revision.content,
        "created": _stamp(revision.created),
        "last_modified": _stamp(revision.last_modified),
        "sequence": revision.sequence,
        "significant": revision.significant,
        "uid": uid,
    }


def _layout(value: object, depth: int, out: bytearray) -> None:
    """JSON of ``value`` onto ``out``: an object holding objects (or records) one member
    a line, indented by ``depth``; anything else on one line. Written a line at a time,
    so the 30,000 lines of 10,000 episodes are never in memory but as the file's bytes."""
    if isinstance(value, _Records):
        members: Iterable[tuple[str, object]] = value
        flat = True  # a record is one line
    elif isinstance(value, dict) and any(isinstance(v, dict | _Records) for v in value.values()):
        members, flat = ((key, value[key]) for key in sorted(value)), False
    else:
        out += _JSON.encode(value).encode("utf-8")
        return
    pad = "  " * (depth + 1)
    out += b"{"
    start = "\n"
    for key, member in members:
        if flat:
            out += f"{start}{pad}{_JSON.encode(key)}: {_JSON.encode(member)}".encode()
        else:
            out += f"{start}{pad}{_JSON.encode(key)}: ".encode()
            _layout(member, depth + 1, out)
        start = ",\n"
    out += b"}" if start == "\n" else ("\n" + "  " * depth + "}").encode()


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


def parse(data: bytes, where: str) -> Manifest:
    """A manifest's content; ContentError naming ``where`` if it cannot be read."""
    try:
        document = json.loads(data)
        segments = document.get("segments", {})
        return Manifest(
            podcast_guid=document.get("podcast", {}).get("guid"),
            episodes=_parse_items(document.get("episodes", {})),
            events={key: _parse_event(e) for key, e in document.get("events", {}).items()},
            segment_guids={kind: str(feed["guid"]) for kind, feed in segments.items()},
            segment_items={
                kind: _parse_items(feed.get("items", {})) for kind, feed in segments.items()
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = (
            f"the manifest is damaged ({exc}); restore it from the published copy rather "
            "than deleting it: it holds the identities castcal must keep"
        )
        raise ContentError([Problem(where, "-", message)]) from exc


def _parse_items(items: dict[str, dict[str, object]]) -> dict[str, Item]:
    return {
        key: Item(str(e["guid"]), str(e["enclosure"]), int(str(e["length"])))
        for key, e in items.items()
    }


def _parse_event(record: dict[str, object]) -> tuple[str, Revision]:
    revision = Revision(
        sequence=int(str(record["sequence"])),
        created=_parse_stamp(str(record["created"])),
        last_modified=_parse_stamp(str(record["last_modified"])),
        significant=str(record["significant"]),
        content=str(record["content"]),
    )
    return str(record["uid"]), revision


def read(path: Path) -> Manifest:
    """The manifest in an output folder; an empty one if nothing was published there yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Manifest()
    return parse(data, str(path))
