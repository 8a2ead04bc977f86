"""A project loaded and rendered through castcal's own functions, for tests that look at
one output for many inputs (a whole build for each would take minutes)."""

from __future__ import annotations

from pathlib import Path

from castcal.build.pipeline import Request, check
from castcal.content.models import Project
from castcal.render import feed, notes, paths


def load(config: Path) -> Project:
    """The project with the facts of its audio, as a build loads it."""
    return check(Request(config, jobs=1))


def main_feed(project: Project) -> bytes:
    """The main feed, rendered whole, the enclosures as long as their sources."""
    lengths = {
        path: media.facts.length
        for episode in project.episodes
        for media in (episode.audio, *episode.alternates)
        if (path := paths.media(episode, media)) is not None
    }
    made = feed.main_feed(project, lengths)
    html = {e.id: notes.to_html(e.notes_markdown) for e in project.episodes if e.notes_markdown}
    channel = feed.channel(project, made)
    return b"".join(feed.assemble(channel, feed.items(project, channel, made.entries, html)))
