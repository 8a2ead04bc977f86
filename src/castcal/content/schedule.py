"""Which episodes and meetings a build publishes at a given time: drafts and episodes due
later are set aside (all of them were loaded and checked all the same)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from castcal.content.models import Episode, Event, Project


@dataclass(frozen=True)
class Schedule:
    """A project split at a time."""

    published: Project  # what the outputs show at ``now``: no drafts, no episode due later
    scheduled: tuple[Episode, ...]  # episodes due after ``now``, soonest first (no drafts)
    drafts: tuple[Episode | Event, ...]  # drafts, episodes then meetings, by id
    next_due: datetime | None  # the soonest scheduled episode's time

    @property
    def held(self) -> bool:
        """Something is set aside: a draft or an episode due later."""
        return bool(self.scheduled or self.drafts)


def split(project: Project, now: datetime, *, preview: bool = False) -> Schedule:
    """``project`` as published at ``now`` (an aware time); ``preview``: the published
    project keeps the drafts and the scheduled episodes too (and the rest is as without),
    but for draft episodes whose audio is not there yet: they have nothing to play."""
    draft_episodes = sorted((e for e in project.episodes if e.draft), key=_id)
    draft_events = sorted((e for e in project.events if e.draft), key=_id)
    scheduled = sorted(
        (e for e in project.episodes if not e.draft and e.published > now),
        key=lambda e: (e.published, e.id),
    )
    if preview:
        waiting = any(e.pending for e in draft_episodes)
        kept = tuple(e for e in project.episodes if not e.pending)
        published = dataclasses.replace(project, episodes=kept) if waiting else project
    elif not (draft_episodes or draft_events or scheduled):
        published = project
    else:
        held = {e.id for e in draft_episodes} | {e.id for e in scheduled}
        published = dataclasses.replace(
            project,
            episodes=tuple(e for e in project.episodes if e.id not in held),
            events=tuple(e for e in project.events if not e.draft),
        )
    return Schedule(
        published=published,
        scheduled=tuple(scheduled),
        drafts=(*draft_episodes, *draft_events),
        next_due=scheduled[0].published if scheduled else None,
    )


def _id(item: Episode | Event) -> str:
    return item.id
