"""A project loaded and rendered through castcal's own functions, for tests that look at
one output for many inputs (a whole build for each would take minutes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from castcal.build.pipeline import Request, check
from castcal.content.models import Project
from castcal.render import atom, feed, ics, notes, page, paths, segments, vevent
from castcal.render.facts import Revision

# Every meeting's revision in ``outputs``: first published, then changed once.
REVISION = Revision(
    sequence=1,
    created=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    last_modified=datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
    significant="",
    content="",
)
NOW = datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)  # the page's time: tests/conftest.py's


def load(config: Path) -> Project:
    """The project with the facts of its audio, as a build loads it."""
    return check(Request(config, jobs=1))


def main_feed(project: Project) -> bytes:
    """The main feed, rendered whole, the enclosures as long as their sources."""
    made = feed.main_feed(project, _lengths(project))
    return _rss(project, made, _notes(project))


def outputs(project: Project) -> dict[str, bytes]:
    """Every text file a build publishes, by its path in feeds/, rendered in this process:
    the feeds (a cut segment as 1,000 bytes and 60 s long), the calendars (each meeting
    at ``REVISION``), the Atom feed and the page (at ``NOW``)."""
    html = _notes(project)
    lengths: defaultdict[str, int] = defaultdict(lambda: 1000, _lengths(project))
    durations: defaultdict[str, float] = defaultdict(lambda: 60.0)
    guids = {kind: segments.feed_guid(project, kind) for kind in project.config.podcast.segments}
    made = [feed.main_feed(project, lengths), *segments.feeds(project, lengths, durations, guids)]
    files = {each.path: _rss(project, each, html) for each in made}
    if project.config.calendar is not None:
        files.update(_calendars(project))
    files[paths.PAGE] = _page(project, html)
    return files


def _lengths(project: Project) -> dict[str, int]:
    return {
        path: media.facts.length
        for episode in project.episodes
        for media in (episode.audio, *episode.alternates)
        if (path := paths.media(episode, media)) is not None
    }


def _notes(project: Project) -> dict[str, str]:
    return {e.id: notes.to_html(e.notes_markdown) for e in project.episodes if e.notes_markdown}


def _rss(project: Project, made: feed.Feed, html: Mapping[str, str]) -> bytes:
    channel = feed.channel(project, made)
    return b"".join(feed.assemble(channel, feed.items(project, channel, made.entries, html)))


def _calendars(project: Project) -> dict[str, bytes]:
    """The series, each meeting's own file and the Atom feed."""
    texts = [vevent.vevent(project, e, REVISION) for e in project.events]
    files = {paths.CALENDAR: ics.series(ics.opening(project, ics.series_opening(project)), texts)}
    for event, text in zip(project.events, texts, strict=True):
        opening = ics.opening(project, ics.opening_of(event))
        files[paths.event(event)] = ics.single(project, opening, event, text)
    revisions = {e.uid: REVISION for e in project.events}
    document = atom.document(project, revisions)
    entries = atom.entries(project, document, atom.newest_first(project), revisions)
    files[paths.ATOM] = b"".join(atom.assemble(document, entries))
    return files


def _page(project: Project, html: Mapping[str, str]) -> bytes:
    episodes, upcoming, past = page.lists(project, NOW)
    held = page.recordings(project)
    listed = [page.episode_html(project, e, html.get(e.id)).encode() for e in episodes]
    ahead = [page.meeting_html(e, NOW, held.get(e.id)).encode() for e in upcoming]
    before = [page.meeting_html(e, NOW, held.get(e.id)).encode() for e in past]
    highlight = page.next_meeting(upcoming)
    view = highlight and page.meeting_view(highlight, NOW, held.get(highlight.id))
    return b"".join(
        page.render(
            project,
            page.Entries(listed, len(listed)),
            (page.Entries(ahead, len(ahead)), page.Entries(before, len(before))),
            page.archive(episodes),
            view or None,
        )
    )
