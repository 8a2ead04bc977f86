"""The show page and the meetings' Atom feed, read as files."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import html5lib
import pytest
from lxml import html as lxml_html

from tests.conftest import Run

BASE = "https://www.example.org/endringspodden/"
ALLOWED_HOSTS = ("calendar.google.com", "outlook.office.com")


@pytest.fixture
def feeds(project: Path, castcal: Callable[..., Run]) -> Path:
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    return project / "feeds"


def test_page_parses_without_errors(feeds: Path) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse((feeds / "index.html").read_bytes())
    assert not parser.errors


def test_page_is_self_contained(feeds: Path, project: Path) -> None:
    tree: Any = lxml_html.fromstring((feeds / "index.html").read_bytes())
    assert tree.get("lang") == "nb"
    for element in tree.iter():
        for attribute in ("src", "srcset", "data"):
            value = element.get(attribute)
            if value is not None:
                assert "://" not in value and not value.startswith("//"), (element.tag, value)
    assert not tree.xpath("//link[@rel='stylesheet']") and not tree.xpath("//script[@src]")
    registration = "https://www.example.org/endringspodden/frokost/pamelding"
    for href in tree.xpath("//a/@href"):
        if "://" not in href:
            assert not href.startswith("//")
            continue
        scheme, host = urlsplit(href).scheme, urlsplit(href).hostname
        assert (
            href.startswith(BASE)
            or href == registration
            or scheme in ("webcal", "podcast")
            or host in ALLOWED_HOSTS
        ), href


def test_page_lists_every_episode_and_meeting(feeds: Path) -> None:
    tree: Any = lxml_html.fromstring((feeds / "index.html").read_bytes())
    text = tree.text_content()
    for title in ("Digital transformasjon som driver for endring", "Hva er endringsledelse?"):
        assert title in text
    headings = [h.text_content().strip() for h in tree.xpath("//h4")]
    # build time (SOURCE_DATE_EPOCH) is September 2026: two meetings ahead, two behind
    assert headings == [
        "Endring til frokost: et år med endringsledelse Avlyst",
        "Endring til frokost: medvirkning når organisasjonen endres",
        "Endring til frokost: ledelse og organisasjonsutvikling i en ny digital hverdag",
        "Endring til frokost: endringsledelse i praksis",
    ]
    levels = [int(h.tag[1]) for h in tree.xpath("//h1|//h2|//h3|//h4")]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(levels))
    audio = tree.xpath("//audio")
    assert len(audio) == 2 and all(a.get("preload") == "metadata" for a in audio)
    assert all(a.get("aria-label") for a in audio)
    seek = tree.xpath("//a[@data-seek]")
    assert [a.get("data-seek") for a in seek] == ["0.0", "10.0", "0.0", "11.0"]


def test_add_to_calendar_links(feeds: Path) -> None:
    tree: Any = lxml_html.fromstring((feeds / "index.html").read_bytes())
    (google,) = [
        a.get("href")
        for a in tree.xpath("//article[@id='2017-03-03-endringsledelse-i-praksis']//a")
        if "calendar.google.com" in a.get("href")
    ]
    query = parse_qs(urlsplit(google).query)
    assert query["dates"] == ["20170303T070000Z/20170303T083000Z"]
    assert query["ctz"] == ["Europe/Oslo"]
    assert "Karine Rikheim" in query["details"][0]
    (outlook,) = tree.xpath(
        "//article[@id='2017-03-03-endringsledelse-i-praksis']//a[contains(@href, 'outlook')]/@href"
    )
    query = parse_qs(urlsplit(outlook).query)
    assert query["startdt"] == ["2017-03-03T07:00:00Z"] and query["enddt"] == [
        "2017-03-03T08:30:00Z"
    ]
    assert query["rru"] == ["addevent"]
    cancelled = tree.xpath("//article[@class='cancelled']")
    assert len(cancelled) == 1 and "Avlyst" in cancelled[0].text_content()
    assert not [a for a in cancelled[0].xpath(".//a/@href") if "google" in a or "outlook" in a]
    hrefs = tree.xpath("//a/@href")
    assert "webcal://www.example.org/endringspodden/frokost.ics" in hrefs
    assert f"{BASE}frokost.ics" in hrefs
    assert f"{BASE}endringsnemda.xml" in hrefs and f"{BASE}endringspraten.xml" in hrefs


def test_atom_feed_lists_every_meeting(feeds: Path) -> None:
    parsed = feedparser.parse(feeds / "frokost.atom")
    assert not parsed.bozo
    assert parsed.feed.title == "Endring til frokost"
    titles = [e.title for e in parsed.entries]
    assert len(titles) == 4 and "AVLYST: Endring til frokost: et år med endringsledelse" in titles
    assert all(e.id.startswith("urn:uuid:") for e in parsed.entries)


def test_feed_items_link_to_the_page(feeds: Path) -> None:
    parsed = feedparser.parse(feeds / "podcast.xml")
    assert [e.link for e in parsed.entries] == [
        f"{BASE}#digital-transformasjon",
        f"{BASE}#hva-er-endringsledelse",
    ]


def test_page_without_calendar_or_upcoming_meetings(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """The lists of the page are filled in around its frame: with no calendar there is
    no meetings section, with no meeting ahead it says so, and nothing else is left."""
    config = project / "config.toml"
    with_calendar = config.read_text()
    for event in (project / "events").glob("2026-*.toml"):
        event.unlink()
    for event in (project / "events").glob("2027-*.toml"):
        event.unlink()
    assert castcal("build", "--config", config).exit_code == 0
    page = (project / "feeds/index.html").read_text()
    assert "Ingen kommende møter er kunngjort." in page
    assert page.count("<article") == 2 + 2  # the episodes and the two meetings held
    assert "\x00" not in page

    start = with_calendar.index("[calendar]")
    end = with_calendar.find("\n[", start)
    config.write_text(with_calendar[:start] + (with_calendar[end:] if end >= 0 else ""))
    for event in (project / "events").iterdir():
        event.unlink()
    result = castcal("build", "--config", config, "--allow-removal")
    assert result.exit_code == 0, result.stderr
    page = (project / "feeds/index.html").read_text()
    assert "Endring til frokost" not in page and "møter" not in page
    assert "\x00" not in page
    assert page.count('id="hva-er-endringsledelse"') == 1
