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
from lxml import etree
from lxml import html as lxml_html

from tests.conftest import Run

BASE = "https://www.example.org/endringspodden/"
ALLOWED_HOSTS = ("calendar.google.com", "outlook.office.com", "outlook.live.com")


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
    statement = "https://www.example.org/tilgjengelighetserklaering"
    for href in tree.xpath("//a/@href"):
        if "://" not in href:
            assert not href.startswith("//")
            continue
        scheme, host = urlsplit(href).scheme, urlsplit(href).hostname
        assert (
            href.startswith(BASE)
            or href in (registration, statement)
            or scheme in ("webcal", "podcast")
            or host in ALLOWED_HOSTS
        ), href


def test_page_lists_every_episode_and_meeting(feeds: Path) -> None:
    tree: Any = lxml_html.fromstring((feeds / "index.html").read_bytes())
    text = tree.text_content()
    for title in ("Digital transformasjon som driver for endring", "Hva er endringsledelse?"):
        assert title in text
    headings = [h.text_content().strip() for h in tree.xpath("//article/h4")]
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
    """The meeting ahead offers all four ways into a calendar, with its UTC times; the
    cancelled one says so and offers none."""
    tree: Any = lxml_html.fromstring((feeds / "index.html").read_bytes())
    article = "//article[@id='2027-01-20-endring-og-medvirkning']"
    (google,) = [h for h in tree.xpath(f"{article}//a/@href") if "calendar.google.com" in h]
    query = parse_qs(urlsplit(google).query)
    assert query["dates"] == ["20270120T070000Z/20270120T083000Z"]
    assert query["ctz"] == ["Europe/Oslo"]
    outlook = tree.xpath(f"{article}//a[contains(@href, 'outlook')]/@href")
    assert sorted(urlsplit(h).hostname for h in outlook) == [
        "outlook.live.com",
        "outlook.office.com",
    ]
    for href in outlook:
        assert urlsplit(href).path == "/calendar/deeplink/compose"
        query = parse_qs(urlsplit(href).query)
        assert query["path"] == ["/calendar/action/compose"] and query["rru"] == ["addevent"]
        assert query["startdt"] == ["2027-01-20T07:00:00Z"]
        assert query["enddt"] == ["2027-01-20T08:30:00Z"]
        assert query["subject"] == ["Endring til frokost: medvirkning når organisasjonen endres"]
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
    # One alternate, the meeting's own page; the calendar file as related, with its type
    # (RFC 4287 4.1.1: no two alternates of one type; a link without rel is an alternate).
    atom = "{http://www.w3.org/2005/Atom}"
    for entry in etree.parse(feeds / "frokost.atom").iter(f"{atom}entry"):
        links = [dict(link.attrib) for link in entry.iter(f"{atom}link")]
        assert [(link.get("rel"), link.get("type")) for link in links] == [
            ("alternate", "text/html"),
            ("related", "text/calendar"),
        ]
        page, calendar = (link["href"].removeprefix(BASE) for link in links)
        assert page.startswith("moter/") and (feeds / page).is_file()
        assert calendar.startswith("events/") and (feeds / calendar).is_file()
    assert [e.link.removeprefix(BASE) for e in parsed.entries][-1] == (
        "moter/2017-03-03-endringsledelse-i-praksis.html"
    )


def test_feed_items_link_to_the_page(feeds: Path) -> None:
    """Each item of every feed links the episode's own page, which the build wrote."""
    parsed = feedparser.parse(feeds / "podcast.xml")
    assert [e.link for e in parsed.entries] == [
        f"{BASE}episoder/digital-transformasjon.html",
        f"{BASE}episoder/hva-er-endringsledelse.html",
    ]
    for name in ("podcast.xml", "endringspraten.xml", "endringsnemda.xml"):
        entries = feedparser.parse(feeds / name).entries
        assert entries
        for entry in entries:
            assert entry.link.startswith(BASE), entry.link
            assert (feeds / entry.link.removeprefix(BASE)).is_file(), entry.link


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


TRANSCRIPT = """WEBVTT

NOTE written for the test

1
00:00:00.000 --> 00:00:04.000
<v Kari Nordmann>Velkommen til Difis endringspodd.</v>

2
00:00:04.000 --> 00:00:08.500 align:start
<v Kari Nordmann>I dag spør vi:
hva er endringsledelse?

00:00:08.500 --> 00:00:11.000
<v.loud Ola Hansen>Det er et <i>godt</i> spørsmål &amp; et vanskelig et.</v>

00:00:11.000 --> 00:00:14.000
<v Kari Nordmann>Over til endringsnemda.
"""
CUES = [
    ("0:00", "Kari Nordmann", "Velkommen til Difis endringspodd."),
    ("0:04", None, "I dag spør vi: hva er endringsledelse?"),
    ("0:08", "Ola Hansen", "Det er et godt spørsmål & et vanskelig et."),
    ("0:11", "Kari Nordmann", "Over til endringsnemda."),
]
MEETING = "2017-03-03-endringsledelse-i-praksis"


@pytest.fixture
def site(project: Path, castcal: Callable[..., Run]) -> Path:
    """The sample with the test's transcript for episode 1, which records the first
    meeting."""
    folder = project / "episodes/hva-er-endringsledelse"
    (folder / "transcript.vtt").write_text(TRANSCRIPT, encoding="utf-8")
    toml = folder / "episode.toml"
    extra = f'meeting = "{MEETING}"\n'  # the sample names transcript.vtt already
    toml.write_text(
        toml.read_text().replace('notes = "notes.md"\n', f'notes = "notes.md"\n{extra}')
    )
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return project / "feeds"


def pages(feeds: Path) -> list[Path]:
    return sorted(feeds.rglob("*.html"))


def tree_of(path: Path) -> Any:
    return lxml_html.fromstring(path.read_bytes())


def test_every_page_is_written_and_parses(site: Path) -> None:
    names = [p.relative_to(site).as_posix() for p in pages(site)]
    assert names == [
        "episoder/digital-transformasjon.html",
        "episoder/hva-er-endringsledelse.html",
        "index.html",
        "moter/2017-03-03-endringsledelse-i-praksis.html",
        "moter/2017-05-24-ny-digital-hverdag.html",
        "moter/2026-12-09-et-aar-med-endringsledelse.html",
        "moter/2027-01-20-endring-og-medvirkning.html",
    ]
    for path in pages(site):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        parser.parse(path.read_bytes())
        assert not parser.errors, path
        tree = tree_of(path)
        assert tree.get("lang") == "nb"
        assert not tree.xpath("//link[@rel='stylesheet']") and not tree.xpath("//script[@src]")
        for src in tree.xpath("//@src"):
            assert "://" not in src and not src.startswith("//"), (path, src)
            assert (path.parent / src).resolve().is_file(), (path, src)
        (icon,) = tree.xpath("//link[@rel='icon']/@href")
        assert (path.parent / icon).resolve().is_file()
        for href in tree.xpath("//a/@href"):
            if "://" not in href and ":" not in href.split("/")[0] and not href.startswith("#"):
                target = (path.parent / href.split("#")[0]).resolve()
                assert target.is_file() or (target / "index.html").is_file(), (path, href)
        levels = [int(h.tag[1]) for h in tree.xpath("//h1|//h2|//h3|//h4|//h5|//h6")]
        assert levels[0] == 1 and levels.count(1) == 1, path
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)


def test_sharing_metadata(site: Path) -> None:
    page = site / "episoder/digital-transformasjon.html"
    tree = tree_of(page)
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.xpath("//meta")}
    assert tree.xpath("//link[@rel='canonical']/@href") == [
        f"{BASE}episoder/digital-transformasjon.html"
    ]
    assert meta["og:title"] == "Digital transformasjon som driver for endring"
    assert meta["og:type"] == "article"
    assert meta["og:description"].startswith("Gjest i endringspraten er Svein Kristensen")
    assert meta["description"] == meta["og:description"]
    assert meta["og:audio"] == f"{BASE}audio/digital-transformasjon.mp3"
    assert meta["og:image"].startswith(f"{BASE}images/cover-")
    assert (site / meta["og:image"].removeprefix(BASE)).is_file()
    for path in pages(site):
        tree = tree_of(path)
        (canonical,) = tree.xpath("//link[@rel='canonical']/@href")
        assert (site / (canonical.removeprefix(BASE) or "index.html")).resolve() == path.resolve()
        assert tree.xpath("//meta[@property='og:title']/@content")
        assert tree.xpath("//meta[@name='description']/@content")
        assert tree.xpath("//meta[@property='og:site_name']/@content") == ["Difis endringspodd"]
        assert tree.xpath("//meta[@property='og:image:alt']/@content") == [
            "Omslagsbilde for Difis endringspodd"
        ]
        # The series' name once: a meeting titled after it is not suffixed with it again.
        (title,) = tree.xpath("//title/text()")
        assert title.count("Endring til frokost") <= 1 and title.count("–") <= 1, title
    meeting = tree_of(site / "moter/2017-05-24-ny-digital-hverdag.html").xpath("//title/text()")
    assert meeting == [
        "Endring til frokost: ledelse og organisasjonsutvikling i en ny digital hverdag"
    ]


def test_episode_page_shows_the_transcript(site: Path) -> None:
    tree = tree_of(site / "episoder/hva-er-endringsledelse.html")
    cues = tree.xpath("//section[@aria-labelledby='transkripsjon']//div[@class='transcript']/p")
    seen = []
    for cue in cues:
        (time,) = cue.xpath("a[@data-seek]")
        speaker = cue.xpath("string(span[@class='speaker'])").removesuffix(":") or None
        text = cue.text_content().removeprefix(time.text_content()).strip()
        text = text.removeprefix(f"{speaker}:").strip() if speaker else text
        seen.append((time.text_content(), speaker, text))
        assert time.get("href").startswith("../audio/hva-er-endringsledelse.mp3#t=")
    assert seen == CUES
    seeks = [float(c.xpath("a/@data-seek")[0]) for c in cues]
    assert seeks == [0.0, 4.0, 8.5, 11.0]
    # the show notes' headings are below the page's own, and the segments are explained
    headings = [(h.tag, h.text_content()) for h in tree.xpath("//h1|//h2|//h3")]
    assert headings[0] == ("h1", "1. Hva er endringsledelse?")
    assert ("h3", "Endringspraten") in headings and ("h2", "Endringspraten") not in headings
    parts = tree.xpath("//section[@aria-labelledby='deler']//a[@data-seek]/@data-seek")
    assert parts == ["0.0", "11.0"]
    assert "Et panel drøfter konkrete saker" in tree.text_content()
    hrefs = tree.xpath("//a/@href")
    assert f"{BASE}endringsnemda.xml" in hrefs and f"{BASE}podcast.xml" in hrefs


def test_episode_page_names_its_people(site: Path) -> None:
    tree = tree_of(site / "episoder/digital-transformasjon.html")
    people = [li.text_content() for li in tree.xpath("//section[@aria-labelledby='folk']//li")]
    assert people == ["Svein Kristensen (gjest i Endringspraten)"]


def test_recording_and_meeting_link_each_other(site: Path) -> None:
    episode = "episoder/hva-er-endringsledelse.html"
    meeting = f"moter/{MEETING}.html"
    assert f"../{meeting}" in tree_of(site / episode).xpath("//main//a/@href")
    assert f"../{episode}" in tree_of(site / meeting).xpath("//main//a/@href")
    index = tree_of(site / "index.html")
    assert index.xpath(f"//article[@id='{MEETING}']//a[@href='{episode}']")
    assert not tree_of(site / "episoder/digital-transformasjon.html").xpath(
        "//a[contains(@href, 'moter/')]"
    )


def calendar_links(tree: Any) -> list[str]:
    """Links that register for or add a meeting to a calendar (not the series' own)."""
    registration = f"{BASE}frokost/pamelding"
    return [
        h
        for h in tree.xpath(".//a/@href")
        if h == registration
        or "calendar.google.com/calendar/render" in h
        or "/deeplink/compose" in h
        or (h.endswith(".ics") and "events/" in h)
    ]


def test_ended_meetings_offer_no_registration_or_calendar(site: Path) -> None:
    """At the build's time (September 2026) two meetings are held: their ids appear in no
    calendar link on any page; the one ahead has all of them; the cancelled none."""
    held = ("2017-03-03", "2017-05-24", "20170303", "20170524")
    ahead = "2027-01-20-endring-og-medvirkning"
    for path in pages(site):
        links = calendar_links(tree_of(path))
        assert not [h for h in links if any(day in h for day in held)], path
    for name in ("2017-03-03-endringsledelse-i-praksis", "2017-05-24-ny-digital-hverdag"):
        tree = tree_of(site / f"moter/{name}.html")
        assert calendar_links(tree) == [] and "Møtet er holdt." in tree.text_content()
    cancelled = tree_of(site / "moter/2026-12-09-et-aar-med-endringsledelse.html")
    assert calendar_links(cancelled) == []
    assert "Møtet er avlyst." in cancelled.text_content()
    tree = tree_of(site / f"moter/{ahead}.html")
    links = calendar_links(tree)
    hosts = sorted(urlsplit(h).hostname or "" for h in links)
    assert hosts == [
        "",
        "calendar.google.com",
        "outlook.live.com",
        "outlook.office.com",
        "www.example.org",  # the registration
    ]
    assert f"../events/{ahead}.ics" in links and (site / f"events/{ahead}.ics").is_file()
    for href in links:
        if "outlook" in href:
            query = parse_qs(urlsplit(href).query)
            assert (query["startdt"], query["enddt"]) == (
                ["2027-01-20T07:00:00Z"],
                ["2027-01-20T08:30:00Z"],
            )
    index = tree_of(site / "index.html")
    (highlight,) = index.xpath("//section[@class='next']")
    assert highlight.xpath(f".//a[@href='moter/{ahead}.html']")
    assert len(calendar_links(highlight)) == 5  # registration and all four
    assert "2026-12-09" not in highlight.text_content()


def test_meetings_and_pages_move_with_the_build_time(
    site: Path, project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built again after the meeting ahead has ended, its page drops the links."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # 2027-01-15: still ahead
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    page = site / "moter/2027-01-20-endring-og-medvirkning.html"
    assert calendar_links(tree_of(page))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1810000000")  # May 2027: held
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    assert calendar_links(tree_of(page)) == []
    for path in pages(site):
        assert calendar_links(tree_of(path)) == [], path
    assert not tree_of(site / "index.html").xpath("//section[@class='next']")


def test_archive_lists_every_episode(site: Path) -> None:
    tree = tree_of(site / "index.html")
    archive = tree.xpath("//ul[@class='archive']/li/a/@href")
    assert archive == [
        "episoder/digital-transformasjon.html",
        "episoder/hva-er-endringsledelse.html",
    ]
    segments = [dt.text_content() for dt in tree.xpath("//section[@aria-labelledby='deler']//dt")]
    assert segments == ["Endringspraten", "Endringsnemda"]


def test_every_page_links_the_accessibility_statement(site: Path) -> None:
    statement = "https://www.example.org/tilgjengelighetserklaering"
    for path in pages(site):
        links = tree_of(path).xpath("//footer//a[text()='Tilgjengelighetserklæring']/@href")
        assert links == [statement], path


def test_what_universal_design_needs_of_the_editor_is_warned_of(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """No transcript (WCAG 1.2.1) and no accessibility statement: a warning each, naming
    the file and field; --strict fails; the pages link no statement."""
    config = project / "config.toml"
    config.write_text(
        "\n".join(
            line
            for line in config.read_text().splitlines()
            if not line.startswith("accessibility_statement")
        )
        + "\n"
    )
    episode = project / "episodes/digital-transformasjon/episode.toml"
    episode.write_text(episode.read_text().replace('transcript = "transcript.vtt"\n', ""))
    result = castcal("build", "--config", config)
    assert result.exit_code == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "transcript" in line]
    assert len(warned) == 1 and warned[0].startswith(
        "warning: episodes/digital-transformasjon/episode.toml: transcript: none:"
    ), result.stderr
    assert "WCAG 2.1 1.2.1" in warned[0]
    assert "config.toml: site.accessibility_statement: not set:" in result.stderr
    assert "uustatus.no" in result.stderr
    for path in pages(project / "feeds"):
        assert "Tilgjengelighetserklæring" not in path.read_text(), path
    strict = castcal("build", "--config", config, "--strict")
    assert strict.exit_code == 1
    assert "episodes/digital-transformasjon/episode.toml: transcript:" in strict.stderr
