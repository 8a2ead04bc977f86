"""Meetings as an Atom feed, feeds/frokost.atom, for people who follow the series in a news
reader. Rendered in parts like the podcast feeds: the feed, and each entry on its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from castcal.content.models import Event, Project
from castcal.render import norwegian, paths, xml
from castcal.render.facts import Revision

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator


def entry_id(event: Event) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'castcal:event:' + event.uid)}"


def newest_first(project: Project) -> list[Event]:
    """The meetings in the feed's order: the latest first."""
    return sorted(project.events, key=lambda e: (e.start, e.id), reverse=True)


def entry_key(event: Event, revision: Revision) -> tuple[object, ...]:
    """Everything an entry's XML is made from besides the project."""
    return ("entry", event.fingerprint, event.uid, revision.created, revision.last_modified)


def document(project: Project, revisions: Mapping[str, Revision]) -> bytes:
    """The feed without its entries (they come from ``entries``)."""
    calendar = project.config.calendar
    assert calendar is not None
    feed_url = paths.url(project, paths.ATOM)
    fg = _generator()
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
    data: bytes = fg.atom_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    return data


def assemble(document: bytes, entries: Iterable[bytes]) -> list[bytes]:
    """The feed, in pieces (``xml.assemble``): its ``document`` with the entries, newest
    first."""
    return xml.assemble(document, xml.FEED, entries)


def entries(
    project: Project, document: bytes, events: Iterable[Event], revisions: Mapping[str, Revision]
) -> Iterator[bytes]:
    """Each meeting's entry, as it reads in the feed whose ``document`` this is."""
    fg = _generator()
    elements = (_entry(project, fg, event, revisions[event.uid]) for event in events)
    yield from xml.parts(document, xml.FEED, elements)


def _entry(project: Project, fg: FeedGenerator, event: Event, revision: Revision) -> Any:
    """A meeting's entry element, made by feedgen, not part of the feed."""
    fe = fg.add_entry(order="append")
    fg.remove_entry(fe)
    fe.id(entry_id(event))
    fe.title(norwegian.summary(event))
    fe.updated(revision.last_modified)
    fe.published(revision.created)
    links = [  # the meeting's own page, and its calendar file
        {
            "href": paths.url(project, paths.meeting_page(event)),
            "rel": "alternate",
            "type": "text/html",
        },
        {"href": paths.url(project, paths.event(event)), "rel": "related", "type": "text/calendar"},
    ]
    for link in links:
        fe.link(**link)
    fe.content(_text(event), type="text")
    return _with_link_attributes(fe.atom_entry(), links)


def _with_link_attributes(entry: Any, links: list[dict[str, str]]) -> Any:
    """feedgen 1.0.0 writes an entry's links with their ``href`` alone (atom_entry names the new
    element as it names the link it reads ``rel`` and ``type`` from), so every link of an
    entry read as ``rel="alternate"``: two alternates of one type, which RFC 4287 4.1.1 forbids
    and the W3C validator reports as an error (DuplicateAtomLink). Put back here."""
    elements = entry.findall("link")  # feedgen makes an entry in no namespace; the feed's applies
    for element, link in zip(elements, links, strict=True):
        element.attrib.update(link)
    return entry


def _generator() -> FeedGenerator:
    from feedgen.feed import FeedGenerator

    return FeedGenerator()


def _text(event: Event) -> str:
    start, end = event.start, event.end
    lines = [
        f"Tid: {norwegian.norwegian_date(start)} kl. {start:%H.%M}–{end:%H.%M}",
        f"Sted: {event.location}",
        "",
        norwegian.details(event),
    ]
    return "\n".join(lines)
