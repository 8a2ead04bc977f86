"""What a build or a check says is coming: each scheduled episode with its local time and
how far away it is, and each draft."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a build with nothing to do says what is coming without loading them
    from castcal.content.models import Episode, Project
    from castcal.content.schedule import Schedule


def lines(schedule: Schedule, now: datetime) -> list[str]:
    """ "scheduled: <id> at <local time> (<zone>), in 13 days" for each scheduled
    episode, soonest first, then "draft: <id>" for each draft."""
    said = [f"{text}, {away(at - now)}" for text, at in scheduled(schedule)]
    return said + drafts(schedule)


def scheduled(schedule: Schedule) -> list[tuple[str, datetime]]:
    """Each scheduled episode's line but how far away it is, and its time."""
    zone = _zone(schedule.published)
    return [(_scheduled(e, zone), e.published) for e in schedule.scheduled]


def drafts(schedule: Schedule) -> list[str]:
    """A line for each draft."""
    from castcal.content.models import Episode

    said = []
    for item in schedule.drafts:
        kind = "episode" if isinstance(item, Episode) else "meeting"
        waiting = ""
        if isinstance(item, Episode) and item.pending:
            waiting = f"; its audio is not there yet: {', '.join(item.pending)}"
        said.append(f"draft: {item.id} ({kind}){waiting}")
    return said


def _zone(project: Project) -> str | None:
    calendar = project.config.calendar
    return calendar.timezone if calendar is not None else None


def _scheduled(episode: Episode, zone: str | None) -> str:
    from castcal.render.norwegian import day_and_time, local_time

    moment = local_time(episode.published, zone)
    where = zone or f"UTC{moment.isoformat()[-6:]}"
    return f"scheduled: {episode.id} at {day_and_time(moment)} ({where})"


def away(left: timedelta) -> str:
    """How far off a time ``left`` ahead is, in whole days, hours or minutes."""
    if left.days >= 1:
        return f"in {left.days} day{'s' if left.days != 1 else ''}"
    hours, minutes = divmod(max(1, -(-int(left.total_seconds()) // 60)), 60)
    if hours:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"
