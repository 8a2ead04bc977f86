"""Segment feeds read as shows of their own: each item titled, described and
transcribed for its own part of the episode."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
import webvtt
from lxml import etree
from mutagen.id3 import ID3

from tests.conftest import Run
from tests.test_segments import KINDS, build

PODCAST = "https://podcastindex.org/namespace/1.0"


@pytest.fixture
def feeds(project: Path, castcal: Callable[..., Run]) -> Path:
    assert build(project, castcal).exit_code == 0
    return project / "feeds"


TRANSCRIPT = """WEBVTT

NOTE Hele episoden

1
00:00:00.000 --> 00:00:05.000
<v Anne>Velkommen til endringspraten.

2
00:00:05.000 --> 00:00:10.500
<v Svein>Hva er endringsledelse?

3
00:10.500 --> 00:12.000 align:start
<v Anne>Over til nemda.

4
00:00:11.000 --> 00:00:14.250
<v Kari>Vi har fått et brev.

5
00:00:14.250 --> 00:00:19.000
<v Ola>La oss lese det.
"""


def add_transcript(project: Path) -> None:
    """The test's transcript in place of the sample's (episode.toml names it already)."""
    (project / "episodes/hva-er-endringsledelse/transcript.vtt").write_text(TRANSCRIPT, "utf-8")


def cues(path: Path) -> list[tuple[str, str, str | None, str]]:
    return [(c.start, c.end, c.voice, c.text) for c in webvtt.read(str(path)).captions]


def transcripts(feed: Path) -> dict[str, tuple[str, str]]:
    """Each item's podcast:transcript (URL, type) by episode id, read with lxml."""
    found = {}
    for item in etree.parse(feed).iterfind("channel/item"):
        tag = item.find(f"{{{PODCAST}}}transcript")
        if tag is not None:
            episode = item.findtext("link", "").rsplit("/", 1)[-1].removesuffix(".html")
            found[episode.rsplit("#", 1)[-1]] = (tag.get("url", ""), tag.get("type", ""))
    return found


def items(feeds: Path, kind: str) -> dict[str, feedparser.FeedParserDict]:
    """The items of a segment feed by episode id (from their enclosures)."""
    entries = feedparser.parse(feeds / f"{kind}.xml").entries
    return {e.enclosures[0].href.rsplit("/", 1)[1].removesuffix(f"-{kind}.mp3"): e for e in entries}


def test_segment_items_read_as_shows_of_their_own(feeds: Path) -> None:
    whole = feedparser.parse(feeds / "podcast.xml").entries
    for kind in KINDS:
        for entry in items(feeds, kind).values():
            assert ":" not in entry.title
            assert "content" not in entry  # not the whole episode's show notes
            assert entry.summary not in {e.summary for e in whole}
    assert items(feeds, "endringsnemda")["digital-transformasjon"].title == (
        "Ny digital tjeneste, hele avdelingen med"
    )
    nemda = items(feeds, "endringsnemda")["hva-er-endringsledelse"]
    assert nemda.summary == (
        "Et panel drøfter konkrete saker som lytterne har sendt inn.\n\n"
        "Fra episoden «Hva er endringsledelse?»."
    )


def test_a_segment_without_a_title_is_named_by_its_episode_and_kind(
    project: Path, castcal: Callable[..., Run]
) -> None:
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(
        toml.read_text().replace('title = "Omorganisering med bekymrede medarbeidere"\n', "")
    )
    assert build(project, castcal).exit_code == 0
    nemda = items(project / "feeds", "endringsnemda")["hva-er-endringsledelse"]
    assert nemda.title == "Hva er endringsledelse? (Endringsnemda)"
    tags = ID3(project / "feeds/audio/hva-er-endringsledelse-endringsnemda.mp3")  # type: ignore[no-untyped-call]
    assert str(tags["TIT2"]) == "Hva er endringsledelse? (Endringsnemda)"


def test_a_segment_summary_is_its_items_description(
    project: Path, castcal: Callable[..., Run]
) -> None:
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    summary = "Panelet svarer en leder som skal omorganisere & berolige."
    toml.write_text(
        toml.read_text().replace('start = "0:11"', f'start = "0:11"\nsummary = "{summary}"')
    )
    assert build(project, castcal).exit_code == 0
    feeds = project / "feeds"
    description = items(feeds, "endringsnemda")["hva-er-endringsledelse"].summary
    assert html.unescape(description) == summary
    praten = items(feeds, "endringspraten")["hva-er-endringsledelse"]
    assert summary not in praten.summary and praten.summary.startswith("En samtale om")


def test_each_segment_item_carries_its_own_cut_of_the_transcript(
    project: Path, castcal: Callable[..., Run]
) -> None:
    add_transcript(project)
    other = project / "episodes/digital-transformasjon/episode.toml"
    other.write_text(other.read_text().replace('transcript = "transcript.vtt"\n', ""))
    assert build(project, castcal).exit_code == 0
    feeds = project / "feeds"
    base = "https://www.example.org/endringspodden/transcripts/"
    expected = {
        "endringspraten": [
            ("00:00:00.000", "00:00:05.000", "Anne", "Velkommen til endringspraten."),
            ("00:00:05.000", "00:00:10.500", "Svein", "Hva er endringsledelse?"),
            ("00:00:10.500", "00:00:11.000", "Anne", "Over til nemda."),
        ],
        "endringsnemda": [
            ("00:00:00.000", "00:00:03.250", "Kari", "Vi har fått et brev."),
            ("00:00:03.250", "00:00:08.000", "Ola", "La oss lese det."),
        ],
    }
    for kind, wanted in expected.items():
        path = feeds / "transcripts" / f"hva-er-endringsledelse-{kind}.vtt"
        assert cues(path) == wanted
        assert "NOTE" not in path.read_text("utf-8")
        assert transcripts(feeds / f"{kind}.xml") == {
            "hva-er-endringsledelse": (f"{base}hva-er-endringsledelse-{kind}.vtt", "text/vtt")
        }  # the other episode has no transcript
    assert (
        "align:start"
        in (feeds / "transcripts/hva-er-endringsledelse-endringspraten.vtt").read_text()
    )
    assert cues(feeds / "transcripts/hva-er-endringsledelse.vtt")[3][0] == "00:00:11.000"
