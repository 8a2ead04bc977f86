"""The guards: nothing already published may be silently dropped or re-identified.

A podcast app that sees an episode vanish, or its GUID change, deletes or re-downloads it
for every listener; a calendar client that sees a UID vanish deletes the meeting from every
subscriber's calendar. So a build (and a publish) compares the identities it would publish
with those of the manifest already published, and stops unless told --allow-removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from castcal.content.models import Project
from castcal.errors import ContentError, Problem
from castcal.render import segments

HOW = "to remove it on purpose, build with --allow-removal"


@dataclass(frozen=True)
class Identities:
    """What identifies each published item, by episode folder and event file name."""

    podcast_guid: str | None = None
    episodes: dict[str, str] = field(default_factory=dict)  # folder -> GUID
    events: dict[str, str] = field(default_factory=dict)  # file name -> UID
    segments: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> folder -> GUID


def identities(project: Project) -> Identities:
    """The identities this build would publish."""
    segment_items: dict[str, dict[str, str]] = {}
    for segment in segments.plan(project):
        segment_items.setdefault(segment.kind, {})[segment.episode.id] = segment.guid
    return Identities(
        podcast_guid=str(project.config.podcast.guid),
        episodes={e.id: e.guid for e in project.episodes},
        events={e.id: e.uid for e in project.events},
        segments=segment_items,
    )


def enforce(published: Identities, project: Project, *, allow_removal: bool) -> None:
    """ContentError listing each way ``project`` would drop or re-identify what was
    ``published``: the same for ``castcal check`` as for the build it foretells."""
    problems = check(published, identities(project), allow_removal=allow_removal)
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
                    f'would take it for a new episode: set guid = "{guid}"',
                )
            )
        else:
            problems.append(
                Problem(
                    f"episodes/{key}",
                    "-",
                    f"published episode (GUID {guid}) is gone; if its folder was renamed, "
                    f'set guid = "{guid}" in its episode.toml; {HOW}',
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
            if guid not in now
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
