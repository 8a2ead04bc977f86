"""``castcal init`` and ``castcal new``: a new project, episode or meeting written from
the templates (templates.py), each refused where it would overwrite something or could
never be valid.

What they take from config.toml is read leniently: a project just made by ``init`` still
has fields to fill, and ``new`` must work in it all the same.
"""

from __future__ import annotations

import contextlib
import os
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn

import tomli
from pydantic import ValidationError

from castcal import templates
from castcal.build.clock import stamp_time
from castcal.content.config import Calendar
from castcal.content.fields import FIRST_YEAR, LAST_YEAR, SLUG, check_timezone
from castcal.content.identity import podcast_guid
from castcal.content.meetings import localize
from castcal.errors import ContentError, Problem, UsageError, display_path
from castcal.render import paths

DEFAULT_ZONE = "Europe/Oslo"
RELEASE = time(7, 0)  # a new episode goes live at 07:00 local time
SATURDAY = 5
SLUG_RULE = "must be lower-case a-z, 0-9 and '-'"


def init(folder: Path, url: str | None = None) -> str:
    """A new project in ``folder``: config.toml, empty episodes/ and events/. With
    ``url`` (where feeds/ is served from), the base URL and the podcast's GUID are filled
    in. The next steps, to print."""
    config = folder / "config.toml"
    if config.exists():
        _refuse(config, folder, "-", "already exists: castcal init makes a new project only")
    if url is not None and not url.endswith("/"):
        url += "/"
    text = templates.CONFIG.format(
        base_url=_base_url(url),
        guid=_guid(url),
    )
    for name in ("episodes", "events"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    _write_new(config, text, folder)
    return templates.NEXT_STEPS.format(folder=folder)


def _base_url(url: str | None) -> str:
    if url is None:
        return templates.BASE_URL_TO_FILL
    return f"base_url = {templates.toml_string(url)}   # where the feeds/ folder is served"


def _guid(url: str | None) -> str:
    if url is None:
        return templates.GUID_TO_FILL
    guid = podcast_guid(url + paths.FEED)
    return templates.GUID.format(guid=templates.toml_string(str(guid)))


def new(root: Path, kind: str, names: Sequence[str]) -> Path:
    """``castcal new episode ID`` or ``castcal new meeting DATE SLUG``: the file written."""
    if kind == "episode" and len(names) == 1:
        return new_episode(root, names[0])
    if kind == "meeting" and len(names) == 2:
        return new_meeting(root, names[0], names[1])
    wanted = "ID" if kind == "episode" else "DATE SLUG"
    raise UsageError(f"castcal new {kind} takes {wanted}, not {' '.join(names)!r}")


def new_episode(root: Path, episode_id: str, now: datetime | None = None) -> Path:
    """``episodes/<episode_id>/episode.toml`` in the project at ``root``, a draft with
    the next free number, going live at 07:00 local time the next weekday after ``now``
    (default: SOURCE_DATE_EPOCH when set, else the clock). The file written."""
    settings = _settings(root)
    folder = root / "episodes" / episode_id
    toml = folder / "episode.toml"
    if not SLUG.match(episode_id):
        message = f"{episode_id!r} {SLUG_RULE} (it becomes the audio file name and the GUID)"
        _refuse(folder, root, "folder name", message)
    if folder.exists():
        _refuse(folder, root, "-", "already exists: choose another ID")
    kinds = _kinds(settings)
    if not kinds:
        message = "declares no segment kind; an episode needs one [[segments]] per kind"
        _refuse(root / "config.toml", root, "podcast.segments", message)
    zone = zoneinfo.ZoneInfo(_zone(settings))
    published = next_release(now or stamp_time(), zone)
    text = templates.EPISODE.format(
        id=episode_id,
        title=templates.toml_string("Ny episode"),
        number=next_number(root / "episodes"),
        published=published.isoformat(),
        summary=templates.toml_string("Skriv hva episoden handler om."),
        segments="".join(_segments(kinds)),
    )
    folder.mkdir(parents=True)
    _write_new(toml, text, root)
    return toml


def next_release(now: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """07:00 in ``zone`` on the first weekday after ``now``'s date there, with the UTC
    offset of that day."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return localize(datetime.combine(day, RELEASE), zone)


def next_number(episodes: Path) -> int:
    """One more than the highest number any episode.toml under ``episodes`` gives."""
    numbers = [0]
    for toml in sorted(episodes.glob("*/episode.toml")):
        data = _toml(toml)
        number = data.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            numbers.append(number)
    return max(numbers) + 1


def _segments(kinds: list[str]) -> list[str]:
    """One ``[[segments]]`` per kind, each starting a second after the one before."""
    made = []
    for i, kind in enumerate(kinds):
        note = "" if i == 0 else '      # fill in: where this part starts, like "17:45"'
        made.append(
            templates.SEGMENT.format(
                kind=templates.toml_string(kind),
                start=templates.toml_string(f"0:{i:02d}"),
                start_note=note,
                audio=templates.toml_string(f"{kind}.mp3"),
            )
        )
    return made


def new_meeting(root: Path, day: str, slug: str) -> Path:
    """``events/<day>-<slug>.toml`` in the project at ``root``, a draft starting at the
    series' default start time, lasting its default duration, at its location. The file
    written."""
    settings = _settings(root)
    when = _date(day, root)
    name = f"{day}-{slug}"
    path = root / "events" / f"{name}.toml"
    if not SLUG.match(slug):
        _refuse(path, root, "file name", f"{slug!r} {SLUG_RULE} (it becomes the meeting's UID)")
    if path.exists():
        _refuse(path, root, "-", "already exists: choose another date or name")
    calendar, location = _calendar(settings, root)
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    try:
        start = localize(datetime.combine(when, calendar.default_start), zone)
    except ValueError as exc:
        _refuse(root / "config.toml", root, "calendar.default_start", str(exc))
    end = (start.astimezone(UTC) + calendar.default_duration).astimezone(zone)
    spot = f"location = {templates.toml_string(location)}" if location else (
        '# location = "…"                  # default: the series\' location'
    )  # fmt: skip
    text = templates.MEETING.format(
        title=templates.toml_string(f"{calendar.name}: …" if calendar.name else "Nytt møte"),
        start=templates.toml_local(start.replace(tzinfo=None)),
        end=templates.toml_local(end.replace(tzinfo=None)),
        zone=calendar.timezone,
        location=spot,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_new(path, text, root)
    return path


def _date(day: str, root: Path) -> date:
    try:
        when = date.fromisoformat(day) if len(day) == len("2017-03-03") else None
    except ValueError:
        when = None
    if when is None:
        _refuse(root / "events", root, "date", f"{day!r} is not a date like 2017-03-03")
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        message = f"the year {when.year} is out of range ({FIRST_YEAR} to {LAST_YEAR})"
        _refuse(root / "events", root, "date", message)
    return when


def _calendar(settings: dict[str, Any], root: Path) -> tuple[Calendar, str | None]:
    """The series' defaults from config.toml's [calendar] (its name and location "" when
    still to fill), and its location; refused where a default is given but not valid."""
    given = settings.get("calendar")
    if not isinstance(given, dict):
        message = "no [calendar] section: add one (castcal init writes it) to plan meetings"
        _refuse(root / "config.toml", root, "calendar", message)
    wanted = ("timezone", "default_start", "default_duration", "location", "name")
    fields = {key: given[key] for key in wanted if key in given}
    draft = {"name": "-", "description": "-", "location": "-", **fields}
    try:
        calendar = Calendar.model_validate(draft)
    except ValidationError as exc:
        problems = [
            Problem(
                "config.toml",
                ".".join(["calendar", *map(str, e["loc"])]),
                e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        raise ContentError(problems) from None
    named = calendar.model_copy(update={"name": fields.get("name", "")})
    return named, fields.get("location")


def _settings(root: Path) -> dict[str, Any]:
    config = root / "config.toml"
    if not config.is_file():
        message = "not found: run castcal in a project folder, or make one with castcal init"
        _refuse(config, root, "-", message)
    return _toml(config)


def _toml(path: Path) -> dict[str, Any]:
    """A TOML file's data; empty if it cannot be read (castcal check says why)."""
    try:
        return tomli.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomli.TOMLDecodeError):
        return {}


def _zone(settings: dict[str, Any]) -> str:
    calendar = settings.get("calendar")
    zone = calendar.get("timezone") if isinstance(calendar, dict) else None
    if isinstance(zone, str):
        with contextlib.suppress(ValueError):
            return check_timezone(zone)
    return DEFAULT_ZONE


def _kinds(settings: dict[str, Any]) -> list[str]:
    podcast = settings.get("podcast")
    segments = podcast.get("segments") if isinstance(podcast, dict) else None
    if not isinstance(segments, dict):
        return []
    return [kind for kind in segments if SLUG.match(kind)]


def _write_new(path: Path, text: str, root: Path) -> None:
    """``text`` in a new file at ``path``; refused if something is there already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        _refuse(path, root, "-", "already exists")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)


def _refuse(path: Path, root: Path, field: str, message: str) -> NoReturn:
    raise ContentError([Problem(display_path(path, root), field, message)])
