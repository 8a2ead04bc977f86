"""A WebVTT transcript read as a listener reads it: each cue's start, its speaker (from the
cue's ``<v>`` tag) and its text without markup, for the episode's page."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TIMING = re.compile(r"^\s*((?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Cue:
    start: float  # seconds
    speaker: str | None
    text: str


def seconds(stamp: str) -> float:
    """A WebVTT timestamp (``mm:ss.ttt`` or ``hh:mm:ss.ttt``) in seconds."""
    parts = [float(p) for p in stamp.split(":")]
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return total


def cues(vtt: str) -> list[Cue]:
    """The cues of ``vtt`` in the file's order; NOTE, STYLE and REGION blocks skipped."""
    blocks = re.split(r"\n[ \t]*\n", vtt.replace("\r\n", "\n").replace("\r", "\n"))
    return [cue for cue in (_cue(block) for block in blocks[1:]) if cue is not None]


def _cue(block: str) -> Cue | None:
    lines = block.strip("\n").split("\n")
    for index, line in enumerate(lines[:2]):
        timing = _TIMING.match(line)
        if timing:
            return _payload(seconds(timing.group(1)), lines[index + 1 :])
    return None


def _payload(start: float, lines: list[str]) -> Cue | None:
    payload = " ".join(line.strip() for line in lines if line.strip())
    voice = _VOICE.search(payload)
    speaker = html.unescape(voice.group(1)).strip() if voice else None
    text = " ".join(html.unescape(_TAG.sub("", payload)).split())
    return Cue(start, speaker or None, text) if text else None
