"""The show's artwork checked against Apple's rules: JPEG or PNG, RGB, square, 1400-3000
px, named for what it is, and decoded in full once so a damaged file is never published.

The file comes from an editor and ends up in every MP3, so it is read as untrusted: its
declared size is checked before any pixel is decoded (Apple's 3000x3000 px is the pixel
budget), and Pillow's guards (decompression bombs, oversized text chunks, truncated data)
become messages instead of tracebacks.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import TYPE_CHECKING

from castcal.content.config import Strict

if TYPE_CHECKING:
    from PIL.Image import Image

SMALLEST, LARGEST = 1400, 3000  # Apple's artwork sizes, px a side
SIZES = f"Apple requires {SMALLEST}x{SMALLEST} to {LARGEST}x{LARGEST}"
BOMB = f"declares far more pixels than artwork can have (a decompression bomb?); {SIZES} px"
# What Pillow raises on a file it cannot decode: truncated or corrupt data, or a PNG text
# chunk that inflates past its limit ("Decompressed data too large").
_DAMAGED = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error, zlib.error)


class Artwork(Strict):
    """What checking the artwork found: its format and its size."""

    extension: str
    mime: str
    size: int


def check(data: bytes, suffix: str) -> Artwork | str:
    """The artwork's facts, or the problem with it."""
    from PIL import Image as PILImage  # Pillow only when the cover is new
    from PIL import UnidentifiedImageError

    with warnings.catch_warnings():
        # Pillow warns (then refuses) past ~89 (179) million pixels: both are refusals here.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data)) as img:
                return _check_open(img, suffix)
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            return BOMB
        except UnidentifiedImageError:
            return "not an image Pillow can read; use a JPEG or PNG"
        except _DAMAGED as exc:
            return f"cannot be read: {_reason(exc)}; export the image again as JPEG or PNG"


def _check_open(img: Image, suffix: str) -> Artwork | str:
    """The checks of an opened image: its header first, then its pixels, decoded once."""
    fmt, mode, (width, height) = img.format, img.mode, img.size
    extensions = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
    if fmt not in extensions:
        return f"is {fmt}; podcast artwork must be JPEG or PNG"
    if suffix not in extensions[fmt]:
        return f"is {fmt} but named {suffix or 'without an extension'}; the names must match"
    if mode != "RGB":
        return f"colour mode is {mode}; Apple requires RGB (no alpha, no CMYK, no palette)"
    if width != height:
        return f"is {width}x{height} px; artwork must be square"
    if not SMALLEST <= width <= LARGEST:
        return f"is {width}x{height} px; {SIZES}"
    img.load()  # within the budget: every pixel and every chunk, or the error Pillow finds
    extension, mime = ("jpg", "image/jpeg") if fmt == "JPEG" else ("png", "image/png")
    return Artwork(extension=extension, mime=mime, size=width)


def _reason(exc: BaseException) -> str:
    """Pillow's complaint in an editor's words."""
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return "the file is truncated (it ends before the image does)"
    if "too large" in text.lower() or "too much memory" in text.lower():
        return "a compressed text chunk in it inflates too far (a decompression bomb?)"
    return f"the file is damaged ({text})" if text else "the file is damaged"
