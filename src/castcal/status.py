"""``castcal status``: what is published (the output folder's manifest, or the one at
``--guard-url``), what is coming, and whether the output folder is up to date with the
sources; as lines for an editor or as JSON with stable keys for monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from castcal.build import manifest, published
from castcal.build.cache import Store
from castcal.build.clock import stamp_time
from castcal.build.pipeline import Request, pending
from castcal.content.models import Episode, Event, Project
from castcal.content.schedule import Schedule
from castcal.errors import counted
from castcal.render.norwegian import day_and_time, local_time

SHOWN = 5  # files named when a build is due


@dataclass(frozen=True)
class Status:
    """What ``castcal status`` reports; ``report()`` is its JSON."""

    where: str  # the manifest read: a path or a URL
    episodes: int  # published, as the manifest lists them
    meetings: int
    newest_episode: dict[str, str] | None
    next_scheduled: dict[str, str] | None
    next_meeting: dict[str, str] | None
    pending: list[str] = field(default_factory=list)  # files a build now would change
    built: bool = True  # whether the manifest read is there (a guard URL's: it answered)

    @property
    def up_to_date(self) -> bool:
        return not self.pending

    def report(self) -> dict[str, object]:
        return {
            "manifest": self.where,
            "episodes": self.episodes,
            "meetings": self.meetings,
            "newest_episode": self.newest_episode,
            "next_scheduled": self.next_scheduled,
            "next_meeting": self.next_meeting,
            "up_to_date": self.up_to_date,
            "pending": self.pending,
            "built": self.built,
        }

    def as_json(self) -> str:
        return json.dumps(self.report(), ensure_ascii=False, sort_keys=True)

    def lines(self) -> list[str]:
        published = f"{counted(self.episodes, 'episode')}, {counted(self.meetings, 'meeting')}"
        if self.built:
            said = [f"{self.where}: {published} published"]
        else:
            said = [f"nothing built yet ({self.where} is not there)"]
        for label, item in (
            ("newest episode", self.newest_episode),
            ("next scheduled", self.next_scheduled),
            ("next meeting", self.next_meeting),
        ):
            said.append(f"{label}: {_item(item)}")
        if self.up_to_date:
            said.append("up to date with the sources")
        else:
            shown = ", ".join(self.pending[:SHOWN])
            more = f" and {len(self.pending) - SHOWN} more" if len(self.pending) > SHOWN else ""
            said.append(f"a build is due: it would change {shown}{more}")
        return said


def _item(item: dict[str, str] | None) -> str:
    return "none" if item is None else f"{item['id']}, {item['local']}"


def status(request: Request, now: datetime | None = None) -> Status:
    """The status of the project ``request`` names at ``now`` (default: as a build's)."""
    now = now or stamp_time()
    schedule, changed = pending(request, now)
    project = schedule.published
    root = request.config_path.parent
    out_dir = request.out if request.out is not None else root / project.config.site.output
    where, shown = _published(request, out_dir)
    zone = project.config.calendar.timezone if project.config.calendar else None
    return Status(
        where=where,
        episodes=len(shown.episodes),
        meetings=len(shown.events),
        newest_episode=_newest(project, shown, zone),
        next_scheduled=_scheduled(schedule, zone),
        next_meeting=_next_meeting(project, now, zone),
        pending=changed,
        built=request.guard_url is not None or (out_dir / manifest.NAME).is_file(),
    )


def _published(request: Request, out_dir: Path) -> tuple[str, manifest.Manifest]:
    """Where the manifest of what was published is read, and what it says."""
    if request.guard_url is None:
        path = out_dir / manifest.NAME
        return str(path), manifest.read(path)
    from castcal.media import remote

    client = request.network.client or remote.make_client()
    try:
        with Store(request.config_path.parent) as store:
            offline = request.network.offline
            found = published.at_url(request.guard_url, client, store, offline=offline)
    finally:
        if request.network.client is None:
            client.close()
    return request.guard_url, found


def _moment(when: datetime, zone: str | None) -> dict[str, str]:
    local = local_time(when, zone)
    return {"at": local.isoformat(), "local": day_and_time(local)}


def _newest(project: Project, shown: manifest.Manifest, zone: str | None) -> dict[str, str] | None:
    listed = [e for e in project.episodes if e.id in shown.episodes]
    if not listed:
        return None
    newest = max(listed, key=lambda e: (e.published, e.id))
    return _episode(newest, zone)


def _episode(episode: Episode, zone: str | None) -> dict[str, str]:
    return {"id": episode.id, "title": episode.meta.title, **_moment(episode.published, zone)}


def _scheduled(schedule: Schedule, zone: str | None) -> dict[str, str] | None:
    return _episode(schedule.scheduled[0], zone) if schedule.scheduled else None


def _next_meeting(project: Project, now: datetime, zone: str | None) -> dict[str, str] | None:
    ahead = [e for e in project.events if e.start > now and not e.cancelled]
    return _meeting(min(ahead, key=lambda e: (e.start, e.id)), zone) if ahead else None


def _meeting(event: Event, zone: str | None) -> dict[str, str]:
    return {"id": event.id, "title": event.meta.title, **_moment(event.start, zone)}
