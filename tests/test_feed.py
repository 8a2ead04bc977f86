"""The sample project's podcast feed, read the way podcast apps read it."""

from __future__ import annotations

import email.utils
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import podcastparser
import pytest
import tomli_w
from lxml import etree

from castcal.content.fields import NOTES_LIMIT
from castcal.content.vocab import APPLE_CATEGORIES
from tests.conftest import FEED_URL, Run
from tests.rendering import load, main_feed
from tests.test_invalid import grow

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
NS = {
    "itunes": ITUNES,
    "podcast": PODCAST,
    "atom": "http://www.w3.org/2005/Atom",
    "psc": "http://podlove.org/simple-chapters",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
EPISODES = {
    "digital-transformasjon": ("Digital transformasjon som driver for endring", 2, 19),
    "hva-er-endringsledelse": ("Hva er endringsledelse?", 1, 20),
}


@pytest.fixture
def feeds(project: Path, castcal: Callable[..., Run]) -> Path:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return project / "feeds"


def test_podcastparser_reads_every_episode(feeds: Path) -> None:
    with (feeds / "podcast.xml").open("rb") as f:
        parsed = podcastparser.parse(FEED_URL, f)
    assert parsed["title"] == "Difis endringspodd"
    assert parsed["link"] == "https://www.example.org/endringspodden/"
    assert parsed["itunes_categories"][0] == ["Business", "Management"]
    assert parsed["explicit"] is False
    assert parsed["type"] == "episodic"
    episodes = parsed["episodes"]
    assert [e["title"] for e in episodes] == [t for t, _, _ in EPISODES.values()]  # newest first
    guids = {e["guid"] for e in episodes}
    assert len(guids) == 2
    for entry, (episode_id, (_, number, seconds)) in zip(episodes, EPISODES.items(), strict=True):
        audio = feeds / "audio" / f"{episode_id}.mp3"
        (enclosure,) = entry["enclosures"]
        assert enclosure["url"] == f"https://www.example.org/endringspodden/audio/{episode_id}.mp3"
        assert enclosure["file_size"] == audio.stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert entry["total_time"] == seconds
        assert entry["number"] == number


def test_feedparser_reads_every_episode(feeds: Path) -> None:
    parsed = feedparser.parse(feeds / "podcast.xml")
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "nb"
    assert [e.title for e in parsed.entries] == [t for t, _, _ in EPISODES.values()]
    for entry, (episode_id, (_, _, seconds)) in zip(parsed.entries, EPISODES.items(), strict=True):
        assert entry.id and entry.guidislink is False
        (enclosure,) = entry.enclosures
        assert enclosure.href.endswith(f"/audio/{episode_id}.mp3")
        assert int(enclosure.length) == (feeds / "audio" / f"{episode_id}.mp3").stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert entry.itunes_duration == str(seconds)


def test_apple_required_tags(feeds: Path) -> None:
    root = etree.parse(str(feeds / "podcast.xml")).getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert dict(root.nsmap) == {
        "itunes": ITUNES,
        "podcast": PODCAST,
        "psc": NS["psc"],
        "atom": NS["atom"],
        "content": NS["content"],
    }
    channel = root.find("channel")
    assert channel is not None

    def one(path: str, parent: etree._Element = channel) -> etree._Element:
        found = parent.findall(path, NS)
        assert len(found) == 1, path
        return found[0]

    def text(path: str, parent: etree._Element = channel) -> str:
        value = one(path, parent).text
        assert value is not None, path
        return value

    def attr(path: str, name: str, parent: etree._Element = channel) -> str:
        value = one(path, parent).get(name)
        assert value is not None, (path, name)
        return value

    assert text("title") == "Difis endringspodd"
    assert len(text("description").encode()) <= 4000
    assert text("language") == "nb"
    assert text("link") == "https://www.example.org/endringspodden/"
    self_link = one("atom:link[@rel='self']")
    assert self_link.get("href") == FEED_URL and self_link.get("type") == "application/rss+xml"
    image = attr("itunes:image", "href")
    assert image.endswith(".jpg") and image.startswith("https://")
    categories = channel.findall("itunes:category", NS)
    assert categories[0].get("text") in APPLE_CATEGORIES
    for top in categories:
        for sub in top.findall("itunes:category", NS):
            assert sub.get("text") in APPLE_CATEGORIES[top.get("text", "")]
    assert text("itunes:explicit") in ("true", "false")
    assert text("itunes:author")
    assert text("itunes:owner/itunes:email") == "endringspodden@example.org"
    assert text("itunes:type") == "episodic"
    assert text("podcast:guid") == "f7c7f539-9b73-52e2-a93f-fd842bcfb76b"
    assert text("podcast:locked") == "yes"
    # lastBuildDate comes from the content, not the clock: the newest episode's pubDate.
    assert text("lastBuildDate") == "Thu, 20 Apr 2017 07:00:00 +0200"

    for item in channel.findall("item"):
        assert text("title", item)
        guid = one("guid", item)
        assert guid.get("isPermaLink") == "false"
        enclosure = one("enclosure", item)
        assert enclosure.get("type") == "audio/mpeg" and int(attr("enclosure", "length", item)) > 0
        assert email.utils.parsedate_to_datetime(text("pubDate", item)).tzinfo
        assert text("itunes:duration", item).isdigit()
        assert text("itunes:episodeType", item) == "full"
        assert text("itunes:explicit", item) == "false"
        assert int(text("itunes:episode", item)) > 0
        assert text("podcast:episode", item) == text("itunes:episode", item)
        chapters = one("podcast:chapters", item)
        assert chapters.get("type") == "application/json+chapters"
        assert attr("podcast:chapters", "url", item).startswith("https://")


def test_guest_is_a_podcast_person(feeds: Path) -> None:
    root = etree.parse(str(feeds / "podcast.xml")).getroot()
    people = root.findall("channel/item/podcast:person", NS)
    assert [(p.text, p.get("role"), p.get("group")) for p in people] == [
        ("Svein Kristensen", "guest", "cast")
    ]
    # A guest of one segment: named in that segment's item, not in the other segment's.
    for kind, named in (("endringspraten", ["Svein Kristensen"]), ("endringsnemda", [])):
        items = etree.parse(str(feeds / f"{kind}.xml")).getroot().findall("channel/item", NS)
        (item,) = [i for i in items if "digital-transformasjon" in etree.tostring(i).decode()]
        assert [p.text for p in item.findall("podcast:person", NS)] == named, kind


def test_chapters_list_both_segments_in_order(feeds: Path) -> None:
    for episode_id, start in (("hva-er-endringsledelse", 11), ("digital-transformasjon", 10)):
        document = json.loads((feeds / "chapters" / f"{episode_id}.json").read_text("utf-8"))
        assert document["version"] == "1.2.0"
        titles = [c["title"] for c in document["chapters"]]
        assert [t.split(":")[0] for t in titles] == ["Endringspraten", "Endringsnemda"]
        assert [c["startTime"] for c in document["chapters"]] == [0, start]
    with (feeds / "podcast.xml").open("rb") as f:
        parsed = podcastparser.parse(FEED_URL, f)
    for entry in parsed["episodes"]:
        assert [c["title"].split(":")[0] for c in entry["chapters"]] == [
            "Endringspraten",
            "Endringsnemda",
        ]
        assert entry["chapters"][0]["start"] == 0 < entry["chapters"][1]["start"]


def test_show_notes_are_html_in_content_encoded(feeds: Path) -> None:
    parsed = feedparser.parse(feeds / "podcast.xml")
    html = parsed.entries[0].content[0].value
    assert "<strong>Svein Kristensen</strong>" in html
    assert "<ul>" in html


def test_second_build_is_identical_and_writes_nothing(
    project: Path, castcal: Callable[..., Run]
) -> None:
    from tests.conftest import snapshot

    first = castcal("build", "--config", project / "config.toml")
    assert first.exit_code == 0
    before = snapshot(project / "feeds")
    second = castcal("build", "--config", project / "config.toml")
    assert second.exit_code == 0
    assert "0 files written" in second.stdout
    assert snapshot(project / "feeds") == before


def test_sources_are_never_modified(project: Path, castcal: Callable[..., Run]) -> None:
    from tests.conftest import snapshot

    before = snapshot(project / "episodes")
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    assert snapshot(project / "episodes") == before


def test_published_files_are_readable_by_a_web_server(feeds: Path) -> None:
    for path in feeds.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert path.stat().st_mode & 0o004, path


MARKUP = '<img src=x onerror=alert(1)> <b>fet</b> & "sitat" &amp; <script>alert(1)</script>'


def set_text(path: Path, dotted: str, value: str) -> None:
    """One text field of a TOML file set (``podcast.description``)."""
    data = tomllib.loads(path.read_text("utf-8"))
    *parents, last = dotted.split(".")
    table: Any = data
    for key in parents:
        table = table[key]
    table[last] = value
    path.write_text(tomli_w.dumps(data), "utf-8")


def shown(description: str) -> str:
    """What an app that reads a description as HTML shows: its text; it has no element."""
    fragment = html5lib.parseFragment(description)
    assert len(fragment) == 0, description
    return fragment.text or ""


def test_plain_text_with_markup_is_shown_as_text(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Apps read an RSS description as HTML: what an editor writes as plain text (a summary,
    the show's and the segments' descriptions) is shown as written, never run as markup."""
    config = project / "config.toml"
    for field in ("podcast.description", "podcast.segments.endringsnemda.description"):
        set_text(config, field, f"{field}: {MARKUP}")
    set_text(project / "episodes/hva-er-endringsledelse/episode.toml", "summary", MARKUP)
    assert castcal("build", "--config", config).exit_code == 0
    feeds = project / "feeds"
    for name, about in (
        ("podcast.xml", "podcast.description"),
        ("endringsnemda.xml", "podcast.segments.endringsnemda.description"),
    ):
        data = (feeds / name).read_bytes()
        assert b"&amp;lt;img" in data and b"&lt;img" not in data  # escaped twice: XML, HTML
        channel = etree.fromstring(data).find("channel")
        assert channel is not None
        assert shown(channel.findtext("description") or "") == f"{about}: {MARKUP}"
        items = [
            i
            for i in channel.iter("item")
            if i.findtext("link", "").endswith("/hva-er-endringsledelse.html")
        ]
        # the summary as written, after the chapter timestamps in the episode's item; in
        # a segment's, the segment kind's description (the segment has no summary)
        said = MARKUP if name == "podcast.xml" else f"{about}: {MARKUP}"
        shows = [shown(i.findtext("description") or "") for i in items]
        assert shows and all(said in text for text in shows)
        parsed = feedparser.parse(data)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert shown(parsed.feed.subtitle) == f"{about}: {MARKUP}"
        summaries = [
            e.summary for e in parsed.entries if e.link.endswith("/hva-er-endringsledelse.html")
        ]
        assert summaries and all(said in shown(s) for s in summaries)
    notes = feedparser.parse(feeds / "podcast.xml").entries[-1].content[0].value
    assert "<p>" in notes  # the show notes stay HTML


def test_show_notes_of_one_megabyte_are_published(project: Path) -> None:
    """The most castcal takes (1,000,000 bytes; one byte more is refused, see
    tests/data/invalid/notes-too-large) is one text node libxml2 reads."""
    grow(project / "episodes/hva-er-endringsledelse/notes.md", NOTES_LIMIT)
    root = etree.fromstring(main_feed(load(project / "config.toml")))
    (item,) = [
        i
        for i in root.iter("item")
        if i.findtext("link", "").endswith("/hva-er-endringsledelse.html")
    ]
    assert len(item.findtext(f"{{{NS['content']}}}encoded") or "") > NOTES_LIMIT
