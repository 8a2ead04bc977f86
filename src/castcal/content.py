"""Reads config.toml, episodes/ and events/ into models, collecting every problem.

Nothing stops at the first mistake: each file is checked as far as it can be, and the
caller gets one ContentError that lists them all as ``path: field: message``.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from castcal import audio
from castcal.errors import ContentError
from castcal.loader import Collector, inside, read_text, read_toml, validate
from castcal.meetings import load_events
from castcal.models import (
    SLUG,
    AudioFacts,
    Config,
    Cover,
    Episode,
    EpisodeMeta,
    Project,
    episode_guid,
)


def load(config_path: Path) -> Project:
    """The whole project, or a ContentError naming every problem in it."""
    root = config_path.parent
    found = Collector(root)
    config = _load_config(config_path, found)
    cover = _load_cover(root, config, found) if config else None
    episodes = _load_episodes(root, config, found)
    events = load_events(root, config, found)
    if found.problems or config is None or cover is None:
        raise ContentError(found.problems)
    return Project(
        root=root, config=config, cover=cover, episodes=tuple(episodes), events=tuple(events)
    )


def _load_config(path: Path, found: Collector) -> Config | None:
    data = read_toml(path, found)
    if data is None:
        return None
    if not data:
        found.add(path, "-", "the file is empty; see the README for what config.toml holds")
        return None
    return validate(Config, data, path, found)


def _load_cover(root: Path, config: Config, found: Collector) -> Cover | None:
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
    problem, cover = check_cover(data, path.suffix.lower())
    if problem:
        found.add(path, "podcast.image", problem)
    return cover


def check_cover(data: bytes, suffix: str) -> tuple[str | None, Cover | None]:
    """Apple's artwork rules: JPEG or PNG, RGB, square, 1400-3000 px, a matching name."""
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


def _load_episodes(root: Path, config: Config | None, found: Collector) -> list[Episode]:
    folder = root / "episodes"
    if not folder.is_dir():
        found.add(folder, "-", "the episodes/ folder is missing")
        return []
    episodes = []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if not path.is_dir():
            continue
        episode = _load_episode(path, config, found)
        if episode:
            episodes.append(episode)
    # In publishing order, so a clash is reported on the newer episode, the one that
    # took a number or GUID already in use.
    episodes.sort(key=lambda e: (e.meta.published, e.id))
    _check_unique(episodes, found)
    return episodes


def _load_episode(folder: Path, config: Config | None, found: Collector) -> Episode | None:
    toml = folder / "episode.toml"
    if not SLUG.match(folder.name):
        found.add(
            folder,
            "folder name",
            "must be lower-case a-z, 0-9 and '-' (it becomes the audio file name and the GUID)",
        )
        return None
    if not toml.exists():
        found.add(toml, "-", "every episode folder needs an episode.toml")
        return None
    data = read_toml(toml, found)
    meta = validate(EpisodeMeta, data, toml, found) if data is not None else None
    if meta is None:
        return None
    ok = True
    if config is not None:
        for i, segment in enumerate(meta.segments):
            if segment.kind not in config.podcast.segments:
                declared = ", ".join(config.podcast.segments)
                found.add(
                    toml,
                    f"segments[{i}].kind",
                    f"{segment.kind!r} is not a segment kind declared in config.toml ({declared})",
                )
                ok = False
    facts = _probe_audio(folder, meta, found)
    if facts is not None:
        for i, segment in enumerate(meta.segments):
            if segment.start >= facts.duration:
                found.add(
                    toml,
                    f"segments[{i}].start",
                    f"{segment.start:g} s is not inside the audio, "
                    f"which lasts {facts.duration:.1f} s",
                )
                ok = False
    notes = transcript = None
    if meta.notes:
        notes = _read_beside(folder, meta.notes, "notes", found)
        ok = ok and notes is not None
    if meta.transcript:
        transcript = _read_beside(folder, meta.transcript, "transcript", found)
        if transcript is not None and not transcript.startswith(("WEBVTT", "\ufeffWEBVTT")):
            found.add(
                folder / meta.transcript, "transcript", "a WebVTT file must start with WEBVTT"
            )
            transcript = None
        ok = ok and transcript is not None
    if not ok or facts is None or config is None:
        return None
    guid = meta.guid or episode_guid(config.podcast.guid, folder.name)
    return Episode(
        id=folder.name,
        folder=folder,
        meta=meta,
        guid=guid,
        audio=facts,
        notes_markdown=notes,
        transcript=transcript,
    )


def _read_beside(folder: Path, name: str, field: str, found: Collector) -> str | None:
    path = inside(folder, name)
    if path is None:
        found.add(folder / "episode.toml", field, f"{name!r} points outside the episode folder")
        return None
    return read_text(path, field, found)


def _probe_audio(folder: Path, meta: EpisodeMeta, found: Collector) -> AudioFacts | None:
    toml = folder / "episode.toml"
    path = inside(folder, meta.audio)
    if path is None:
        found.add(toml, "audio", f"{meta.audio!r} points outside the episode folder")
        return None
    if not path.is_file():
        found.add(toml, "audio", f"{meta.audio!r} does not exist in {folder.name}/")
        return None
    try:
        return audio.probe(path)
    except audio.AudioError as exc:
        found.add(path, "audio", str(exc))
        return None


def _check_unique(episodes: list[Episode], found: Collector) -> None:
    numbers: dict[tuple[int | None, int], Episode] = {}
    guids: dict[str, Episode] = {}
    for episode in episodes:
        toml = episode.folder / "episode.toml"
        if episode.meta.number is not None:
            key = (episode.meta.season, episode.meta.number)
            if key in numbers:
                found.add(
                    toml,
                    "number",
                    f"episode number {episode.meta.number} is also used by {numbers[key].id}",
                )
            numbers.setdefault(key, episode)
        if episode.guid in guids:
            other = guids[episode.guid].id
            found.add(toml, "guid", f"GUID {episode.guid!r} is also used by {other}")
        guids.setdefault(episode.guid, episode)
