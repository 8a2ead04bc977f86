"""Meetings -> an Atom feed, feeds/frokost.atom, for people who follow the series in a
news reader. Pure, like the other renderers: times come from the meetings' revisions."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Hashable, Mapping
from datetime import UTC, datetime
from typing import Any

from castcal import layout, xmlparts
from castcal.dates import norwegian_date
from castcal.manifest import Revision
from castcal.models import Event, Project
from castcal.output import Data


def entry_id(event: Event) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'castcal:event:' + event.uid)}"


def _text(event: Event) -> str:
    start, end = event.start, event.end
    lines = [
        f"Tid: {norwegian_date(start)} kl. {start:%H.%M}–{end:%H.%M}",
        f"Sted: {event.location}",
        "",
        event.details(),
    ]
    return "\n".join(lines)


def entry_key(project: Project, event: Event, revision: Revision) -> tuple[object, ...]:
    """Everything an entry's XML is made from, side by side."""
    return (
        "atom-entry", project.fingerprint, event.id, event.fingerprint,
        revision.created, revision.last_modified,
    )  # fmt: skip


def render(
    project: Project,
    revisions: dict[str, Revision],
    before: Mapping[Hashable, bytes] | None = None,
) -> tuple[Data, Mapping[Hashable, bytes]]:
    """The feed, and each entry's XML keyed by ``entry_key``; ``before`` holds those of the
    last build, so only new and changed meetings are rendered."""
    from feedgen.feed import FeedGenerator

    calendar = project.config.calendar
    assert calendar is not None
    feed_url = layout.url(project, layout.ATOM)
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(calendar.name)
    fg.subtitle(calendar.description)
    fg.language(project.config.podcast.language)
    fg.author({"name": project.config.podcast.author})
    fg.link(href=feed_url, rel="self", type="application/atom+xml")
    fg.link(href=calendar.url or project.base_url, rel="alternate", type="text/html")
    fg.generator("castcal")
    stamps = [revisions[e.uid].last_modified for e in project.events]
    fg.updated(max(stamps, default=datetime(1970, 1, 1, tzinfo=UTC)))
    document: bytes = fg.atom_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    newest_first = sorted(project.events, key=lambda e: (e.start, e.id), reverse=True)
    pieces = [
        (
            entry_key(project, e, revisions[e.uid]),
            functools.partial(_entry_element, fg, project, e, revisions[e.uid]),
        )
        for e in newest_first
    ]
    return xmlparts.assemble(document, None, b"</feed>", pieces, before or {})


def _entry_element(fg: Any, project: Project, event: Event, revision: Revision) -> Any:
    """A meeting's Atom entry, made with the feed's extensions, not added to it."""
    fe = fg.add_entry(order="append")
    fg.remove_entry(fe)
    fe.id(entry_id(event))
    fe.title(f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title)
    fe.updated(revision.last_modified)
    fe.published(revision.created)
    fe.link(href=f"{project.base_url}#{event.id}", rel="alternate", type="text/html")
    fe.link(href=layout.url(project, layout.event(event)), rel="related", type="text/calendar")
    fe.content(_text(event), type="text")
    return fe.atom_entry()
