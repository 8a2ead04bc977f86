"""An episode folder read into an episode: its episode.toml, notes and transcript first
(``read``), then, given the facts of its audio, the checks that need them (``complete``)."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from castcal.content.fields import NOTES_LIMIT, SLUG, is_url, notes_too_large
from castcal.content.files import Source, inside, read_text, read_toml
from castcal.content.identity import episode_guid, segment_guid
from castcal.content.models import MAIN_TYPES, AudioFacts, Episode, EpisodeMeta, Media
from castcal.content.problems import Collector, validate

Stamp = tuple[str, int, int]  # a file relative to the project, its size and mtime (ns)


@dataclass(frozen=True)
class Probed:
    """What the build learned of one audio source: its facts, or why it has none; for a
    local file, its size and modification time when probed."""

    facts: AudioFacts | None
    problem: str = ""
    stamp: tuple[int, int] | None = None


@dataclass(frozen=True)
class Draft:
    """An episode as read from its folder, before its audio is known."""

    folder: Path
    meta: EpisodeMeta
    toml: Source
    notes: Source | None
    transcript: Source | None

    @property
    def id(self) -> str:
        return self.folder.name

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

    @functools.cached_property
    def audio(self) -> dict[str, Path | None]:
        """Each audio source: the file it names, None where that is outside the folder,
        and None for a URL too (``is_url`` tells them apart)."""
        names = [s for _, s in self.sources()] + [s for _, _, s in self.segment_sources()]
        return {s: None if is_url(s) else inside(self.folder, s) for s in names}


def read(folder: Path, kinds: Sequence[str] | None, found: Collector) -> Draft | None:
    """The folder's episode before its audio is known; ``kinds``: the segment kinds
    config.toml declares (None: they cannot be known, and are not checked)."""
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
    read = read_toml(toml, found)
    meta = validate(EpisodeMeta, read[1], toml, found) if read is not None else None
    if read is None or meta is None:
        return None
    ok = True
    if kinds is not None:
        declared = ", ".join(kinds)
        for i, segment in enumerate(meta.segments):
            if segment.kind not in kinds:
                found.add(
                    toml,
                    f"segments[{i}].kind",
                    f"{segment.kind!r} is not a segment kind declared in config.toml ({declared})",
                )
                ok = False
    ok = _check_people(meta, toml, found) and ok
    notes = _beside(folder, meta.notes, "notes", found) if meta.notes else None
    if notes is not None and len(notes.data) > NOTES_LIMIT:
        found.add(notes.path, "notes", notes_too_large(len(notes.data)))
        notes = None
    transcript = _beside(folder, meta.transcript, "transcript", found) if meta.transcript else None
    if transcript is not None and not transcript.data.startswith(
        (b"WEBVTT", b"\xef\xbb\xbfWEBVTT")
    ):
        found.add(transcript.path, "transcript", "a WebVTT file must start with WEBVTT")
        transcript = None
    if (meta.notes and notes is None) or (meta.transcript and transcript is None):
        ok = False
    return Draft(folder, meta, read[0], notes, transcript) if ok else None


def _beside(folder: Path, name: str, field: str, found: Collector) -> Source | None:
    path = inside(folder, name)
    if path is None:
        found.add(folder / "episode.toml", field, f"{name!r} points outside the episode folder")
        return None
    return read_text(path, field, folder / "episode.toml", found)


def complete(
    draft: Draft, podcast_guid: uuid.UUID, probed: Mapping[str, Probed], found: Collector
) -> Episode | None:
    """The episode, given what the build learned of its audio; None, with the problems
    collected, if the audio does not fit what the episode says of it."""
    meta, toml = draft.meta, draft.folder / "episode.toml"
    pending = _pending(draft)
    media = [_media(draft, field, source, probed, found) for field, source in draft.sources()]
    main = media[0]
    ok = all(m is not None for m in media) and _check_types(draft, media, found)
    segment_audio = {}
    for field, kind, source in draft.segment_sources():
        item = _media(draft, field, source, probed, found)
        if item is not None and item.facts.mime not in MAIN_TYPES and source not in pending:
            found.add(toml, field, f"a segment's own audio must be MP3 or M4A, not {source!r}")
            item = None
        ok = ok and item is not None
        if item is not None:
            segment_audio[kind] = item
    if main is None:
        return None
    if not pending:
        _warn_uncut(draft, main, segment_audio, found)
    for i, segment in enumerate(meta.segments):
        if meta.audio not in pending and segment.start >= main.facts.duration:
            found.add(
                toml,
                f"segments[{i}].start",
                f"{segment.start:g} s is not inside the audio, "
                f"which lasts {main.facts.duration:.1f} s",
            )
            ok = False
    if meta.audio not in pending:
        ok = _check_soundbites(draft, main, found) and ok
    if not ok:
        return None
    others = tuple(m for m in media[1:] if m is not None)
    guid = meta.guid or episode_guid(podcast_guid, draft.id)
    return Episode(
        id=draft.id,
        meta=meta,
        guid=guid,
        audio=main,
        alternates=others,
        segment_audio=segment_audio,
        notes_markdown=draft.notes.data.decode("utf-8") if draft.notes else None,
        transcript=draft.transcript.data.decode("utf-8") if draft.transcript else None,
        fingerprint=_fingerprint(draft, probed),
        segment_guids={s.kind: segment_guid(guid, s.kind) for s in meta.segments},
        pending=tuple(sorted(pending)),
    )


def _pending(draft: Draft) -> set[str]:
    """A draft's local audio files that are not there yet: it may wait for them."""
    if not draft.meta.draft:
        return set()
    return {s for s, path in draft.audio.items() if path is not None and not path.is_file()}


def _stand_in(source: str) -> Media:
    """What a draft's missing audio file stands as until it is there: nothing to play."""
    extension = source.rsplit(".", 1)[-1].lower() if "." in source else ""
    mime = "audio/x-m4a" if extension in ("m4a", "aac", "mp4") else "audio/mpeg"
    return Media(
        source=source, facts=AudioFacts(length=0, mime=mime, extension=extension, duration=0.0)
    )


def _warn_uncut(draft: Draft, main: Media, own: Mapping[str, Media], found: Collector) -> None:
    if not main.remote and main.facts.mime == "audio/mpeg":
        return
    left_out = [s.kind for s in draft.meta.segments if s.kind not in own]
    if left_out:
        why = "is hosted elsewhere" if main.remote else "is M4A, which cannot be cut losslessly"
        found.warn(
            draft.folder / "episode.toml",
            "segments",
            f"{', '.join(left_out)} left out of the segment feeds: the episode's audio {why};"
            ' give those segments audio = "…" of their own',
        )


def _check_people(meta: EpisodeMeta, toml: Path, found: Collector) -> bool:
    """Each person's segments are segments of this episode."""
    kinds = [segment.kind for segment in meta.segments]
    ok = True
    for i, person in enumerate(meta.people):
        for j, kind in enumerate(person.segments):
            if kind not in kinds:
                found.add(
                    toml,
                    f"people[{i}].segments[{j}]",
                    f"{kind!r} is not one of this episode's segments ({', '.join(kinds)})",
                )
                ok = False
    return ok


def _fingerprint(draft: Draft, probed: Mapping[str, Probed]) -> str:
    """Of everything the episode's outputs are made from: its folder name, its files, its
    audio's facts, and each local audio file's size and mtime (a replaced file, even of the
    same size and duration, makes new published copies)."""
    digest = hashlib.blake2b(draft.id.encode(), digest_size=12)
    for source in (draft.toml, draft.notes, draft.transcript):
        data = source.data if source is not None else b""
        digest.update(b"%d:" % len(data) + data)
    audio = {
        name: [p.facts.model_dump() if p.facts else None, p.stamp]
        for name, p in sorted(probed.items())
        if name in draft.audio
    }
    digest.update(json.dumps(audio, sort_keys=True).encode())
    return digest.hexdigest()


def stamps(draft: Draft, probed: Mapping[str, Probed], root: Path) -> list[Stamp]:
    """Every file the episode was read from, as it was then: while they all stay so, and
    config.toml with them, the episode need not be read again."""
    files = [(s.path, s.size, s.mtime) for s in (draft.toml, draft.notes, draft.transcript) if s]
    for source, path in draft.audio.items():
        stamp = probed[source].stamp if source in probed else None
        if path is not None and stamp is not None:
            files.append((path, *stamp))
        elif path is not None and draft.meta.draft and not path.is_file():
            files.append((path, -1, -1))  # not there yet: read again once it is
    return [(path.relative_to(root).as_posix(), size, mtime) for path, size, mtime in files]


def _media(
    draft: Draft, field: str, source: str, probed: Mapping[str, Probed], found: Collector
) -> Media | None:
    toml = draft.folder / "episode.toml"
    if is_url(source) and source.startswith("http://"):
        found.warn(
            toml, field, f"{source} uses http://; podcast apps and directories expect https://"
        )
    path = draft.audio[source]
    if not is_url(source):
        if path is None:
            found.add(toml, field, f"{source!r} points outside the episode folder")
            return None
        if not path.is_file():
            if draft.meta.draft:
                return _stand_in(source)  # a draft waits for its audio (check notes it)
            found.add(toml, field, f"{source!r} does not exist in {draft.folder.name}/")
            return None
    result = probed.get(source, Probed(None, f"{source}: audio was not looked up"))
    if result.facts is None:
        if is_url(source):
            found.add(toml, field, result.problem, remote=True)
        else:
            found.add(path or toml, field, result.problem)
        return None
    return Media(source=source, facts=result.facts)


def _check_types(draft: Draft, media: list[Media | None], found: Collector) -> bool:
    toml = draft.folder / "episode.toml"
    main = media[0]
    if main is not None and main.facts.mime not in MAIN_TYPES:
        kind = main.facts.extension.upper()
        found.add(
            toml,
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
                toml,
                field,
                f"is {item.facts.extension.upper()} like {seen[item.facts.extension]}; "
                "each published file of an episode must be a different format",
            )
            return False
        seen[item.facts.extension] = field
    return True


def check_unique(episodes: list[Episode], episodes_folder: Path, found: Collector) -> None:
    """No two episodes with one number (in a season) or one GUID; reported on the newer,
    the one that took a number or GUID already in use (``episodes`` oldest first)."""
    numbers: dict[tuple[int | None, int], Episode] = {}
    guids: dict[str, Episode] = {}
    for episode in episodes:
        toml = episodes_folder / episode.id / "episode.toml"
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


def check_meetings(
    episodes: list[Episode], meetings: set[str], root: Path, found: Collector
) -> None:
    """Each episode's ``meeting`` names a meeting in events/ (``meetings``: their ids)."""
    for episode in episodes:
        name = episode.meta.meeting
        if name is not None and name not in meetings:
            toml = root / "episodes" / episode.id / "episode.toml"
            known = ", ".join(sorted(meetings)) or "none"
            found.add(
                toml,
                "meeting",
                f"{name!r} is not a meeting in events/ (a file name without .toml: {known})",
            )


def _check_soundbites(draft: Draft, main: Media, found: Collector) -> bool:
    """Each soundbite ends inside the audio; False, with the problems, where one does not."""
    ok = True
    for i, bite in enumerate(draft.meta.soundbites):
        if bite.start + bite.duration > main.facts.duration:
            found.add(
                draft.folder / "episode.toml",
                f"soundbites[{i}].start",
                f"{bite.start:g} s + {bite.duration:g} s is not inside the audio, "
                f"which lasts {main.facts.duration:.1f} s",
            )
            ok = False
    return ok
