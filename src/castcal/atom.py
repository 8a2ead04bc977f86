"""Meetings -> an Atom feed, feeds/frokost.atom, for people who follow the series in a
news reader. Pure, like the other renderers: times come from the meetings' revisions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from castcal import ics, layout
from castcal.manifest import Revision
from castcal.models import Event, Project
from castcal.page import norwegian_date


def entry_id(event: Event) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'castcal:event:' + event.uid)}"


def _text(event: Event) -> str:
    start, end = event.start, event.end
    lines = [
        f"Tid: {norwegian_date(start)} kl. {start:%H.%M}–{end:%H.%M}",
        f"Sted: {event.location}",
        "",
        ics.description(event),
    ]
    return "\n".join(lines)


def render(project: Project, revisions: dict[str, Revision]) -> bytes:
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
    for event in sorted(project.events, key=lambda e: (e.start, e.id), reverse=True):
        revision = revisions[event.uid]
        fe = fg.add_entry(order="append")
        fe.id(entry_id(event))
        fe.title(f"AVLYST: {event.meta.title}" if event.cancelled else event.meta.title)
        fe.updated(revision.last_modified)
        fe.published(revision.created)
        fe.link(href=f"{project.base_url}#{event.id}", rel="alternate", type="text/html")
        fe.link(href=layout.url(project, layout.event(event)), rel="related", type="text/calendar")
        fe.content(_text(event), type="text")
    rendered: bytes = fg.atom_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    return rendered
