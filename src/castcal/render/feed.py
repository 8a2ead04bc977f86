"""Podcast feeds as RSS bytes: the main feed of whole episodes, and the same items made for
the segment feeds; feedgen renders, with castcal's extension for the tags it lacks.

A feed is rendered in parts (render/xml.py): the channel, and each item on its own, keyed
by ``Entry.key``, so the build can reuse the items it rendered before.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from castcal.content.config import Person
from castcal.content.models import Episode, Project
from castcal.render import chapters, paths, timestamps, xml

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

    from castcal.render.podcastns import MoreTags, PersonTag


class Entry(NamedTuple):
    """One item of a feed, before it is made: the whole episode, or one of its segments
    (then ``kind`` and ``title`` are the segment's)."""

    episode: Episode
    guid: str
    title: str
    url: str
    length: int  # of the file published, as is the duration
    mime: str
    seconds: int
    kind: str = ""  # the segment kind; "" for the whole episode
    alternate_lengths: tuple[int, ...] = ()  # of the whole episode's alternates
    description: str = ""  # a segment's own; "" for the episode's summary
    transcript: str = ""  # the URL of a segment's cut of the transcript, if any

    def key(self) -> tuple[object, ...]:
        """Everything the item's XML is made from besides the project (``Feed.key``):
        the episode by its fingerprint, which covers its files and its audio's facts."""
        return ("item", self.episode.fingerprint, *self[1:])


@dataclass(frozen=True)
class Feed:
    """One podcast feed of the project: the main one, or one per segment kind."""

    path: str  # in feeds/
    title: str
    description: str
    guid: str  # podcast:guid
    entries: tuple[Entry, ...]  # newest first


def newest_first(project: Project) -> list[Episode]:
    """The episodes in the order of the feeds and the page."""
    return sorted(project.episodes, key=lambda e: (e.meta.published, e.id), reverse=True)


def main_feed(project: Project, lengths: Mapping[str, int]) -> Feed:
    """The feed of whole episodes; ``lengths`` holds those of the published audio files,
    by their path in feeds/ (a tagged copy is longer than its source)."""
    show = project.config.podcast
    entries = []
    for e in newest_first(project):
        main, *others = (
            lengths[path] if (path := paths.media(e, m)) else m.facts.length
            for m in (e.audio, *e.alternates)
        )
        url = paths.enclosure(project, e, e.audio)
        mime, seconds = e.audio.facts.mime, e.audio.facts.seconds
        entries.append(Entry(e, e.guid, e.meta.title, url, main, mime, seconds, "", tuple(others)))
    return Feed(paths.FEED, show.title, show.description, str(show.guid), tuple(entries))


def as_html(text: str) -> str:
    """Plain text as the HTML that shows it: podcast apps read an RSS ``<description>`` as
    HTML, so a ``<b>`` or an ``&amp;`` an editor writes is shown, not interpreted. Each
    kind of line break becomes a line feed, as an HTML parser reads it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return html.escape(lines, quote=False)


def assemble(channel: bytes, items: Iterable[bytes]) -> list[bytes]:
    """The feed, in pieces (``xml.assemble``): its channel, as ``channel`` renders it,
    with the items, as ``items`` renders them, in the feed's order."""
    return xml.assemble(channel, xml.CHANNEL, items)


def channel(project: Project, feed: Feed) -> bytes:
    """The feed without its items (the items come from ``items``)."""
    fg = _generator(project)
    show = project.config.podcast
    feed_url = paths.url(project, feed.path)
    site_url = show.link or project.base_url
    cover_url = paths.url(project, paths.cover(project))
    fg.title(feed.title)
    fg.description(as_html(feed.description))
    fg.language(show.language)
    # feedgen puts the *last* link into <link>: the feed's own URL first, the site last.
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=site_url, rel="alternate")
    fg.generator("castcal")
    fg.docs("https://www.rssboard.org/rss-specification")
    if show.copyright:
        fg.copyright(show.copyright)
    fg.image(url=cover_url, title=feed.title, link=site_url)
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner.name, email=show.owner.email)
    fg.podcast.itunes_image(cover_url)
    fg.podcast.itunes_type(show.type)
    if feed.path == paths.FEED and project.config.site.previous_feed_urls:
        fg.podcast.itunes_new_feed_url(feed_url)  # the feed moved here: Apple follows it
    tags = fg.podcastindex.tags
    tags.guid = feed.guid
    tags.locked = show.locked
    tags.locked_owner = show.owner.email
    tags.explicit = show.explicit
    tags.categories = show.categories
    tags.people = _person_tags(show.people)
    if project.config.publish is not None:
        tags.hubs = list(project.config.publish.hubs)
    tags.more = _channel_more(project, feed)
    if feed.entries:
        # Derived from the content, never the clock, so a rebuild gives the same bytes.
        fg.lastBuildDate(feed.entries[0].episode.meta.published)
        fg.pubDate(feed.entries[0].episode.meta.published)
    else:
        tags.keep_last_build_date = False
    data: bytes = fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    return data


def items(
    project: Project, channel: bytes, entries: Iterable[Entry], notes: Mapping[str, str]
) -> Iterator[bytes]:
    """The XML of each entry's item, as it reads in the feed whose ``channel`` this is;
    ``notes`` holds each episode's show notes as HTML, by episode id."""
    fg = _generator(project)
    elements = (_element(project, fg, e, notes) for e in entries)
    yield from xml.parts(channel, xml.CHANNEL, elements)


def _element(project: Project, fg: FeedGenerator, entry: Entry, notes: Mapping[str, str]) -> Any:
    """An entry's item element, made by feedgen with the feed's extensions."""
    fe = fg.add_entry(order="append")
    fg.remove_entry(fe)  # made with the feed's extensions, not part of the feed
    _item(project, fe, entry, notes.get(entry.episode.id))
    return fe.rss_entry()


def _generator(project: Project) -> FeedGenerator:
    from feedgen.feed import FeedGenerator

    from castcal.render.podcastns import PodcastIndexEntryExtension, PodcastIndexExtension

    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension(
        "podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False, rss=True
    )
    return fg


def _person_tags(people: tuple[Person, ...]) -> list[PersonTag]:
    from castcal.render.podcastns import PersonTag

    seen: set[tuple[str, str]] = set()
    tags = []
    for p in people:
        if (p.name, p.role) not in seen:
            seen.add((p.name, p.role))
            tags.append(PersonTag(p.name, p.role, p.group, p.href, p.img))
    return tags


def _item(project: Project, fe: Any, entry: Entry, notes_html: str | None) -> None:
    episode = entry.episode
    show, meta = project.config.podcast, episode.meta
    fe.guid(entry.guid, permalink=False)
    fe.title(entry.title)
    fe.link(href=paths.url(project, paths.episode_page(episode)))  # the episode's own page
    summary = entry.description or meta.summary
    if not entry.kind:  # the whole episode's item: its segments' timestamps first
        summary = timestamps.description(show, episode, summary)
        notes_html = timestamps.notes(show, episode, notes_html)
    fe.description(as_html(summary))
    if notes_html is not None and not entry.kind:  # a segment's item: not the whole notes
        fe.content(notes_html, type="CDATA")
    fe.enclosure(measured(project, entry.url), str(entry.length), entry.mime)
    fe.published(meta.published)
    fe.podcast.itunes_duration(entry.seconds)
    fe.podcast.itunes_episode_type(meta.episode_type)
    if meta.number is not None:
        fe.podcast.itunes_episode(meta.number)
    if meta.season is not None:
        fe.podcast.itunes_season(meta.season)
    tags = fe.podcastindex.tags
    tags.explicit = show.explicit if meta.explicit is None else meta.explicit
    tags.season, tags.episode = meta.season, meta.number
    # Item-level people replace the channel's list in apps, so the hosts are restated; a
    # segment's item names only the people in that segment.
    heard = [p for p in meta.people if not entry.kind or not p.segments or entry.kind in p.segments]
    tags.people = _person_tags((*show.people, *heard))
    tags.more = _item_more(episode, whole=not entry.kind)
    if not entry.kind:
        _whole_episode(project, tags, entry)
    elif entry.transcript:
        tags.transcript_url, tags.transcript_language = entry.transcript, show.language


def _whole_episode(project: Project, tags: Any, entry: Entry) -> None:
    """What only the whole episode's item has: chapters, transcript and alternates."""
    from castcal.render.podcastns import AlternateTag

    episode, show = entry.episode, project.config.podcast
    tags.chapters_url = paths.url(project, paths.chapters(episode))
    if episode.transcript is not None:
        tags.transcript_url = paths.url(project, paths.transcript(episode))
        tags.transcript_language = show.language
    tags.psc = chapters.psc(show, episode)
    if episode.alternates:  # the main file first, marked default, as the namespace asks
        lengths = (entry.length, *entry.alternate_lengths)
        files = zip((episode.audio, *episode.alternates), lengths, strict=True)
        tags.alternates = [
            AlternateTag(
                url=measured(project, paths.enclosure(project, episode, media)),
                mime=media.facts.mime,
                length=length,
                title=media.facts.extension.upper(),
                default=not i,
            )
            for i, (media, length) in enumerate(files)
        ]


# The tags podcast apps read besides the above (render/podcastns.py, MoreTags), and the
# enclosure URLs through an analytics prefix.


def measured(project: Project, url: str) -> str:
    """An audio URL as the feeds give it: through ``[site] enclosure_prefix`` when set
    (the prefix, then the URL without its scheme, as OP3 and Podtrac expect)."""
    prefix = project.config.site.enclosure_prefix
    return url if prefix is None else prefix + url.split("://", 1)[-1]


def _channel_more(project: Project, feed: Feed) -> MoreTags:
    """The channel's funding, license, location ...; the main feed's alone also its
    Apple verification (txt, for this feed) and its trailers."""
    from castcal.render.podcastns import MoreTags, TrailerTag

    show, main = project.config.podcast, feed.path == paths.FEED
    trailers = [
        TrailerTag(e.title, measured(project, e.url), e.length, e.mime, *_when(e.episode))
        for e in (feed.entries if main else ())
        if e.episode.meta.episode_type == "trailer"
    ]
    return MoreTags(
        funding=show.funding,
        license=show.license,
        license_url=show.license_url,
        location=show.location,
        block=show.block,
        txt=show.txt if main else (),
        update_frequency=show.update_frequency,
        podroll=show.podroll,
        trailers=trailers,
    )


def _when(episode: Episode) -> tuple[datetime, int | None]:
    """A trailer's date and season."""
    return episode.published, episode.meta.season


def _item_more(episode: Episode, *, whole: bool) -> MoreTags:
    """An item's funding, license, location and block; soundbites in the whole episode's
    item only (their times are the episode's)."""
    from castcal.render.podcastns import MoreTags

    meta = episode.meta
    return MoreTags(
        funding=meta.funding,
        license=meta.license,
        license_url=meta.license_url,
        location=meta.location,
        block=meta.block,
        soundbites=meta.soundbites if whole else (),
    )
