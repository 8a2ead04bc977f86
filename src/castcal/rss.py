"""Project -> podcast RSS bytes. The only module that imports feedgen. Pure: the same
project gives the same bytes; no clock, no disk, no network."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from castcal import layout, notes, xmlparts
from castcal.chapters import chapters, npt
from castcal.models import Episode, Media, Person, Project
from castcal.output import Data

if TYPE_CHECKING:
    from castcal import segments
    from castcal.podcastindex import PersonTag


def _person_tags(people: tuple[Person, ...]) -> list[PersonTag]:
    from castcal.podcastindex import PersonTag

    seen: set[tuple[str, str]] = set()
    tags = []
    for p in people:
        if (p.name, p.role) not in seen:
            seen.add((p.name, p.role))
            tags.append(PersonTag(p.name, p.role, p.group, p.href, p.img))
    return tags


@dataclass(frozen=True)
class Feed:
    """One podcast feed of the project: the main one, or one per segment kind."""

    path: str  # in feeds/
    title: str
    description: str
    guid: str  # podcast:guid
    entries: tuple[Entry, ...]  # newest first


class Item(NamedTuple):
    """One episode in a feed: the whole episode, or one of its segments."""

    episode: Episode
    guid: str
    title: str
    url: str
    length: int  # of the file published, as are those below
    mime: str
    seconds: int
    whole: bool  # the whole episode: chapters, transcript and alternates apply
    alternate_lengths: tuple[int, ...] = ()


class Entry(NamedTuple):
    """An item of a feed before it is made: the key of its XML, and what the item and the
    manifest's record are made from. A feed has thousands of entries; a build makes the
    items only of those whose key its last build did not render."""

    key: tuple[object, ...]  # everything the item's XML is made from, side by side
    episode: Episode
    guid: str
    url: str
    length: int
    seconds: int
    alternate_lengths: tuple[int, ...]  # of the whole episode's alternates
    segment: segments.Planned | None  # None for the whole episode


def make_item(entry: Entry) -> Item:
    """The item an entry is made into."""
    if entry.segment is not None:
        from castcal import segments

        return segments.item(entry)
    e = entry.episode
    title, mime = e.meta.title, e.audio.facts.mime
    url, length, seconds = entry.url, entry.length, entry.seconds
    return Item(e, entry.guid, title, url, length, mime, seconds, True, entry.alternate_lengths)


def newest_first(project: Project) -> list[Episode]:
    """The episodes in the order of the feeds and the page."""
    return sorted(project.episodes, key=lambda e: (e.meta.published, e.id), reverse=True)


def item_key(
    project: Project, episode: Episode, kind: str, *published: object
) -> tuple[object, ...]:
    """What an item's XML is made from: the project and the episode (each by its
    fingerprint, which covers its audio's facts), the segment kind ("" for the whole
    episode), and the lengths (and duration) of the files published for it."""
    return ("rss-item", project.fingerprint, episode.id, episode.fingerprint, kind, *published)


def main_feed(
    project: Project,
    lengths: Mapping[str, int] | None = None,
    episodes: list[Episode] | None = None,
) -> Feed:
    """The feed of whole episodes; ``lengths`` holds those of the files this build
    published, by their path in feeds/ (a tagged copy is longer than its source);
    ``episodes`` are the episodes newest first, if known."""
    show = project.config.podcast
    published = lengths or {}

    def length(episode: Episode, media: Media) -> int:
        path = layout.media(episode, media)
        return published.get(path, media.facts.length) if path else media.facts.length

    entries = []
    for e in newest_first(project) if episodes is None else episodes:
        main, alternates = length(e, e.audio), tuple(length(e, a) for a in e.alternates)
        url = layout.enclosure(project, e, e.audio)
        key = item_key(project, e, "", main, alternates)
        entries.append(Entry(key, e, e.guid, url, main, e.audio.facts.seconds, alternates, None))
    return Feed(layout.FEED, show.title, show.description, str(show.guid), tuple(entries))


def render(
    project: Project,
    feed: Feed | None = None,
    before: Mapping[Hashable, bytes] | None = None,
    to_html: notes.ToHtml = notes.render,
) -> tuple[Data, Mapping[Hashable, bytes]]:
    """The feed, and each item's XML keyed by ``item_key``. ``before`` holds those of the
    last build: only new or changed items are made again. The channel is rendered by
    feedgen on its own and the items' XML goes where feedgen would put them, indented as
    feedgen's pretty printing does: the bytes equal a whole render (a golden test checks)."""
    from feedgen.feed import FeedGenerator

    from castcal.podcastindex import PodcastIndexEntryExtension, PodcastIndexExtension

    feed = feed or main_feed(project)
    show = project.config.podcast
    feed_url = layout.url(project, feed.path)
    site_url = show.link or project.base_url
    cover_url = layout.url(project, layout.cover(project))

    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension(
        "podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False, rss=True
    )
    fg.title(feed.title)
    fg.description(feed.description)
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
    tags = fg.podcastindex.tags
    tags.guid = feed.guid
    tags.locked = show.locked
    tags.locked_owner = show.owner.email
    tags.explicit = show.explicit
    tags.categories = show.categories
    tags.people = _person_tags(show.people)
    if project.config.publish is not None:
        tags.hubs = list(project.config.publish.hubs)
    if feed.entries:
        # Derived from the content, never the clock, so a rebuild gives the same bytes.
        fg.lastBuildDate(feed.entries[0].episode.meta.published)
        fg.pubDate(feed.entries[0].episode.meta.published)
    else:
        tags.keep_last_build_date = False

    channel: bytes = fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    pieces = [
        (entry.key, functools.partial(_item_element, fg, project, entry, to_html))
        for entry in feed.entries
    ]
    return xmlparts.assemble(channel, "channel", b"  </channel>", pieces, before or {})


def _item_element(fg: Any, project: Project, entry: Entry, to_html: notes.ToHtml) -> Any:
    """The <item> element of ``entry``, made by feedgen with the feed's extensions (the
    entry is not added to the feed, whose channel is rendered on its own)."""
    from castcal.podcastindex import AlternateTag

    item = make_item(entry)
    episode = item.episode
    show, meta = project.config.podcast, episode.meta
    fe = fg.add_entry(order="append")
    fg.remove_entry(fe)  # made with the feed's extensions, serialized on its own
    fe.guid(item.guid, permalink=False)
    fe.title(item.title)
    fe.link(href=f"{project.base_url}#{episode.id}")  # the episode on the show page
    fe.description(meta.summary)
    if episode.notes_markdown:
        fe.content(to_html(episode.notes_markdown), type="CDATA")
    fe.enclosure(item.url, str(item.length), item.mime)
    fe.published(meta.published)
    fe.podcast.itunes_duration(item.seconds)
    fe.podcast.itunes_episode_type(meta.episode_type)
    if meta.number is not None:
        fe.podcast.itunes_episode(meta.number)
    if meta.season is not None:
        fe.podcast.itunes_season(meta.season)
    tags = fe.podcastindex.tags
    tags.explicit = show.explicit if meta.explicit is None else meta.explicit
    tags.season, tags.episode = meta.season, meta.number
    # Item-level people replace the channel's list in apps, so the hosts are restated.
    tags.people = _person_tags(show.people + meta.people)
    if not item.whole:
        return fe.rss_entry()
    main = episode.audio
    tags.chapters_url = layout.url(project, layout.chapters(episode))
    if episode.transcript is not None:
        tags.transcript_url = layout.url(project, layout.transcript(episode))
        tags.transcript_language = show.language
    tags.psc = [(npt(c.start), c.title) for c in chapters(show, episode)]
    if episode.alternates:  # the main file first, marked default, as the namespace asks
        lengths = (item.length, *item.alternate_lengths)
        files = zip((main, *episode.alternates), lengths, strict=True)
        tags.alternates = [
            AlternateTag(
                url=layout.enclosure(project, episode, media),
                mime=media.facts.mime,
                length=length,
                title=media.facts.extension.upper(),
                default=not i,
            )
            for i, (media, length) in enumerate(files)
        ]
    return fe.rss_entry()
