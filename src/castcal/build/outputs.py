"""The second phase of a build, for every file besides the audio and the feeds: the
cover, each episode's chapters and transcript, the calendars, the Atom feed and the page.
None needs anything of the published audio, so the pool's helpers make the audio
meanwhile.

Each group of outputs below computes the fingerprint of every file it makes, and yields
those not still as made from the same inputs, rendered. Pieces a group shares (each
meeting's VEVENT, for the series and for its own file) are made once for the group.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from castcal.build import pieces
from castcal.build.context import Inputs, Rendered, key, notes_html, reuse, stale
from castcal.build.fresh import Outputs, fingerprint
from castcal.content.models import Episode, Event
from castcal.render import atom, chapters, ics, page, paths, vevent


def rendered(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Every output that needs nothing of the published audio and is not fresh in
    ``outputs``, rendered: the cover, the chapters and transcripts, the calendars and
    the Atom feed, the page."""
    yield from _cover(inputs, outputs)
    yield from _episode_files(inputs, outputs)
    yield from _calendars(inputs, outputs)
    yield from _page(inputs, outputs)


def _cover(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    cover = inputs.project.cover
    name, print_ = paths.cover(inputs.project), fingerprint("cover", cover.name)
    if stale(outputs, name, print_):
        yield Rendered(name, print_, cover.data)


def _episode_files(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each episode's chapters and transcript."""
    project = inputs.project
    show = project.config.podcast
    show_print = fingerprint(
        show.title, show.author, {k: v.title for k, v in show.segments.items()}
    )
    for episode in project.episodes:
        name, print_ = paths.chapters(episode), f"chapters {show_print} {episode.fingerprint}"
        if stale(outputs, name, print_):
            yield Rendered(name, print_, chapters.json_chapters(show, episode))
        if episode.transcript is not None:
            name, print_ = paths.transcript(episode), f"vtt {episode.fingerprint}"
            if stale(outputs, name, print_):
                yield Rendered(name, print_, episode.transcript.encode("utf-8"))


def _calendars(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each meeting's own calendar, the series and its Atom feed."""
    project = inputs.project
    if project.config.calendar is None:
        return
    keys = [key(inputs, vevent.vevent_key(e, inputs.revisions[e.uid])) for e in project.events]
    singles = [(paths.event(e), f"event {k}") for e, k in zip(project.events, keys, strict=True)]
    series = fingerprint("calendar", project.fingerprint, keys)
    old = [stale(outputs, name, print_) for name, print_ in singles]
    if any(old) or stale(outputs, paths.CALENDAR, series):
        keyed = list(zip(keys, project.events, strict=True))
        made = functools.partial(_vevents, inputs)
        vevents = pieces.reuse(inputs.store, paths.CALENDAR, keyed, made)
        opening = _openings(inputs)
        for event, text, (name, print_), made_again in zip(
            project.events, vevents, singles, old, strict=True
        ):
            if made_again:
                data = ics.single(project, opening[ics.opening_of(event)], event, text)
                yield Rendered(name, print_, data)
        if stale(outputs, paths.CALENDAR, series):
            data = ics.series(opening[ics.series_opening(project)], vevents)
            yield Rendered(paths.CALENDAR, series, data)
    yield from _atom(inputs, outputs)


def _openings(inputs: Inputs) -> dict[ics.Opening, bytes]:
    """Every calendar opening the meetings need, each kept between builds."""
    wanted = ics.openings(inputs.project)
    keyed = [((kind, years and (years.start, years.stop)), (kind, years)) for kind, years in wanted]
    made = functools.partial(_render_openings, inputs)
    return dict(zip(wanted, reuse(inputs, "calendar-openings", keyed, made), strict=True))


def _render_openings(inputs: Inputs, wanted: list[ics.Opening]) -> list[bytes]:
    return [ics.opening(inputs.project, which) for which in wanted]


def _vevents(inputs: Inputs, events: list[Event]) -> list[bytes]:
    return [vevent.vevent(inputs.project, e, inputs.revisions[e.uid]) for e in events]


def _atom(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    project = inputs.project
    newest = atom.newest_first(project)
    keyed = [(atom.entry_key(e, inputs.revisions[e.uid]), e) for e in newest]
    print_ = fingerprint("atom", project.fingerprint, [k for k, _ in keyed])
    if stale(outputs, paths.ATOM, print_):
        document = atom.document(project, inputs.revisions)
        made = functools.partial(_atom_entries, inputs, document)
        entries = reuse(inputs, paths.ATOM, keyed, made)
        yield Rendered(paths.ATOM, print_, atom.assemble(document, entries))


def _atom_entries(inputs: Inputs, document: bytes, events: list[Event]) -> list[bytes]:
    return list(atom.entries(inputs.project, document, events, inputs.revisions))


def _page(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    project = inputs.project
    episodes, upcoming, past = page.lists(project, inputs.now)
    marks = [page.episode_mark(project, e, inputs.now) for e in episodes]
    keyed_episodes = [
        (page.episode_key(e, mark), (e, mark)) for e, mark in zip(episodes, marks, strict=True)
    ]
    keyed_meetings = [(page.meeting_key(e), e) for e in upcoming + past]
    print_ = fingerprint(
        "page", project.fingerprint, [k for k, _ in keyed_episodes],
        [k for k, _ in keyed_meetings], len(upcoming),
    )  # fmt: skip
    if not stale(outputs, paths.PAGE, print_):
        return
    made = functools.partial(_episode_entries, inputs)
    entries = reuse(inputs, "page-episodes", keyed_episodes, made)
    meetings = reuse(inputs, "page-meetings", keyed_meetings, _meeting_entries)
    ahead = page.Entries(meetings[: len(upcoming)], len(upcoming))
    before = page.Entries(meetings[len(upcoming) :], len(past))
    listed = page.Entries(pieces.handed_over(entries), len(entries))
    yield Rendered(paths.PAGE, print_, page.render(project, listed, ahead, before))


def _episode_entries(inputs: Inputs, marked: list[tuple[Episode, str | None]]) -> list[bytes]:
    html = notes_html(inputs, [e for e, _ in marked])
    project = inputs.project
    return [page.episode_html(project, e, html.get(e.id), mark).encode() for e, mark in marked]


def _meeting_entries(events: list[Event]) -> list[bytes]:
    return [page.meeting_html(e).encode("utf-8") for e in events]
