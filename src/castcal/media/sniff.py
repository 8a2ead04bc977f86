"""What a file that is not publishable audio looks like, told from its first bytes, so an
editor who picked the wrong file reads what they picked: text, an image, a WAV file.
"""

from __future__ import annotations

import codecs

# Leading bytes (at an offset) of formats an editor may pick by mistake.
_IMAGES = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (8, b"WEBP", "a WebP image"),
    (0, b"%PDF-", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or a Word or OpenDocument file)"),
)
# Audio that podcast apps do not play, or castcal does not take.
_AUDIO = (
    (8, b"WAVE", "a WAV"),
    (0, b"fLaC", "a FLAC"),
    (8, b"AIFF", "an AIFF"),
    (8, b"AIFC", "an AIFF"),
    (0, b"OggS", "an Ogg"),
    (0, b"MThd", "a MIDI"),
)
SAMPLE = 4096  # bytes enough to tell text from binary
_TEXT_SHARE = 0.97  # of printable characters (and line breaks, tabs) in a text file
_HTML = ("<!doctype html", "<html")


def looks_like(head: bytes) -> str | None:
    """What ``head``, the start of a non-empty file, looks like (as "a PNG image",
    "text"), or None when it looks like nothing castcal knows."""
    for offset, magic, name in _IMAGES:
        if head[offset : offset + len(magic)] == magic:
            return name
    text = _text(head[:SAMPLE])
    if text is None:
        return None
    if text.lstrip().lower().startswith(_HTML):
        return "an HTML page"
    return "text"


def audio_kind(head: bytes) -> str | None:
    """The audio format ``head`` starts like ("a WAV"), of those castcal refuses."""
    for offset, magic, name in _AUDIO:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _text(sample: bytes) -> str | None:
    """``sample`` as text if it reads as UTF-8 (its end may cut a character in two) or as
    a single-byte encoding, and almost every character is printable; else None."""
    if b"\0" in sample:
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(sample, final=False)
    except UnicodeDecodeError:
        text = sample.decode("latin-1")
    if not text:
        return None
    readable = sum(c.isprintable() or c in "\n\r\t\f" for c in text)
    return text if readable >= _TEXT_SHARE * len(text) else None
