"""Odd but valid inputs publish exactly as their plain forms do: TOML files saved with a
UTF-8 byte-order mark, the edges of what the checks allow (a refresh of 15 minutes, a
zone other than Oslo's, a PNG cover of Apple's largest size)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import feedparser
import icalendar
from PIL import Image

from tests.conftest import Run, snapshot

BOM = b"\xef\xbb\xbf"
EVENT = "events/2027-01-20-endring-og-medvirkning.toml"
EPISODE = "episodes/hva-er-endringsledelse/episode.toml"


def build(project: Path, castcal: Callable[..., Run]) -> Path:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    return project / "feeds"


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def series(feeds: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical((feeds / "frokost.ics").read_bytes())


def test_toml_with_a_byte_order_mark_publishes_as_without(
    project: Path, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    plain = build(project, castcal)
    marked = project.parent / "marked"
    marked.mkdir()
    for name in ("config.toml", "cover.jpg", "episodes", "events"):
        (project / name).rename(marked / name)
    for name in ("config.toml", EVENT, EPISODE):
        path = marked / name
        path.write_bytes(BOM + path.read_bytes())

    feeds = build(marked, castcal)

    parsed = feedparser.parse((feeds / "podcast.xml").read_bytes())
    assert parsed.feed.title == "Difis endringspodd"
    assert "Hva er endringsledelse?" in [e.title for e in parsed.entries]
    summaries = {str(e["summary"]) for e in series(feeds).walk("VEVENT")}
    assert "Endring til frokost: medvirkning når organisasjonen endres" in summaries
    assert str(series(feeds)["X-WR-CALNAME"]) == "Endring til frokost"
    # Byte for byte what the same content without the marks gave.
    mine = {name: digest for name, (digest, _) in snapshot(feeds).items()}
    theirs = {name: digest for name, (digest, _) in snapshot(plain).items()}
    assert mine == theirs


def test_refresh_of_fifteen_minutes_is_the_shortest_allowed(
    project: Path, castcal: Callable[..., Run]
) -> None:
    edit(project, "config.toml", 'refresh = "PT12H"', 'refresh = "PT15M"')
    feeds = build(project, castcal)
    ics = (feeds / "frokost.ics").read_bytes().decode("utf-8")
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in ics
    assert "X-PUBLISHED-TTL:PT15M\r\n" in ics


def test_a_zone_with_three_parts_is_an_iana_name(
    project: Path, castcal: Callable[..., Run]
) -> None:
    zone = "America/Indiana/Indianapolis"  # the same clock rules every year since 2007
    edit(project, "config.toml", 'timezone = "Europe/Oslo"', f'timezone = "{zone}"')
    feeds = build(project, castcal)
    assert str(series(feeds)["X-WR-TIMEZONE"]) == zone


def test_a_png_cover_of_the_largest_size_is_decoded_and_published(
    project: Path, castcal: Callable[..., Run]
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 3000), (30, 90, 160)).save(buffer, "PNG")
    (project / "cover.png").write_bytes(buffer.getvalue())
    edit(project, "config.toml", 'image = "cover.jpg"', 'image = "cover.png"')
    feeds = build(project, castcal)
    parsed = feedparser.parse((feeds / "podcast.xml").read_bytes())
    assert parsed.feed.image.href.endswith(".png")
