"""The Content-Type of each kind of published file, for the preview server and the publish
step alike."""

from __future__ import annotations

from pathlib import PurePosixPath

TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg; codecs=opus",
    ".ogg": "audio/ogg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
CHAPTERS = "application/json+chapters"


def content_type(relative: str) -> str:
    """The type of a file named by its path inside feeds/."""
    path = PurePosixPath(relative)
    if path.suffix == ".json" and path.parent == PurePosixPath("chapters"):
        return CHAPTERS
    return TYPES.get(path.suffix, "application/octet-stream")
