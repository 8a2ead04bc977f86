"""What was published before: feeds/manifest.json.

The manifest is written last in every build. It records each episode's GUID and enclosure
and each meeting's UID with its revision (SEQUENCE, CREATED, LAST-MODIFIED and hashes of its
fields), so a later build knows what changed and can bump SEQUENCE by exactly one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from castcal import __version__, layout
from castcal.errors import ContentError, Problem
from castcal.models import Event, Project

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


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def dump(project: Project, revisions: dict[str, Revision]) -> bytes:
    document = {
        "castcal": __version__,
        "podcast": {"guid": str(project.config.podcast.guid)},
        "episodes": {
            episode.id: {
                "guid": episode.guid,
                "enclosure": layout.enclosure(project, episode, episode.audio),
                "length": episode.audio.facts.length,
            }
            for episode in sorted(project.episodes, key=lambda e: e.id)
        },
        "events": {
            event.id: {
                "uid": event.uid,
                "sequence": revisions[event.uid].sequence,
                "created": _stamp(revisions[event.uid].created),
                "last_modified": _stamp(revisions[event.uid].last_modified),
                "significant": revisions[event.uid].significant,
                "content": revisions[event.uid].content,
            }
            for event in sorted(project.events, key=lambda e: e.id)
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def read_revisions(path: Path) -> dict[str, Revision]:
    """The meeting revisions recorded in a manifest; none if there is no manifest yet."""
    try:
        document = json.loads(path.read_bytes())
        return {
            entry["uid"]: Revision(
                sequence=int(entry["sequence"]),
                created=_parse_stamp(entry["created"]),
                last_modified=_parse_stamp(entry["last_modified"]),
                significant=str(entry["significant"]),
                content=str(entry["content"]),
            )
            for entry in document.get("events", {}).values()
        }
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError(
            [
                Problem(
                    str(path),
                    "-",
                    f"the manifest is damaged ({exc}); restore it from the "
                    "published copy rather than deleting it, or SEQUENCE numbers restart",
                )
            ]
        ) from exc
