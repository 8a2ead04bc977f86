"""Reads episodes/ into episodes: metadata, audio facts (local and remote), notes and
transcripts, with every problem collected against its file and field."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from castcal.loader import Collector, inside, listing, read_text, read_toml, validate
from castcal.models import (
    MAIN_TYPES,
    SLUG,
    AudioFacts,
    Config,
    Episode,
    EpisodeMeta,
    Media,
    episode_guid,
    is_url,
    segment_guid,
)
from castcal.state import Loaded, Probes, fingerprint

# Looks up remote enclosures: URL -> facts, or the reason it failed.
RemoteLookup = Callable[[list[str]], dict[str, AudioFacts | str]]


@dataclass(frozen=True)
class _Draft:
    folder: Path
    meta: EpisodeMeta

    @property
    def toml(self) -> Path:
        return self.folder / "episode.toml"

    def sources(self) -> list[tuple[str, str]]:
        """(field, source) for the main audio and each alternate."""
        return [("audio", self.meta.audio)] + [
            (f"alternates[{i}]", s) for i, s in enumerate(self.meta.alternates)
        ]

    def segment_sources(self) -> list[tuple[str, str, str]]:
        """(field, kind, source) for each segment that has audio of its own."""
        return [
            (f"segments[{i}].audio", seg.kind, seg.audio)
            for i, seg in enumerate(self.meta.segments)
            if seg.audio is not None
        ]


def load_episodes(
    root: Path,
    config: Config | None,
    found: Collector,
    remote: RemoteLookup | None,
    probes: Probes | None = None,
    loaded: Loaded | None = None,
    config_print: str = "",
    jobs: int | None = 1,
) -> list[Episode]:
    """The episodes; ``jobs`` processes at once probe new audio (None: one per core)."""
    folder = root / "episodes"
    if not folder.is_dir():
        found.add(folder, "-", "the episodes/ folder is missing")
        return []
    drafts = []
    reused: list[Episode] = []
    for path in listing(folder):
        if not path.is_dir():
            continue
        hit = loaded.get(f"episode:{path.name}", config_print) if loaded else None
        if hit is not None and config is not None:
            reused.append(hit[0])
            found.warnings.extend(hit[1])
            continue
        draft = _read(path, config, found)
        if draft is not None:
            drafts.append(draft)
    if probes is not None:
        _probe_ahead(drafts, probes, jobs)
    urls = sorted(
        {s for d in drafts for _, s in d.sources() if is_url(s)}
        | {s for d in drafts for _, _, s in d.segment_sources() if is_url(s)}
    )
    looked_up = remote(urls) if urls and remote is not None else {}
    episodes = reused
    for draft in drafts:
        warned = len(found.warnings)
        episode = _finish(draft, config, found, looked_up, probes)
        if episode is None:
            continue
        episodes.append(episode)
        if loaded is not None and not any(m.remote for m in _all_media(episode)):
            deps = [f"episodes/{episode.id}/{name}" for name in _files(episode)]
            key = f"episode:{episode.id}"
            loaded.put(key, config_print, deps, episode, found.warnings[warned:])
    # In publishing order, so a clash is reported on the newer episode, the one that
    # took a number or GUID already in use.
    episodes.sort(key=lambda e: (e.meta.published, e.id))
    _check_unique(episodes, found)
    return episodes


def _probe_key(folder: Path, source: str) -> str:
    return f"{folder.parent.name}/{folder.name}/{source}"


def _probe_ahead(drafts: list[_Draft], probes: Probes, jobs: int | None) -> None:
    """Probe the drafts' new and changed local audio on every core, into ``probes``, when
    there is much of it (a first build). A file that cannot be probed is left out: it is
    probed again, and its problem reported, as its episode is finished."""
    from castcal import helpers

    if helpers.how_many(jobs, len(drafts), helpers.FEWEST_PROBES) == 0:
        return
    todo: list[tuple[str, Path]] = []
    for draft in drafts:
        sources = [s for _, s in draft.sources()] + [s for _, _, s in draft.segment_sources()]
        for source in sources:
            path = None if is_url(source) else inside(draft.folder, source)
            key = _probe_key(draft.folder, source)
            if path is not None and path.is_file() and probes.get(key, path) is None:
                todo.append((key, path))
    count = helpers.how_many(jobs, len(todo), helpers.FEWEST_PROBES)
    if count == 0:
        return
    from castcal import audio

    def work(numbers: Iterator[int]) -> list[tuple[int, dict[str, Any]]]:
        facts = []
        for number in numbers:
            with contextlib.suppress(audio.AudioError):
                facts.append((number, audio.probe(todo[number][1]).model_dump()))
        return facts

    for probed in helpers.together(len(todo), count, work, "probing audio files"):
        for number, found in probed:
            key, path = todo[number]
            probes.put(key, path, found)


def _all_media(episode: Episode) -> list[Media]:
    return [episode.audio, *episode.alternates, *episode.segment_audio.values()]


def _files(episode: Episode) -> list[str]:
    """Every file in its folder an episode was read from."""
    names = ["episode.toml", *(m.source for m in _all_media(episode))]
    names += [n for n in (episode.meta.notes, episode.meta.transcript) if n]
    return names


def _read(folder: Path, config: Config | None, found: Collector) -> _Draft | None:
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
        declared = ", ".join(config.podcast.segments)
        for i, segment in enumerate(meta.segments):
            if segment.kind not in config.podcast.segments:
                found.add(
                    toml,
                    f"segments[{i}].kind",
                    f"{segment.kind!r} is not a segment kind declared in config.toml ({declared})",
                )
                ok = False
    return _Draft(folder, meta) if ok else None


def _finish(
    draft: _Draft,
    config: Config | None,
    found: Collector,
    looked_up: dict[str, AudioFacts | str],
    probes: Probes | None,
) -> Episode | None:
    meta, folder, toml = draft.meta, draft.folder, draft.toml
    media = [
        _media(draft, field, source, found, looked_up, probes) for field, source in draft.sources()
    ]
    main = media[0]
    ok = all(m is not None for m in media) and _check_types(draft, media, found)
    segment_audio = {}
    for field, kind, source in draft.segment_sources():
        item = _media(draft, field, source, found, looked_up, probes)
        if item is not None and item.facts.mime not in MAIN_TYPES:
            found.add(toml, field, f"a segment's own audio must be MP3 or M4A, not {source!r}")
            item = None
        ok = ok and item is not None
        if item is not None:
            segment_audio[kind] = item
    if main is not None and (main.remote or main.facts.mime != "audio/mpeg"):
        left_out = [s.kind for s in meta.segments if s.kind not in segment_audio]
        if left_out:
            why = "is hosted elsewhere" if main.remote else "is M4A, which cannot be cut losslessly"
            found.warn(
                toml,
                "segments",
                f"{', '.join(left_out)} left out of the segment feeds: the episode's audio {why};"
                ' give those segments audio = "…" of their own',
            )
    if main is not None:
        for i, segment in enumerate(meta.segments):
            if segment.start >= main.facts.duration:
                found.add(
                    toml,
                    f"segments[{i}].start",
                    f"{segment.start:g} s is not inside the audio, "
                    f"which lasts {main.facts.duration:.1f} s",
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
    if not ok or main is None or config is None:
        return None
    sources: list[Any] = [m.model_dump() for m in media if m is not None]
    sources += [{kind: m.model_dump()} for kind, m in sorted(segment_audio.items())]
    for item in [*media, *segment_audio.values()]:  # a replaced file, even of the same size
        if item is not None and not item.remote:
            stat = (folder / item.source).stat()
            sources.append([item.source, stat.st_size, stat.st_mtime_ns])
    guid = meta.guid or episode_guid(config.podcast.guid, folder.name)
    return Episode(
        id=folder.name,
        folder=folder,
        meta=meta,
        guid=guid,
        audio=main,
        alternates=tuple(m for m in media[1:] if m is not None),
        segment_audio=segment_audio,
        notes_markdown=notes,
        transcript=transcript,
        fingerprint=fingerprint(
            found.raw.get(toml, b""),
            found.raw.get(folder / meta.notes, b"") if meta.notes else b"",
            found.raw.get(folder / meta.transcript, b"") if meta.transcript else b"",
            sources,
        ),
        segment_guids={s.kind: segment_guid(guid, s.kind) for s in meta.segments},
    )


def _media(
    draft: _Draft,
    field: str,
    source: str,
    found: Collector,
    looked_up: dict[str, AudioFacts | str],
    probes: Probes | None,
) -> Media | None:
    if is_url(source):
        if source.startswith("http://"):
            found.warn(
                draft.toml,
                field,
                f"{source} uses http://; podcast apps and directories expect https://",
            )
        result = looked_up.get(source, f"{source}: remote audio was not looked up")
        if isinstance(result, str):
            found.add(draft.toml, field, result, remote=True)
            return None
        return Media(source=source, facts=result)
    path = inside(draft.folder, source)
    if path is None:
        found.add(draft.toml, field, f"{source!r} points outside the episode folder")
        return None
    if not path.is_file():
        found.add(draft.toml, field, f"{source!r} does not exist in {draft.folder.name}/")
        return None
    key = _probe_key(draft.folder, source)
    cached = probes.get(key, path) if probes is not None else None
    if cached is not None:
        return Media(source=source, facts=AudioFacts(**cached))
    from castcal import audio  # mutagen only when a file is new or changed

    try:
        facts = audio.probe(path)
    except audio.AudioError as exc:
        found.add(path, field, str(exc))
        return None
    if probes is not None:
        probes.put(key, path, facts.model_dump())
    return Media(source=source, facts=facts)


def _check_types(draft: _Draft, media: list[Media | None], found: Collector) -> bool:
    main = media[0]
    if main is not None and main.facts.mime not in MAIN_TYPES:
        kind = main.facts.extension.upper()
        found.add(
            draft.toml,
            "audio",
            f"{kind} can only be an alternate enclosure (Apple Podcasts takes MP3 or AAC): "
            f"make audio an MP3 or M4A and list this file under alternates",
        )
        return False
    seen: dict[str, str] = {}
    for (field, _), item in zip(draft.sources(), media, strict=True):
        if item is None or item.remote:
            continue
        if item.facts.extension in seen:
            found.add(
                draft.toml,
                field,
                f"is {item.facts.extension.upper()} like {seen[item.facts.extension]}; "
                "each published file of an episode must be a different format",
            )
            return False
        seen[item.facts.extension] = field
    return True


def _read_beside(folder: Path, name: str, field: str, found: Collector) -> str | None:
    path = inside(folder, name)
    if path is None:
        found.add(folder / "episode.toml", field, f"{name!r} points outside the episode folder")
        return None
    return read_text(path, field, found)


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
