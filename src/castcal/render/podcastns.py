"""feedgen extension for what feedgen cannot write: the Podcasting 2.0 ``podcast:`` tags,
Podlove Simple Chapters (``psc:``), Apple's 2019 categories and ``itunes:explicit``
as ``true``/``false`` (feedgen only knows the retired yes/no/clean)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from castcal.content.config import Funding, Location, RemoteItem, Txt, UpdateFrequency
from castcal.content.models import Soundbite

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"


def _add(
    parent: Any, ns: str, tag: str, text: str | None = None, attrs: dict[str, str] | None = None
) -> Any:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for key, value in (attrs or {}).items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class PersonTag:
    name: str
    role: str
    group: str
    href: str | None = None
    img: str | None = None


def _people(parent: Any, people: list[PersonTag]) -> None:
    for person in people:
        attrs = {"role": person.role, "group": person.group}
        if person.href:
            attrs["href"] = person.href
        if person.img:
            attrs["img"] = person.img
        _add(parent, PODCAST_NS, "person", person.name, attrs)


@dataclass(frozen=True)
class AlternateTag:
    url: str
    mime: str
    length: int
    title: str
    default: bool


@dataclass
class ChannelTags:
    guid: str = ""
    locked_owner: str | None = None
    locked: bool = True
    explicit: bool = False
    categories: list[list[str]] = field(default_factory=list)
    people: list[PersonTag] = field(default_factory=list)
    hubs: list[str] = field(default_factory=list)
    keep_last_build_date: bool = True
    more: MoreTags | None = None  # funding, license, location ... (below)


@dataclass
class ItemTags:
    explicit: bool = False
    season: int | None = None
    episode: int | None = None
    people: list[PersonTag] = field(default_factory=list)
    chapters_url: str | None = None
    transcript_url: str | None = None
    transcript_language: str | None = None
    psc: list[tuple[str, str]] = field(default_factory=list)
    alternates: list[AlternateTag] = field(default_factory=list)
    more: MoreTags | None = None  # funding, license, location, soundbites, block


class PodcastIndexExtension(BaseExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        self.tags = ChannelTags()

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "psc": PSC_NS}

    def extend_rss(self, rss: Any) -> Any:
        channel, tags = rss[0], self.tags
        if not tags.keep_last_build_date:
            for element in channel.findall("lastBuildDate") + channel.findall("pubDate"):
                channel.remove(element)
        for hub in tags.hubs:  # WebSub: where apps may subscribe for push updates
            _add(channel, ATOM_NS, "link", attrs={"href": hub, "rel": "hub"})
        for entry in tags.categories:
            category = _add(channel, ITUNES_NS, "category", attrs={"text": entry[0]})
            if len(entry) > 1:
                _add(category, ITUNES_NS, "category", attrs={"text": entry[1]})
        _add(channel, ITUNES_NS, "explicit", "true" if tags.explicit else "false")
        _add(channel, PODCAST_NS, "guid", tags.guid)
        locked = {"owner": tags.locked_owner} if tags.locked_owner else {}
        _add(channel, PODCAST_NS, "locked", "yes" if tags.locked else "no", locked)
        _add(channel, PODCAST_NS, "medium", "podcast")
        _people(channel, tags.people)
        if tags.more is not None:
            _more(channel, tags.more, channel=True)
        return rss


class PodcastIndexEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        self.tags = ItemTags()

    def extend_rss(self, item: Any) -> Any:
        tags = self.tags
        _add(item, ITUNES_NS, "explicit", "true" if tags.explicit else "false")
        if tags.season is not None:
            _add(item, PODCAST_NS, "season", str(tags.season))
        if tags.episode is not None:
            _add(item, PODCAST_NS, "episode", str(tags.episode))
        _people(item, tags.people)
        if tags.chapters_url:
            _add(
                item,
                PODCAST_NS,
                "chapters",
                attrs={"url": tags.chapters_url, "type": "application/json+chapters"},
            )
        if tags.transcript_url:
            attrs = {"url": tags.transcript_url, "type": "text/vtt"}
            if tags.transcript_language:
                attrs["language"] = tags.transcript_language
            _add(item, PODCAST_NS, "transcript", attrs=attrs)
        for alternate in tags.alternates:
            attrs = {
                "type": alternate.mime,
                "length": str(alternate.length),
                "title": alternate.title,
            }
            if alternate.default:
                attrs["default"] = "true"
            element = _add(item, PODCAST_NS, "alternateEnclosure", attrs=attrs)
            _add(element, PODCAST_NS, "source", attrs={"uri": alternate.url})
        if tags.psc:
            block = _add(item, PSC_NS, "chapters", attrs={"version": "1.2"})
            for start, title in tags.psc:
                _add(block, PSC_NS, "chapter", attrs={"start": start, "title": title})
        if tags.more is not None:
            _more(item, tags.more, channel=False)
        return item


# The tags podcast apps read besides the above (issue 22): each where the namespace
# document puts it, written only when the project gives it.


@dataclass(frozen=True)
class TrailerTag:
    """A channel's podcast:trailer: an episode whose episode_type is "trailer"."""

    title: str
    url: str
    length: int
    mime: str
    published: datetime
    season: int | None


@dataclass
class MoreTags:
    funding: tuple[Funding, ...] = ()
    license: str | None = None
    license_url: str | None = None
    location: Location | None = None
    block: bool = False
    txt: tuple[Txt, ...] = ()  # channel only, as the rest below
    update_frequency: UpdateFrequency | None = None
    podroll: tuple[RemoteItem, ...] = ()
    trailers: list[TrailerTag] = field(default_factory=list)
    soundbites: tuple[Soundbite, ...] = ()  # item only


def _more(parent: Any, tags: MoreTags, *, channel: bool) -> None:
    for funding in tags.funding:
        _add(parent, PODCAST_NS, "funding", funding.text, {"url": funding.url})
    if tags.license:
        url = {"url": tags.license_url} if tags.license_url else {}
        _add(parent, PODCAST_NS, "license", tags.license, url)
    if tags.location is not None:
        _location(parent, tags.location)
    if tags.block:  # Apple acts on "Yes" only; podcast:block is the channel's alone
        _add(parent, ITUNES_NS, "block", "Yes")
        if channel:
            _add(parent, PODCAST_NS, "block", "yes")
    for txt in tags.txt:
        _add(parent, PODCAST_NS, "txt", txt.value, {"purpose": txt.purpose} if txt.purpose else {})
    if tags.update_frequency is not None:
        _update_frequency(parent, tags.update_frequency)
    if tags.podroll:
        podroll = _add(parent, PODCAST_NS, "podroll")
        for remote in tags.podroll:
            attrs = {"feedGuid": str(remote.feed_guid)}
            if remote.feed_url:
                attrs["feedUrl"] = remote.feed_url
            _add(podroll, PODCAST_NS, "remoteItem", attrs=attrs)
    for trailer in tags.trailers:
        _trailer(parent, trailer)
    for bite in tags.soundbites:
        attrs = {"startTime": f"{bite.start:g}", "duration": f"{bite.duration:g}"}
        _add(parent, PODCAST_NS, "soundbite", bite.title, attrs)


def _location(parent: Any, location: Location) -> None:
    attrs = {}
    if location.geo:
        attrs["geo"] = location.geo
    if location.osm:
        attrs["osm"] = location.osm
    _add(parent, PODCAST_NS, "location", location.name, attrs)


def _update_frequency(parent: Any, frequency: UpdateFrequency) -> None:
    attrs = {"rrule": frequency.rrule} if frequency.rrule else {}
    if frequency.complete:
        attrs["complete"] = "true"
    _add(parent, PODCAST_NS, "updateFrequency", frequency.text, attrs)


def _trailer(parent: Any, trailer: TrailerTag) -> None:
    attrs = {
        "pubdate": format_datetime(trailer.published),
        "url": trailer.url,
        "length": str(trailer.length),
        "type": trailer.mime,
    }
    if trailer.season is not None:
        attrs["season"] = str(trailer.season)
    _add(parent, PODCAST_NS, "trailer", trailer.title[:128], attrs)
