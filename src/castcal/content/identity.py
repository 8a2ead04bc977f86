"""The identities apps and calendars know items by, derived once and never recomputed from
anything an editor may change later (DESIGN: "Identity: what must never change")."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> uuid.UUID:
    """The Podcasting 2.0 GUID of a feed: UUIDv5 of its URL without scheme and end slashes."""
    return uuid.uuid5(PODCAST_NAMESPACE, feed_url.split("://", 1)[-1].rstrip("/"))


def episode_guid(show_guid: uuid.UUID, episode_id: str) -> str:
    """The item GUID of an episode that does not set its own: stable per folder name."""
    return str(uuid.uuid5(show_guid, episode_id))


def segment_guid(episode_guid: str, kind: str) -> str:
    """A segment item's GUID: derived from its episode's, so it never changes either."""
    return str(uuid.uuid5(PODCAST_NAMESPACE, f"{episode_guid}/{kind}"))


def event_uid(event_id: str, base_url: str) -> str:
    """The UID of a meeting that does not set its own: its file name at the site's host."""
    return f"{event_id}@{urlsplit(base_url).hostname or 'castcal'}"
