"""A meeting's file read into a meeting, its local times resolved in the calendar's zone.

A local time that does not exist (inside the spring-forward gap) or happens twice (the
autumn fall-back hour) is an error, never a silent shift of an hour.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

from castcal.content.config import Calendar
from castcal.content.fields import SLUG
from castcal.content.files import Source, read_toml
from castcal.content.identity import event_uid
from castcal.content.models import Event, EventMeta
from castcal.content.problems import Collector, validate
from castcal.content.tzrules import RuleError, yearly_rules


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


def _resolve(value: datetime, zone: zoneinfo.ZoneInfo, field: str) -> datetime:
    if value.tzinfo is not None:
        return _with_offset(value, zone, field)
    return localize(value, zone)


def _with_offset(value: datetime, zone: zoneinfo.ZoneInfo, field: str) -> datetime:
    """``value`` in ``zone`` if its UTC offset is the zone's at that local time; else
    ValueError saying what it would mean. The calendars publish local times, so a time in
    the hour the clocks go back is refused with an offset too (as ``localize`` says)."""
    naive = value.replace(tzinfo=None)
    offsets = {naive.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1)}
    moment = value.astimezone(zone)
    if value.utcoffset() in offsets and moment.replace(tzinfo=None) == naive:
        return localize(naive, zone)
    local = moment.replace(tzinfo=None)
    meant = f"{local:%H:%M}" if local.date() == naive.date() else f"{local:%Y-%m-%d %H:%M}"
    ways = [f"{field} = {_written(moment)}"]
    with contextlib.suppress(ValueError):  # unless it is skipped or repeated that day
        ways.append(_written(localize(naive, zone), offset=True))
    raise ValueError(
        f"{_written(value, offset=True)} is {meant} in {zone.key}, where the offset then is "
        f"{_offset(moment)}; write {' or '.join(ways)}"
    )


def _written(moment: datetime, *, offset: bool = False) -> str:
    """A time as TOML writes it: local (when it happens once that day) or with its offset."""
    text = moment.replace(tzinfo=None).isoformat()
    if offset or moment.tzinfo is None:
        return text + (_offset(moment) if offset else "")
    other = moment.replace(fold=1 - moment.fold)
    return text if other.utcoffset() == moment.utcoffset() else text + _offset(moment)


def _offset(moment: datetime) -> str:
    minutes = int((moment.utcoffset() or timedelta()).total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def read(
    path: Path, calendar: Calendar | None, base_url: str, found: Collector
) -> tuple[Event, Source] | None:
    """The meeting in ``path``, and its file as read; with no ``calendar`` (config.toml
    has problems there), only the file itself is checked. ``base_url`` names the host of
    derived UIDs ("" when config.toml has problems there)."""
    if not SLUG.match(path.stem):
        found.add(path, "file name", "must be lower-case a-z, 0-9 and '-' (it becomes the UID)")
        return None
    read = read_toml(path, found)
    meta = validate(EventMeta, read[1], path, found) if read is not None else None
    if read is None or meta is None or calendar is None:
        return None
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    start = meta.start
    if not isinstance(start, datetime):
        start = datetime.combine(start, calendar.default_start)
    try:
        start = _resolve(start, zone, "start")
    except ValueError as exc:
        found.add(path, "start", str(exc))
        return None
    end = _end(meta, start, calendar, zone, path, found)
    if end is None:
        return None
    location = meta.location or calendar.location
    place = [location, meta.geo] if meta.geo else [location]  # a geo moved is a new place
    significant = _hash([start.isoformat(), end.isoformat(), *place, meta.status, meta.title])
    event = Event(
        id=path.stem,
        meta=meta,
        uid=meta.uid or event_uid(path.stem, base_url),
        zone=calendar.timezone,
        start=start,
        end=end,
        location=location,
        fingerprint=hashlib.blake2b(path.stem.encode() + read[0].data, digest_size=12).hexdigest(),
        significant=significant,
        # not whether it is a draft: that is not published, only whether it is at all
        content=_hash([significant, meta.model_dump(mode="json", exclude=_unhashed(meta))]),
    )
    return event, read[0]


def _unhashed(meta: EventMeta) -> set[str]:
    """What a meeting's content hash leaves out: whether it is a draft, and a geo it
    does not have (so meetings hashed before there was one keep their hash)."""
    return {"draft"} if meta.geo is not None else {"draft", "geo"}


def _hash(values: list[object]) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:16]


def _end(
    meta: EventMeta,
    start: datetime,
    calendar: Calendar,
    zone: zoneinfo.ZoneInfo,
    path: Path,
    found: Collector,
) -> datetime | None:
    if meta.end is None:
        try:
            return (start.astimezone(UTC) + calendar.default_duration).astimezone(zone)
        except OverflowError:
            found.add(path, "end", "start + the calendar's default_duration is past year 9999")
            return None
    try:
        end = _resolve(meta.end, zone, "end")
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


def check_unique(events: list[Event], folder: Path, found: Collector) -> None:
    """No two meetings with one UID; reported on the later one (``events`` by start)."""
    seen: dict[str, Event] = {}
    for event in events:
        if event.uid in seen:
            found.add(
                folder / f"{event.id}.toml",
                "uid",
                f"UID {event.uid!r} is also used by {seen[event.uid].id}",
            )
        seen.setdefault(event.uid, event)


def check_zone(events: list[Event], folder: Path, found: Collector) -> None:
    """The calendars describe their time zone with one yearly rule (tzrules.py): the
    meetings' years must all keep the clocks by the same rule (Europe/Oslo's differed
    before 1996). Reported on the earliest meeting, the likeliest typo."""
    if not events:
        return
    first = min(events, key=lambda e: (e.start, e.id))
    last = max(events, key=lambda e: (e.end, e.id))
    try:
        yearly_rules(zoneinfo.ZoneInfo(first.zone), range(first.start.year, last.end.year + 1))
    except RuleError as error:
        found.add(
            folder / f"{first.id}.toml",
            "start",
            f"{error}: the calendar describes its time zone with one yearly rule, and the "
            f"clocks did not change by the same rule in {first.start.year} and "
            f"{last.end.year}; check this meeting's year",
        )
