"""The first phase of a build: the project loaded with the facts of all its audio, taking
from the cache what earlier builds learned and is still true, and every problem found.

Episodes and meetings whose files are all as they were (size and mtime) and whose
config.toml is the same come from the cache as loaded; local audio is probed (on every
core, when there is much of it) only when new or changed, remote audio with one
conditional request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from castcal.build.audio import loudness_warnings
from castcal.build.cache import PATH, Fact, Loaded, Store
from castcal.build.fresh import fingerprint
from castcal.build.parallel import Pool
from castcal.content import load, universal
from castcal.content.config import Audio
from castcal.content.cover import Artwork
from castcal.content.episodes import Draft, Probed
from castcal.content.fields import is_url
from castcal.content.models import AudioFacts, Episode, Event, Project
from castcal.content.problems import Collector
from castcal.errors import Problem

if TYPE_CHECKING:
    import httpx

# Gives a progress callback for a number of things to do, named (the CLI shows a bar on a
# terminal): many remote probes, any masters to encode (each takes seconds), or audio
# enough to take a while to measure.
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None] | None]]
PROGRESS_FROM = 10  # remote probes: more get a progress bar
FEWEST_PROBES = 32  # new audio files to probe: with fewer, helpers cost more than they save
# New audio of this many bytes or more is measured on every core, with a progress bar: a
# few minutes of audio, whose measuring takes longer than starting the helpers (decoding
# and measuring take about 0.25 s a minute of 44.1 kHz stereo, 0.1 s of 22.05 kHz mono).
SHARED_BYTES = 4_000_000
FEWEST_READS = 64  # new episodes or meetings to read: likewise
# How media/encode.py makes a master's MP3: a new number has every master encoded again
# (2: what the encoder takes of the loudness made good).
MASTERING = 2


@dataclass(frozen=True)
class Network:
    """How a build reaches the network."""

    offline: bool = False
    client: httpx.Client | None = None  # tests hand in one bound to their server
    progress: Progress = field(default=lambda count, what: nullcontext(None))


def gather(config_path: Path, store: Store, pool: Pool, network: Network) -> Project:
    """The project; ContentError listing every problem in it (what was learned of its
    files is remembered all the same: it holds whatever else is wrong)."""
    root = config_path.parent
    found = Collector(root)
    config = load.read_config(config_path, found)
    config_print = fingerprint(config[1].data) if config else ""
    stored = store.loaded()
    known = _known(stored, store, root, config_print)
    each = functools.partial(pool.map, fewest=FEWEST_READS, task="reading content files")
    reading = load.read(root, config, known, found, each, config_path=config_path)
    audio = config[0].audio if config else Audio()
    probing = _Probing(reading.drafts, store, pool, root, audio)
    load.read_events(reading, known, each)
    loaded = load.complete(reading, probing.finish(store, network))
    _remember(store, loaded, reading.artwork, config_print, set(stored))
    project = loaded.project
    _forget_encodes(root, project)
    more = (*loudness_warnings(project), *universal.warnings(project))
    return dataclasses.replace(project, warnings=project.warnings + more) if more else project


def _known(stored: dict[str, Loaded], store: Store, root: Path, config_print: str) -> load.Known:
    """What the cache holds (``stored``) that is still true: loaded with this
    config.toml, and every file it was read from as it was."""
    episodes: dict[str, tuple[Episode, tuple[Problem, ...]]] = {}
    events: dict[str, Event] = {}
    for key, entry in stored.items() if config_print else ():
        kind, _, name = key.partition(":")
        if entry.config != config_print or not _unchanged(root, entry.stamps):
            continue
        try:
            if kind == "episode":
                warnings = tuple(Problem(w[0], w[1], w[2]) for w in entry.warnings)
                episodes[name] = (Episode.model_validate_json(entry.value), warnings)
            elif kind == "event":
                events[name] = Event.model_validate_json(entry.value)
        except (ValidationError, TypeError):
            continue  # made by another shape of the models: loaded afresh
    art = store.facts("cover").get("artwork")
    artwork = None
    if art is not None:
        with contextlib.suppress(ValidationError):
            artwork = (art.size, art.mtime, Artwork.model_validate(art.value))
    return load.Known(episodes, events, artwork)


def _unchanged(root: Path, stamps: list[tuple[str, int, int]]) -> bool:
    prefix = f"{root}{os.sep}"
    for relative, size, mtime in stamps:
        try:
            stat = os.stat(f"{prefix}{relative}")  # noqa: PTH116 (thousands: no Path each)
        except OSError:
            return False
        if stat.st_size != size or stat.st_mtime_ns != mtime:
            return False
    return True


def _remember(
    store: Store,
    loaded: load.Loaded,
    artwork: tuple[int, int, Artwork] | None,
    config_print: str,
    stored: set[str],
) -> None:
    """Remember what was loaded anew, and forget what is no longer in the project
    (``stored``: the keys the cache held)."""
    for episode, stamps, warnings in loaded.new_episodes:
        notes = [[w.path, w.field, w.message] for w in warnings]
        entry = Loaded(config_print, stamps, episode.model_dump_json(), notes)
        store.put_loaded(f"episode:{episode.id}", entry)
    for event, stamp in loaded.new_events:
        value = event.model_dump_json()
        store.put_loaded(f"event:{event.id}.toml", Loaded(config_print, [stamp], value, []))
    project = loaded.project
    keep = {f"episode:{e.id}" for e in project.episodes}
    keep |= {f"event:{e.id}.toml" for e in project.events}
    store.forget_loaded(stored - keep)
    if artwork is not None:
        size, mtime, facts = artwork
        store.put_fact("cover", "artwork", Fact(size, mtime, facts.model_dump()))


class _Probing:
    """The new episodes' audio being probed and measured: local files not known as they
    are now are handed to the pool; remote ones are looked up once those are in."""

    def __init__(
        self, drafts: list[Draft], store: Store, pool: Pool, root: Path, audio: Audio
    ) -> None:
        """``root``: the project's folder; ``audio``: how masters are encoded."""
        known = store.facts("audio") if drafts else {}
        self.drafts = drafts
        self.probed: dict[str, dict[str, Probed]] = {d.id: {} for d in drafts}
        todo: dict[bool, list[tuple[str, str, Path]]] = {True: [], False: []}  # by master
        jobs: dict[bool, list[Job]] = {True: [], False: []}
        for draft in drafts:
            for source, path in draft.audio.items():
                stat = _stat(path) if path is not None else None
                if path is None or stat is None:
                    continue  # a URL, or a file that is not there (content says so)
                fact = known.get(f"{draft.id}/{source}")
                encoded = _encoded_name(draft.id, source, stat, audio)
                if fact is not None and (fact.size, fact.mtime) == stat:
                    facts = AudioFacts.model_validate(fact.value)
                    if _still_encoded(root, facts, encoded) and facts.measured:
                        self.probed[draft.id][source] = Probed(facts, stamp=stat)
                        continue
                master = _is_master(path)
                todo[master].append((draft.id, source, path))
                target = root / PATH.parent / encoded
                jobs[master].append(Job(path, target, encoded, audio, master, stat[0]))
        self.todo = todo[True] + todo[False]
        self.masters = len(todo[True])
        # Even a few masters are shared: each takes seconds a minute of audio to encode.
        many = sum(job.size for job in jobs[False]) >= SHARED_BYTES
        self.measuring = len(jobs[False]) if many else 0
        self.work = [
            pool.start(probe_file, jobs[True], fewest=2, task="encoding masters"),
            pool.start(
                probe_file,
                jobs[False],
                fewest=2 if many else FEWEST_PROBES,
                task="probing and measuring audio files",
            ),
        ]

    def finish(self, store: Store, network: Network) -> dict[str, dict[str, Probed]]:
        """What is known of each new episode's audio: by folder name, then by source."""
        masters, others = self.work
        with network.progress(self.masters, "Encoding masters") as advance:
            results = masters.results(advance)
        with network.progress(self.measuring, "Measuring loudness") as advance:
            results += others.results(advance)
        for (episode, source, _), (facts, problem, stat) in zip(self.todo, results, strict=True):
            self.probed[episode][source] = Probed(facts, problem, stat)
            if facts is not None and stat is not None:
                store.put_fact("audio", f"{episode}/{source}", Fact(*stat, facts.model_dump()))
        urls = sorted({s for d in self.drafts for s in d.audio if is_url(s)})
        remote = _remote(urls, store, network) if urls else {}
        for draft in self.drafts:
            for source in draft.audio:
                if source in remote:
                    result = remote[source]
                    facts = result if isinstance(result, AudioFacts) else None
                    self.probed[draft.id][source] = Probed(facts, "" if facts else str(result))
        return self.probed


def _forget_encodes(root: Path, project: Project) -> None:
    """Remove the MP3s made of masters that no episode publishes any longer (an older
    version of a master, other [audio] settings, an episode gone)."""
    kept = {m.facts.encoded for e in project.episodes for m in e.media() if m.facts.encoded}
    folder = root / PATH.parent / "masters"
    if not folder.is_dir():
        return
    for path in folder.glob("*.mp3"):
        if f"masters/{path.name}" not in kept:
            with contextlib.suppress(OSError):
                path.unlink()


def _is_master(path: Path) -> bool:
    """Whether the file at ``path`` is a WAV, FLAC or AIFF master (by its first bytes)."""
    from castcal.media import encode

    try:
        with path.open("rb") as file:
            return encode.is_master(file.read(16))
    except OSError:
        return False


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


@dataclass(frozen=True, slots=True)
class Job:
    """A local audio file to probe; a master among them is encoded into ``target``
    (``name`` under .castcal-cache/) by the ``audio`` settings."""

    path: Path
    target: Path
    name: str
    audio: Audio
    master: bool  # a WAV, FLAC or AIFF master, to encode (sniffed once, when sorted)
    size: int  # bytes, as it was when the job was made


def _encoded_name(episode: str, source: str, stat: tuple[int, int], audio: Audio) -> str:
    """Where the MP3 made of a master is kept under .castcal-cache/: a new name for each
    version of the master, each [audio] setting and each way of making it."""
    made = fingerprint(episode, source, stat, audio.model_dump(), MASTERING)
    return f"masters/{made}.mp3"


def _still_encoded(root: Path, facts: AudioFacts, name: str) -> bool:
    """Whether cached facts still hold: not a master's, or its MP3 made by these
    settings and still there."""
    if facts.encoded is None:
        return True
    return facts.encoded == name and (root / PATH.parent / name).is_file()


def probe_file(job: Job) -> tuple[AudioFacts | None, str, tuple[int, int] | None]:
    """One local file's facts (or why it has none), and its size and mtime from before it
    was read: a change while it is read shows as a new stamp next time. A master is
    encoded first, and the facts are those of the MP3 made of it; the loudness of the
    audio published is measured."""
    from castcal.media import encode, probe

    stat = _stat(job.path)
    try:
        published, extra = job.path, {}
        if job.master:
            encode.encode(job.path, job.audio, job.target)
            published, extra = job.target, {"encoded": job.name}
        facts = probe.probe(published)
    except (probe.AudioError, encode.MasterError) as exc:
        return None, str(exc), stat
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror}", stat
    return facts.model_copy(update=extra | _measured(published)), "", stat


def _measured(path: Path) -> dict[str, float | str]:
    """The loudness and true peak of the audio at ``path``, rounded to 0.01; why not,
    where it cannot be decoded (the file is published all the same)."""
    from castcal.media import loudness

    try:
        measured = loudness.measure_file(path)
    except loudness.DecodeError as exc:
        return {"unmeasured": str(exc)}
    if not math.isfinite(measured.peak):
        return {"lufs": round(measured.lufs, 2)}
    return {"lufs": round(measured.lufs, 2), "peak": round(measured.peak, 2)}


def _remote(urls: list[str], store: Store, network: Network) -> Mapping[str, AudioFacts | str]:
    """Facts of audio hosted elsewhere, or why there are none, by URL."""
    from castcal.media import remote

    cached = {}
    for url, fact in store.facts("remote").items():
        with contextlib.suppress(ValidationError):
            cached[url] = remote.CacheEntry.model_validate(fact.value)
    client = network.client or remote.make_client()
    prober = remote.Prober(client, cached, offline=network.offline)
    try:
        many = len(urls) >= PROGRESS_FROM
        with network.progress(len(urls) if many else 0, "Probing remote audio") as advance:
            results = prober.probe_all(urls, advance)
    finally:
        if network.client is None:
            client.close()
    for url in urls:
        entry = prober.cache.get(url)
        if entry is not None and entry != cached.get(url):
            store.put_fact("remote", url, Fact(0, 0, entry.model_dump()))
    return results
