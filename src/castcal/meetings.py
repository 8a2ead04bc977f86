"""Reads events/ into meetings with their local times resolved in the calendar's zone.

A local time that does not exist (inside the spring-forward gap) or happens twice (the
autumn fall-back hour) is an error, never a silent shift of an hour.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from castcal import manifest
from castcal.errors import Problem
from castcal.loader import Collector, listing, read_toml, validate
from castcal.models import SLUG, Calendar, Config, Event, EventMeta
from castcal.state import Loaded, fingerprint


def localize(naive: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """``naive`` as an aware time in ``zone``; ValueError if it is skipped or repeated."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        when = naive.strftime("%Y-%m-%d %H:%M")
        if back != naive:
            raise ValueError(
                f"{when} does not exist in {zone.key}: the clocks jump forward an hour that "
                "night; choose a time outside the gap"
            )
        raise ValueError(
            f"{when} happens twice in {zone.key}: the clocks go back an hour that night; "
            "choose a time outside that hour"
        )
    return first


def _resolve(value: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(zone)
    return localize(value, zone)


# Read ahead by a helper: each meeting's file name, and what reading it gave.
Ahead = dict[str, tuple[Event | None, list[Problem]]]
FEWEST_MEETINGS = 64  # fewer new meetings to read: not worth a helper


def read_ahead(
    root: Path,
    config: Config | None,
    loaded: Loaded | None,
    config_print: str,
    jobs: int | None,
) -> Callable[[], Ahead] | None:
    """Start a helper process reading the new and changed meetings, when there are many
    (a first build), while the build reads the episodes; returns what waits for them. Only
    counts here (the files, the meetings in the cache): the helper itself looks at each."""
    from castcal import helpers

    folder = root / "events"
    if config is None or config.calendar is None or not folder.is_dir():
        return None
    if helpers.how_many(jobs, FEWEST_MEETINGS, FEWEST_MEETINGS) == 0:
        return None
    files = sum(name.endswith(".toml") for name in os.listdir(folder))  # noqa: PTH208 (names only)
    cached = sum(key.startswith("event:") for key in loaded.entries) if loaded else 0
    if files - cached < FEWEST_MEETINGS:
        return None

    def work(_: object) -> Ahead:
        read: Ahead = {}
        for path in listing(folder):
            key = f"event:{path.name}"
            if path.suffix != ".toml" or not path.is_file():
                continue
            if loaded is None or loaded.get(key, config_print) is None:
                found = Collector(root)
                read[path.name] = (_load_event(path, config, found), found.problems)
        return read

    helper = helpers.Helper(None, work, "reading meetings")

    def wait() -> Ahead:
        try:
            read: Ahead = helper.result()
        finally:
            helper.reap()
        return read

    return wait


def load_events(
    root: Path,
    config: Config | None,
    found: Collector,
    loaded: Loaded | None = None,
    config_print: str = "",
    ahead: Callable[[], Ahead] | None = None,
) -> list[Event]:
    """The meetings; ``ahead`` gives those a helper read meanwhile (see read_ahead)."""
    read = ahead() if ahead is not None else {}
    folder = root / "events"
    if not folder.is_dir():
        return []
    paths = listing(folder)
    if paths and config is not None and config.calendar is None:
        found.add(root / "config.toml", "calendar", "required, because events/ holds meetings")
    events = []
    for path in paths:
        if path.suffix != ".toml" or not path.is_file():
            found.add(path, "-", "events/ holds one .toml file per meeting and nothing else")
            continue
        key = f"event:{path.name}"
        hit = loaded.get(key, config_print) if loaded is not None else None
        if hit is not None and config is not None and config.calendar is not None:
            events.append(hit[0])
            continue
        if path.name in read:
            event, problems = read[path.name]
            found.problems += problems
        else:
            event = _load_event(path, config, found)
        if event is not None:
            events.append(event)
            if loaded is not None:
                loaded.put(key, config_print, [f"events/{path.name}"], event, [])
    events.sort(key=lambda e: (e.start, e.id))
    seen: dict[str, Event] = {}
    for event in events:
        if event.uid in seen:
            found.add(
                folder / f"{event.id}.toml",
                "uid",
                f"UID {event.uid!r} is also used by {seen[event.uid].id}",
            )
        seen.setdefault(event.uid, event)
    return events


def _load_event(path: Path, config: Config | None, found: Collector) -> Event | None:
    if not SLUG.match(path.stem):
        found.add(path, "file name", "must be lower-case a-z, 0-9 and '-' (it becomes the UID)")
        return None
    data = read_toml(path, found)
    meta = validate(EventMeta, data, path, found) if data is not None else None
    if meta is None or config is None or config.calendar is None:
        return None
    calendar = config.calendar
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    start = meta.start
    if not isinstance(start, datetime):
        start = datetime.combine(start, calendar.default_start)
    try:
        start = _resolve(start, zone)
    except ValueError as exc:
        found.add(path, "start", str(exc))
        return None
    end = _end(meta, start, calendar, zone, path, found)
    if end is None:
        return None
    host = urlsplit(config.site.base_url).hostname or "castcal"
    event = Event(
        id=path.stem,
        meta=meta,
        uid=meta.uid or f"{path.stem}@{host}",
        start=start,
        end=end,
        location=meta.location or calendar.location,
        fingerprint=fingerprint(found.raw.get(path, b"")),
    )
    # Hashed once here and cached with the event, not on every build.
    hashes = (manifest.significant_hash(event), manifest.content_hash(event))
    return event.model_copy(update={"hashes": hashes})


def _end(
    meta: EventMeta,
    start: datetime,
    calendar: Calendar,
    zone: zoneinfo.ZoneInfo,
    path: Path,
    found: Collector,
) -> datetime | None:
    if meta.end is None:
        return (start.astimezone(UTC) + calendar.default_duration).astimezone(zone)
    try:
        end = _resolve(meta.end, zone)
    except ValueError as exc:
        found.add(path, "end", str(exc))
        return None
    if end <= start:
        found.add(
            path,
            "end",
            f"{end:%Y-%m-%d %H:%M} is not after the start, {start:%Y-%m-%d %H:%M}",
        )
        return None
    return end
