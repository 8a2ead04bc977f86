"""Reads config.toml, episodes/ and events/ into models, collecting every problem.

Nothing stops at the first mistake: each file is checked as far as it can be, and the
caller gets one ContentError that lists them all as ``path: field: message``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from castcal.episodes import RemoteLookup, load_episodes
from castcal.errors import ContentError
from castcal.loader import Collector, inside, read_toml, validate
from castcal.meetings import load_events, read_ahead
from castcal.models import (
    Config,
    Cover,
    Project,
)
from castcal.state import Loaded, Probes, fingerprint

CONFIG_KEY = "config"  # config.toml's entry in the Loaded cache


def load(
    config_path: Path,
    remote: RemoteLookup | None = None,
    probes: Probes | None = None,
    loaded: Loaded | None = None,
    jobs: int | None = 1,
) -> Project:
    """The whole project, or a ContentError naming every problem in it. ``remote`` looks
    up the facts of audio given as URLs; ``probes`` remembers the facts of local files and
    ``loaded`` the episodes and meetings read before; ``jobs`` processes at once probe new
    audio (None: one per core)."""
    root = config_path.parent
    found = Collector(root)
    config = _load_config(config_path, found, loaded)
    config_print = fingerprint(found.raw.get(config_path, b""))
    cover = _load_cover(root, config, found, probes) if config else None
    ahead = read_ahead(root, config, loaded, config_print, jobs)  # meanwhile, by a helper
    try:
        episodes = load_episodes(root, config, found, remote, probes, loaded, config_print, jobs)
    except BaseException:
        if ahead is not None:  # no helper left behind
            with contextlib.suppress(BaseException):
                ahead()
        raise
    events = load_events(root, config, found, loaded, config_print, ahead)
    if found.problems or config is None or cover is None:
        raise ContentError(found.problems)
    # Every part is validated already; validating the whole again would only cost time.
    return Project.model_construct(
        root=root,
        config=config,
        cover=cover,
        episodes=tuple(episodes),
        events=tuple(events),
        warnings=tuple(found.warnings),
        fingerprint=fingerprint(found.raw.get(config_path, b""), cover.name),
    )


def load_config(config_path: Path) -> Config:
    """config.toml alone (for commands that work on what was built, such as publish)."""
    found = Collector(config_path.parent)
    config = _load_config(config_path, found)
    if found.problems or config is None:
        raise ContentError(found.problems)
    return config


def _load_config(path: Path, found: Collector, loaded: Loaded | None = None) -> Config | None:
    data = read_toml(path, found)
    if data is None:
        return None
    if not data:
        found.add(path, "-", "the file is empty; see the README for what config.toml holds")
        return None
    # The same bytes validate to the same Config: reuse the one validated last time.
    print_ = fingerprint(found.raw[path])
    hit = loaded.get(CONFIG_KEY, print_) if loaded is not None else None
    if hit is not None:
        config: Config = hit[0]
        return config
    validated = validate(Config, data, path, found)
    if validated is not None and loaded is not None:
        loaded.put(CONFIG_KEY, print_, [], validated, [])
    return validated


def _load_cover(
    root: Path, config: Config, found: Collector, probes: Probes | None
) -> Cover | None:
    toml = root / "config.toml"
    name = config.podcast.image
    path = inside(root, name)
    if path is None:
        found.add(toml, "podcast.image", f"{name!r} points outside the project folder")
        return None
    try:
        data = path.read_bytes()
    except OSError:
        found.add(toml, "podcast.image", f"{name!r} does not exist")
        return None
    key = f"cover:{name}"
    cached = probes.get(key, path) if probes is not None else None
    if cached is not None:
        return Cover.model_construct(data=data, **cached)  # as checked when first seen
    problem, cover = check_cover(data, path.suffix.lower())
    if problem:
        found.add(path, "podcast.image", problem)
    elif cover is not None and probes is not None:
        probes.put(key, path, cover.model_dump(exclude={"data"}))
    return cover


def check_cover(data: bytes, suffix: str) -> tuple[str | None, Cover | None]:
    """Apple's artwork rules: JPEG or PNG, RGB, square, 1400-3000 px, a matching name."""
    from PIL import Image, UnidentifiedImageError  # Pillow only when the cover is new

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, mode, (width, height) = img.format, img.mode, img.size
    except (UnidentifiedImageError, OSError):
        return "not an image Pillow can read; use a JPEG or PNG", None
    extensions = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
    if fmt not in extensions:
        return f"is {fmt}; podcast artwork must be JPEG or PNG", None
    if suffix not in extensions[fmt]:
        return f"is {fmt} but named {suffix or 'without an extension'}; the names must match", None
    if mode != "RGB":
        return f"colour mode is {mode}; Apple requires RGB (no alpha, no CMYK, no palette)", None
    if width != height:
        return f"is {width}x{height} px; artwork must be square", None
    if not 1400 <= width <= 3000:
        return f"is {width}x{height} px; Apple requires 1400x1400 to 3000x3000", None
    extension, mime = ("jpg", "image/jpeg") if fmt == "JPEG" else ("png", "image/png")
    return None, Cover(data=data, extension=extension, mime=mime, size=width)
