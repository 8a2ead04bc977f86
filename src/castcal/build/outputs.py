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
from castcal.render import atom, chapters, ics, page, pages, paths, segments, vevent


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
            yield from _segment_transcripts(episode, episode.transcript, outputs)


def _segment_transcripts(episode: Episode, text: str, outputs: Outputs) -> Iterator[Rendered]:
    """Each segment's cut of the episode's transcript, for its item in its kind's feed."""
    for segment in segments.plan_episode(episode):
        name = segment.transcript_path
        print_ = f"vtt {episode.fingerprint} {segment.kind}"
        if name is not None and stale(outputs, name, print_):
            yield Rendered(name, print_, segments.transcript(text, segment.span))


def _calendars(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each meeting's own calendar, the series and its Atom feed."""
    project = inputs.project
    if project.config.calendar is None:
        return
    held = vevent.recordings(project, inputs.now)
    keys = [
        key(inputs, vevent.vevent_key(e, inputs.revisions[e.uid], held.get(e.id)))
        for e in project.events
    ]
    singles = [(paths.event(e), f"event {k}") for e, k in zip(project.events, keys, strict=True)]
    series = fingerprint("calendar", project.fingerprint, keys)
    old = [stale(outputs, name, print_) for name, print_ in singles]
    if any(old) or stale(outputs, paths.CALENDAR, series):
        keyed = list(zip(keys, project.events, strict=True))
        made = functools.partial(_vevents, inputs, held)
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


def _vevents(inputs: Inputs, held: dict[str, str], events: list[Event]) -> list[bytes]:
    """Each meeting's VEVENT; ``held``: the recordings of those held (``vevent.recordings``)."""
    project, revisions = inputs.project, inputs.revisions
    return [vevent.vevent(project, e, revisions[e.uid], held.get(e.id)) for e in events]


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


NEWEST = 3  # episodes on the show page with their player; the rest are in its list


def _page(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """The site: the show page, each episode's page and each meeting's."""
    yield from _show_page(inputs, outputs)
    yield from _episode_pages(inputs, outputs)
    yield from _meeting_pages(inputs, outputs)


def _show_page(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    project, now = inputs.project, inputs.now
    episodes, upcoming, past = page.lists(project, now)
    held = page.recordings(project)
    newest = episodes[:NEWEST]
    marks = [page.episode_mark(project, e, now) for e in newest]
    keyed_episodes = [
        (page.episode_key(e, mark), (e, mark)) for e, mark in zip(newest, marks, strict=True)
    ]
    keyed_meetings = [(page.meeting_key(e, now, held.get(e.id)), e) for e in upcoming + past]
    highlight = page.next_meeting(upcoming)
    print_ = fingerprint(
        "page", project.fingerprint, [k for k, _ in keyed_episodes],
        [k for k, _ in keyed_meetings], len(upcoming), [e.fingerprint for e in episodes],
        highlight and highlight.id,
    )  # fmt: skip
    if not stale(outputs, paths.PAGE, print_):
        return
    made = functools.partial(_episode_entries, inputs)
    entries = reuse(inputs, "page-episodes", keyed_episodes, made)
    meetings = reuse(
        inputs, "page-meetings", keyed_meetings, functools.partial(_meeting_entries, inputs, held)
    )
    ahead = page.Entries(meetings[: len(upcoming)], len(upcoming))
    before = page.Entries(meetings[len(upcoming) :], len(past))
    listed = page.Entries(pieces.handed_over(entries), len(entries))
    view = None
    if highlight is not None:
        view = page.meeting_view(highlight, now, held.get(highlight.id))
    data = page.render(project, listed, (ahead, before), page.archive(episodes), view)
    yield Rendered(paths.PAGE, print_, data)


def _episode_entries(inputs: Inputs, marked: list[tuple[Episode, str | None]]) -> list[bytes]:
    html = notes_html(inputs, [e for e, _ in marked])
    project = inputs.project
    return [page.episode_html(project, e, html.get(e.id), mark).encode() for e, mark in marked]


def _meeting_entries(inputs: Inputs, held: dict[str, Episode], events: list[Event]) -> list[bytes]:
    now = inputs.now
    return [page.meeting_html(e, now, held.get(e.id)).encode("utf-8") for e in events]


def _episode_pages(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each episode's own page, with the meeting it recorded."""
    project, now = inputs.project, inputs.now
    meetings = {e.id: e for e in project.events}
    stale_ones = []
    for episode in project.episodes:
        meeting = meetings.get(episode.meta.meeting or "")
        mark = page.episode_mark(project, episode, now)
        print_ = key(inputs, pages.episode_key(episode, meeting, mark))
        name = paths.episode_page(episode)
        if stale(outputs, name, print_):
            stale_ones.append((episode, meeting, name, print_))
    html = notes_html(inputs, [e for e, _, _, _ in stale_ones])
    for episode, meeting, name, print_ in stale_ones:
        data = pages.episode_page(project, episode, html.get(episode.id), meeting, now)
        yield Rendered(name, print_, data)


def _meeting_pages(inputs: Inputs, outputs: Outputs) -> Iterator[Rendered]:
    """Each meeting's own page, as it is at the build's time."""
    project, now = inputs.project, inputs.now
    held = page.recordings(project)
    for event in project.events:
        recording = held.get(event.id)
        name = paths.meeting_page(event)
        print_ = key(inputs, ("meeting-page", *page.meeting_key(event, now, recording)))
        if stale(outputs, name, print_):
            yield Rendered(name, print_, pages.meeting_page(project, event, now, recording))
