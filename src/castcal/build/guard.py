"""The guards: nothing already published may be silently dropped or re-identified.

A podcast app that sees an episode vanish, or its GUID change, deletes or re-downloads it
for every listener; a calendar client that sees a UID vanish deletes the meeting from every
subscriber's calendar. So a build (and a publish) compares the identities it would publish
with those of the manifest already published, and stops unless told --allow-removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from castcal.content.models import Episode, Project
from castcal.content.schedule import Schedule
from castcal.errors import ContentError, Problem
from castcal.render import segments

HOW = "to remove it on purpose, build with --allow-removal"
WHERE = "(a line near the top, before [[segments]])"  # not inside the last table


@dataclass(frozen=True)
class Identities:
    """What identifies each published item, by episode folder and event file name."""

    podcast_guid: str | None = None
    episodes: dict[str, str] = field(default_factory=dict)  # folder -> GUID
    events: dict[str, str] = field(default_factory=dict)  # file name -> UID
    segments: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> folder -> GUID
    held: dict[str, str] = field(default_factory=dict)  # "episodes/x" or "events/x.toml" -> why


def identities(project: Project, schedule: Schedule | None = None) -> Identities:
    """The identities this build would publish: ``schedule``'s published project (of
    ``project``) when given, and why the items it holds back are not published."""
    shown = schedule.published if schedule is not None else project
    segment_items: dict[str, dict[str, str]] = {}
    for segment in segments.plan(shown):
        segment_items.setdefault(segment.kind, {})[segment.episode.id] = segment.guid
    return Identities(
        podcast_guid=str(shown.config.podcast.guid),
        episodes={e.id: e.guid for e in shown.episodes},
        events={e.id: e.uid for e in shown.events},
        segments=segment_items,
        held=_held(schedule) if schedule is not None else {},
    )


def _held(schedule: Schedule) -> dict[str, str]:
    """Why each item set aside is not published, by where it is written."""
    held = {
        f"episodes/{e.id}": f"it is scheduled for {e.published.isoformat()}"
        for e in schedule.scheduled
    }
    for item in schedule.drafts:
        where = f"episodes/{item.id}" if isinstance(item, Episode) else f"events/{item.id}.toml"
        held[where] = "it is a draft now (draft = true)"
    return held


def enforce(published: Identities, schedule: Schedule, *, allow_removal: bool) -> None:
    """ContentError listing each way ``schedule``'s published project would drop or
    re-identify what was ``published``: the same for ``castcal check`` as for the build
    it foretells."""
    new = identities(schedule.published, schedule)
    problems = check(published, new, allow_removal=allow_removal)
    if problems:
        raise ContentError(problems)


def check(old: Identities, new: Identities, *, allow_removal: bool) -> list[Problem]:
    """Each way ``new`` would drop or re-identify what ``old`` published; with
    ``allow_removal``, only a changed podcast GUID (that is never allowed)."""
    problems = _podcast(old, new)
    if not allow_removal:
        problems += _episodes(old, new) + _segments(old, new) + _events(old, new)
    return problems


def _podcast(old: Identities, new: Identities) -> list[Problem]:
    if not (old.podcast_guid and new.podcast_guid) or old.podcast_guid == new.podcast_guid:
        return []
    return [
        Problem(
            "config.toml",
            "podcast.guid",
            f"was published as {old.podcast_guid}, now {new.podcast_guid}; apps would "
            f'take it for another podcast: put guid = "{old.podcast_guid}" back',
        )
    ]


def _episodes(old: Identities, new: Identities) -> list[Problem]:
    problems, guids = [], set(new.episodes.values())
    for key, guid in sorted(old.episodes.items()):
        if guid in guids:
            continue  # still published, perhaps from a renamed folder that kept its GUID
        if key in new.episodes:
            problems.append(
                Problem(
                    f"episodes/{key}/episode.toml",
                    "guid",
                    f"was published with GUID {guid!r}, now {new.episodes[key]!r}; apps "
                    f'would take it for a new episode: set guid = "{guid}" {WHERE}',
                )
            )
        elif f"episodes/{key}" in new.held:
            why = new.held[f"episodes/{key}"]
            problems.append(
                Problem(
                    f"episodes/{key}/episode.toml",
                    "-",
                    f"published episode (GUID {guid}) would be taken down: {why}; {HOW}",
                )
            )
        else:
            problems.append(
                Problem(
                    f"episodes/{key}",
                    "-",
                    f"published episode (GUID {guid}) is gone; if its folder was renamed, "
                    f'set guid = "{guid}" in its episode.toml {WHERE}; {HOW}',
                )
            )
    return problems


def _segments(old: Identities, new: Identities) -> list[Problem]:
    problems = []
    for kind, items in sorted(old.segments.items()):
        now = set(new.segments.get(kind, {}).values())
        problems += [
            Problem(
                f"episodes/{key}/episode.toml",
                "segments",
                f"its {kind} segment (GUID {guid}) was published in {kind}.xml "
                f"and would be dropped from it; {HOW}",
            )
            for key, guid in sorted(items.items())
            if guid not in now and f"episodes/{key}" not in new.held  # said of the episode
        ]
    return problems


def _events(old: Identities, new: Identities) -> list[Problem]:
    problems, uids = [], set(new.events.values())
    for key, uid in sorted(old.events.items()):
        if uid in uids:
            continue
        if key in new.events:
            problems.append(
                Problem(
                    f"events/{key}.toml",
                    "uid",
                    f"was published with UID {uid!r}, now {new.events[key]!r}; "
                    f'calendars would show it twice: set uid = "{uid}"',
                )
            )
        elif f"events/{key}.toml" in new.held:
            why = new.held[f"events/{key}.toml"]
            problems.append(
                Problem(
                    f"events/{key}.toml",
                    "-",
                    f"published meeting (UID {uid}) would vanish from every subscriber's "
                    f'calendar: {why}; to call it off, set status = "cancelled"; {HOW}',
                )
            )
        else:
            problems.append(
                Problem(
                    f"events/{key}.toml",
                    "-",
                    f"published meeting (UID {uid}) is gone and would vanish from every "
                    "subscriber's calendar; to call it off, keep the file and set "
                    f'status = "cancelled"; if it was renamed, set uid = "{uid}"; {HOW}',
                )
            )
    return problems
