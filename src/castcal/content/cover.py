"""The show's artwork checked against Apple's rules: JPEG or PNG, RGB, square, 1400-3000
px, named for what it is."""

from __future__ import annotations

import io

from castcal.content.config import Strict


class Artwork(Strict):
    """What checking the artwork found: its format and its size."""

    extension: str
    mime: str
    size: int


def check(data: bytes, suffix: str) -> Artwork | str:
    """The artwork's facts, or the problem with it."""
    from PIL import Image, UnidentifiedImageError  # Pillow only when the cover is new

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, mode, (width, height) = img.format, img.mode, img.size
    except (UnidentifiedImageError, OSError):
        return "not an image Pillow can read; use a JPEG or PNG"
    extensions = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
    if fmt not in extensions:
        return f"is {fmt}; podcast artwork must be JPEG or PNG"
    if suffix not in extensions[fmt]:
        return f"is {fmt} but named {suffix or 'without an extension'}; the names must match"
    if mode != "RGB":
        return f"colour mode is {mode}; Apple requires RGB (no alpha, no CMYK, no palette)"
    if width != height:
        return f"is {width}x{height} px; artwork must be square"
    if not 1400 <= width <= 3000:
        return f"is {width}x{height} px; Apple requires 1400x1400 to 3000x3000"
    extension, mime = ("jpg", "image/jpeg") if fmt == "JPEG" else ("png", "image/png")
    return Artwork(extension=extension, mime=mime, size=width)
