"""The tags podcast apps read besides the basics (issue 22): funding, license, txt,
location, updateFrequency, podroll, soundbites, trailer, block, an analytics prefix on
every enclosure URL, chapter timestamps atop each description, and a meeting's GEO. A
project that uses every key, built, and read back with lxml, feedparser, podcastparser
and icalendar."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import feedparser
import icalendar
import podcastparser
import pytest
from lxml import etree

from castcal.render import timestamps
from tests.conftest import DATA, FEED_URL, Run

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
NS = {"itunes": ITUNES, "podcast": PODCAST, "content": "http://purl.org/rss/1.0/modules/content/"}
EP = "episodes/hva-er-endringsledelse"
GUID_OTHER = "917393e3-1b1e-5cef-ace4-edaa54e1f810"  # the namespace's own example feed
URL_OTHER = "https://mp3s.nashownotes.com/pc20rss.xml"
PREFIX = "https://op3.dev/e,pg=f7c7f539-9b73-52e2-a93f-fd842bcfb76b/"
SEGMENT_FEEDS = ("endringspraten.xml", "endringsnemda.xml")

CHANNEL_KEYS = f"""\
funding = [{{ url = "https://www.example.org/stott", text = "Støtt podkasten" }}]
license = "CC-BY-4.0"
txt = [{{ purpose = "applepodcastsverify", value = "a1b2c3-verifiser" }}]
location = {{ name = "Oslo", geo = "geo:59.91,10.75", osm = "R406091" }}
update_frequency = {{ text = "Månedlig", rrule = "FREQ=MONTHLY", complete = true }}
podroll = [{{ feed_guid = "{GUID_OTHER}", feed_url = "{URL_OTHER}" }}]
block = true
"""
EPISODE_KEYS = """\
funding = [{ url = "https://www.example.org/stott/ep1", text = "Støtt episoden" }]
license = "Difi-lisens"
license_url = "https://www.example.org/lisens"
location = { name = "Difi, Oslo", geo = "geo:59.9139,10.7522" }
block = true
"""
SOUNDBITE = """
[[soundbites]]
start = "0:02"
duration = 5.5
title = "Hva er endringsledelse, egentlig?"
"""


def insert_after(path: Path, anchor: str, text: str) -> None:
    source = path.read_text("utf-8")
    assert anchor in source
    path.write_text(source.replace(anchor, anchor + "\n" + text, 1), "utf-8")


def every_key(project: Path) -> None:
    """The sample project with every key of issue 22 set, and a trailer episode."""
    insert_after(
        project / "config.toml", 'guid = "f7c7f539-9b73-52e2-a93f-fd842bcfb76b"', CHANNEL_KEYS
    )
    toml = project / EP / "episode.toml"
    insert_after(toml, 'episode_type = "full"', EPISODE_KEYS)
    toml.write_text(toml.read_text("utf-8") + SOUNDBITE, "utf-8")
    trailer = project / "episodes/trailer"
    trailer.mkdir()
    shutil.copy(project / EP / "audio.mp3", trailer / "audio.mp3")
    (trailer / "episode.toml").write_text(
        'title = "Snart: Difis endringspodd"\nseason = 1\n'
        'published = 2017-02-01T07:00:00+01:00\naudio = "audio.mp3"\n'
        'summary = "En smakebit av podkasten om endringsledelse."\n'
        'episode_type = "trailer"\n\n[[segments]]\nkind = "endringspraten"\nstart = "0:00"\n',
        "utf-8",
    )
    insert_after(
        project / "events/2017-03-03-endringsledelse-i-praksis.toml",
        'status = "confirmed"',
        'geo = "geo:59.9139,10.7522"',
    )


def build(project: Path, castcal: Callable[..., Run]) -> Path:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return project / "feeds"


@pytest.fixture
def tagged(project: Path, castcal: Callable[..., Run]) -> Path:
    every_key(project)
    return build(project, castcal)


def channel(feeds: Path, name: str = "podcast.xml") -> etree._Element:
    element = etree.parse(str(feeds / name)).getroot().find("channel")
    assert element is not None
    return element


def attrs(element: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in element.attrib.items()}


def episode_of(link: str) -> str:
    """The episode id in an item's link: to the show page (#id) or its own page."""
    return link.rsplit("#", 1)[-1].rsplit("/", 1)[-1].removesuffix(".html")


def item(feeds: Path, episode: str, name: str = "podcast.xml") -> etree._Element:
    items = channel(feeds, name).iter("item")
    (found,) = [i for i in items if episode_of(i.findtext("link", "")) == episode]
    return found


def test_channel_tags_where_the_namespace_puts_them(tagged: Path) -> None:
    c = channel(tagged)
    funding = c.find("podcast:funding", NS)
    assert funding is not None and funding.get("url") == "https://www.example.org/stott"
    assert funding.text == "Støtt podkasten"
    license_ = c.find("podcast:license", NS)
    assert license_ is not None and (license_.text, license_.get("url")) == ("CC-BY-4.0", None)
    txt = c.find("podcast:txt", NS)
    assert txt is not None and attrs(txt) == {"purpose": "applepodcastsverify"}
    assert txt.text == "a1b2c3-verifiser"
    location = c.find("podcast:location", NS)
    assert location is not None and location.text == "Oslo"
    assert attrs(location) == {"geo": "geo:59.91,10.75", "osm": "R406091"}
    frequency = c.find("podcast:updateFrequency", NS)
    assert frequency is not None and frequency.text == "Månedlig"
    assert attrs(frequency) == {"rrule": "FREQ=MONTHLY", "complete": "true"}
    (remote,) = c.findall("podcast:podroll/podcast:remoteItem", NS)
    assert attrs(remote) == {
        "feedGuid": GUID_OTHER,
        "feedUrl": URL_OTHER,
    }
    assert c.findtext("itunes:block", namespaces=NS) == "Yes"
    assert c.findtext("podcast:block", namespaces=NS) == "yes"
    # none of these is an item's tag
    assert all(i.find("podcast:txt", NS) is None for i in c.iter("item"))
    assert all(i.find("podcast:podroll", NS) is None for i in c.iter("item"))


def test_a_trailer_episode_is_the_channels_trailer(tagged: Path) -> None:
    c = channel(tagged)
    (trailer,) = c.findall("podcast:trailer", NS)
    trailer_item = item(tagged, "trailer")
    enclosure = trailer_item.find("enclosure")
    assert enclosure is not None
    assert trailer.text == "Snart: Difis endringspodd"
    assert trailer.get("url") == enclosure.get("url")
    assert trailer.get("length") == enclosure.get("length")
    assert trailer.get("type") == enclosure.get("type") == "audio/mpeg"
    assert trailer.get("pubdate") == "Wed, 01 Feb 2017 07:00:00 +0100"
    assert trailer.get("season") == "1"
    for name in SEGMENT_FEEDS:  # a segment feed has no trailer of its own
        assert channel(tagged, name).find("podcast:trailer", NS) is None


def test_item_tags_where_the_namespace_puts_them(tagged: Path) -> None:
    i = item(tagged, "hva-er-endringsledelse")
    funding = i.find("podcast:funding", NS)
    assert funding is not None and funding.get("url") == "https://www.example.org/stott/ep1"
    license_ = i.find("podcast:license", NS)
    assert license_ is not None and license_.text == "Difi-lisens"
    assert license_.get("url") == "https://www.example.org/lisens"
    location = i.find("podcast:location", NS)
    assert location is not None and location.text == "Difi, Oslo"
    assert attrs(location) == {"geo": "geo:59.9139,10.7522"}
    (bite,) = i.findall("podcast:soundbite", NS)
    assert attrs(bite) == {"startTime": "2", "duration": "5.5"}
    assert bite.text == "Hva er endringsledelse, egentlig?"
    assert i.findtext("itunes:block", namespaces=NS) == "Yes"
    assert i.find("podcast:block", NS) is None  # podcast:block is a channel's tag only
    other = item(tagged, "digital-transformasjon")
    for tag in ("podcast:funding", "podcast:license", "podcast:location", "podcast:soundbite"):
        assert other.find(tag, NS) is None
    assert other.find("itunes:block", NS) is None


def test_independent_parsers_read_the_tags(tagged: Path) -> None:
    # podcastparser knows the namespace by its old GitHub URI only: feedparser reads it
    parsed = feedparser.parse(tagged / "podcast.xml")  # attributes, or else the text
    assert not parsed.bozo
    show = parsed.feed
    assert show["podcast_funding"] == {"url": "https://www.example.org/stott"}
    assert show["podcast_license"] == "CC-BY-4.0"
    assert show["podcast_location"] == {"geo": "geo:59.91,10.75", "osm": "R406091"}
    assert show["podcast_txt"] == {"purpose": "applepodcastsverify"}
    assert show["podcast_updatefrequency"] == {"rrule": "FREQ=MONTHLY", "complete": "true"}
    assert show["podcast_remoteitem"]["feedguid"] == GUID_OTHER
    assert show["podcast_trailer"]["url"].endswith("/audio/trailer.mp3")
    assert show["itunes_block"] == 1  # feedparser's reading of "Yes"
    assert show["podcast_block"] == "yes"
    (entry,) = [e for e in parsed.entries if episode_of(e.link) == "hva-er-endringsledelse"]
    assert entry["podcast_soundbite"] == {"starttime": "2", "duration": "5.5"}
    assert entry["podcast_license"] == {"url": "https://www.example.org/lisens"}
    assert entry["itunes_block"] == 1


def test_a_blocked_episode_stays_in_the_feed_with_its_guid(
    project: Path, castcal: Callable[..., Run]
) -> None:
    before = item(build(project, castcal), "hva-er-endringsledelse").findtext("guid")
    insert_after(project / EP / "episode.toml", 'episode_type = "full"', "block = true")
    blocked = item(build(project, castcal), "hva-er-endringsledelse")
    assert blocked.findtext("guid") == before
    assert blocked.findtext("itunes:block", namespaces=NS) == "Yes"


def test_segment_feeds_carry_the_shows_tags_not_its_verification(tagged: Path) -> None:
    for name in SEGMENT_FEEDS:
        c = channel(tagged, name)
        assert c.find("podcast:funding", NS) is not None
        assert c.find("podcast:location", NS) is not None
        assert c.findtext("itunes:block", namespaces=NS) == "Yes"
        assert c.find("podcast:txt", NS) is None  # Apple's verification names one feed
        i = item(tagged, "hva-er-endringsledelse", name)
        assert i.find("podcast:funding", NS) is not None
        assert i.find("podcast:soundbite", NS) is None  # its times are the episode's


def test_a_meetings_geo_is_its_vevent_geo(tagged: Path) -> None:
    series = (tagged / "frokost.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(series)
    assert bytes(calendar.to_ical()) == series  # written as icalendar writes it
    geos = [geo(e) for e in calendar.walk("VEVENT") if "GEO" in e]
    assert geos == [(59.9139, 10.7522)]
    single = tagged / "events/2017-03-03-endringsledelse-i-praksis.ics"
    (event,) = icalendar.Calendar.from_ical(single.read_bytes()).walk("VEVENT")
    assert geo(event) == (59.9139, 10.7522)


def geo(component: icalendar.Component) -> tuple[float, float]:
    value = component["GEO"]
    assert isinstance(value, icalendar.vGeo)
    return value.latitude, value.longitude


def descriptions(feeds: Path, name: str = "podcast.xml") -> dict[str, tuple[str, str]]:
    """Each item's description and content:encoded, by its link's episode id."""
    return {
        episode_of(i.findtext("link", "")): (
            i.findtext("description", ""),
            i.findtext("content:encoded", "", NS),
        )
        for i in channel(feeds, name).iter("item")
    }


def test_timestamps_atop_description_and_notes(project: Path, castcal: Callable[..., Run]) -> None:
    feeds = build(project, castcal)
    description, notes = descriptions(feeds)["hva-er-endringsledelse"]
    stamps = "00:00 Endringspraten: Hva er endringsledelse?\n00:11 Endringsnemda: Omorganisering"
    assert description.startswith(stamps)
    assert notes.startswith("<p>" + stamps.replace("\n", "<br>\n"))
    parsed = feedparser.parse(feeds / "podcast.xml")
    (entry,) = [e for e in parsed.entries if episode_of(e.link) == "hva-er-endringsledelse"]
    assert entry.summary.startswith("00:00 Endringspraten")
    for name in SEGMENT_FEEDS:  # a segment's item is one chapter: no timestamps
        assert all("00:00 " not in d for d, _ in descriptions(feeds, name).values())

    insert_after(project / "config.toml", 'type = "episodic"', "timestamps = false")
    feeds = build(project, castcal)
    for description, notes in descriptions(feeds).values():
        assert "00:00" not in description and "00:11" not in notes


def test_timestamps_only_for_two_segments_or_more(tagged: Path) -> None:
    description, notes = descriptions(tagged)["trailer"]  # one segment
    assert description == "En smakebit av podkasten om endringsledelse."
    assert notes == ""


def test_timestamps_show_hours_in_an_hour_long_episode() -> None:
    assert timestamps.stamp(3723.9, hours=True) == "01:02:03"
    assert timestamps.stamp(1065, hours=True) == "00:17:45"
    assert timestamps.stamp(1065, hours=False) == "17:45"


def enclosure_urls(feeds: Path) -> dict[tuple[str, str, int], str]:
    """Every audio URL in every feed: enclosures and alternate enclosures' sources."""
    urls = {}
    for path in sorted(feeds.glob("*.xml")):
        for n, i in enumerate(channel(feeds, path.name).iter("item")):
            enclosure = i.find("enclosure")
            assert enclosure is not None
            urls[(path.name, "enclosure", n)] = enclosure.get("url", "")
            for k, source in enumerate(i.iterfind("podcast:alternateEnclosure/podcast:source", NS)):
                urls[(path.name, f"alternate{k}", n)] = source.get("uri", "")
    return urls


def test_enclosure_prefix_on_every_audio_url(project: Path, castcal: Callable[..., Run]) -> None:
    shutil.copy(DATA / "audio/speech.opus", project / EP / "lyd.opus")
    insert_after(project / EP / "episode.toml", 'audio = "audio.mp3"', 'alternates = ["lyd.opus"]')
    plain = enclosure_urls(build(project, castcal))
    assert any(key[1] == "alternate1" for key in plain)
    assert all(url.startswith("https://www.example.org/") for url in plain.values())

    insert_after(project / "config.toml", 'output = "feeds"', f'enclosure_prefix = "{PREFIX}"')
    feeds = build(project, castcal)
    prefixed = enclosure_urls(feeds)
    assert prefixed.keys() == plain.keys()
    for key, url in prefixed.items():
        assert url == PREFIX + plain[key].removeprefix("https://")
    with (feeds / "podcast.xml").open("rb") as f:
        gpodder = podcastparser.parse(FEED_URL, f)
    assert all(e["enclosures"][0]["url"].startswith(PREFIX) for e in gpodder["episodes"])
