"""The guards: a build may not silently drop or re-identify anything already published.

A podcast app that sees an episode vanish, or its GUID change, deletes or re-downloads it
for every listener; a calendar client that sees a UID vanish deletes the meeting from every
subscriber's calendar. So the build compares what it would publish with the manifest of
what was published, and stops unless the user says --allow-removal.
"""

from __future__ import annotations

from castcal.errors import Problem
from castcal.manifest import Published
from castcal.models import Project

HOW = "to remove it on purpose, build with --allow-removal"


def check(
    published: Published,
    project: Project,
    *,
    allow_removal: bool,
    segment_items: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """Problems for everything published that this build would drop or re-identify.
    ``segment_items`` holds, per segment kind, the GUIDs the segment feeds will carry."""
    problems: list[Problem] = []
    show_guid = str(project.config.podcast.guid)
    if published.podcast_guid and published.podcast_guid != show_guid:
        problems.append(
            Problem(
                "config.toml",
                "podcast.guid",
                f"was published as {published.podcast_guid}, now {show_guid}; apps would take "
                f'it for another podcast: put guid = "{published.podcast_guid}" back',
            )
        )
    if allow_removal:
        return problems
    episodes = {e.id: e for e in project.episodes}
    guids = {e.guid for e in project.episodes}
    for key, old in sorted(published.episodes.items()):
        if old.guid in guids:
            continue  # still published, perhaps from a renamed folder that kept its GUID
        now = episodes.get(key)
        if now is not None:
            problems.append(
                Problem(
                    f"episodes/{key}/episode.toml",
                    "guid",
                    f"was published with GUID {old.guid!r}, now {now.guid!r}; apps would "
                    f'take it for a new episode: set guid = "{old.guid}"',
                )
            )
        else:
            problems.append(
                Problem(
                    f"episodes/{key}",
                    "-",
                    f"published episode (GUID {old.guid}) is gone; if its folder was renamed, "
                    f'set guid = "{old.guid}" in its episode.toml; {HOW}',
                )
            )
    for kind, items in sorted(published.segment_items.items()):
        now_guids = (segment_items or {}).get(kind, set())
        for key, old in sorted(items.items()):
            if old.guid not in now_guids:
                problems.append(
                    Problem(
                        f"episodes/{key}/episode.toml",
                        "segments",
                        f"its {kind} segment (GUID {old.guid}) was published in {kind}.xml "
                        f"and would be dropped from it; {HOW}",
                    )
                )
    events = {e.id: e for e in project.events}
    uids = {e.uid for e in project.events}
    for key, old_event in sorted(published.events.items()):
        if old_event.uid in uids:
            continue
        now_event = events.get(key)
        if now_event is not None:
            problems.append(
                Problem(
                    f"events/{key}.toml",
                    "uid",
                    f"was published with UID {old_event.uid!r}, now {now_event.uid!r}; "
                    f'calendars would show it twice: set uid = "{old_event.uid}"',
                )
            )
        else:
            problems.append(
                Problem(
                    f"events/{key}.toml",
                    "-",
                    f"published meeting (UID {old_event.uid}) is gone and would vanish from "
                    "every subscriber's calendar; to call it off, keep the file and set "
                    f'status = "cancelled"; if it was renamed, set uid = "{old_event.uid}"; {HOW}',
                )
            )
    return problems
