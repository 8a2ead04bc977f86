"""`castcal serve` over HTTP: what a static host must get right for podcast apps and
calendar clients."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import castcal_serve


@pytest.fixture
def served(project: Path) -> Iterator[tuple[str, Path]]:
    with castcal_serve(project) as url:
        yield url, project / "feeds"


def test_content_types(served: tuple[str, Path]) -> None:
    url, _ = served
    expected = {
        "podcast.xml": "application/rss+xml; charset=utf-8",
        "endringsnemda.xml": "application/rss+xml; charset=utf-8",
        "frokost.ics": "text/calendar; charset=utf-8",
        "events/2017-03-03-endringsledelse-i-praksis.ics": "text/calendar; charset=utf-8",
        "chapters/hva-er-endringsledelse.json": "application/json+chapters",
        "manifest.json": "application/json",
        "frokost.atom": "application/atom+xml; charset=utf-8",
        "": "text/html; charset=utf-8",
        "audio/hva-er-endringsledelse.mp3": "audio/mpeg",
    }
    for path, content_type in expected.items():
        response = httpx.get(url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == content_type, path


def test_conditional_requests(served: tuple[str, Path]) -> None:
    url, feeds = served
    first = httpx.get(url + "podcast.xml")
    assert first.content == (feeds / "podcast.xml").read_bytes()
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = httpx.get(url + "podcast.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = httpx.get(url + "podcast.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    stale = httpx.get(url + "podcast.xml", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_byte_ranges_and_head(served: tuple[str, Path]) -> None:
    url, feeds = served
    audio = (feeds / "audio/hva-er-endringsledelse.mp3").read_bytes()
    part = httpx.get(url + "audio/hva-er-endringsledelse.mp3", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == audio[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(audio)}"
    tail = httpx.get(url + "audio/hva-er-endringsledelse.mp3", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == audio[-10:]
    whole = httpx.get(url + "audio/hva-er-endringsledelse.mp3", headers={"Range": "bytes=0-"})
    assert whole.status_code == 206 and whole.content == audio
    beyond = httpx.get(
        url + "audio/hva-er-endringsledelse.mp3", headers={"Range": f"bytes={len(audio)}-"}
    )
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(audio)}"
    head = httpx.head(url + "audio/hva-er-endringsledelse.mp3")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(audio)
    assert head.headers["accept-ranges"] == "bytes"


TRAVERSALS = [
    "/../config.toml",
    "/%2e%2e/config.toml",
    "/%2E%2E/%2E%2E/config.toml",
    "/audio/..%2f..%2fconfig.toml",
    "/audio/%2e%2e/%2e%2e/config.toml",
    "/..%5cconfig.toml",
    "/%2e%2e%5cconfig.toml",
    "/./../config.toml",
    "/.castcal.lock",
    "/link-out",
    "/audio/",
    "/%00config.toml",
]


def test_nothing_outside_the_folder_and_no_listings(served: tuple[str, Path]) -> None:
    url, feeds = served
    (feeds / "link-out").symlink_to(feeds.parent / "config.toml")
    secret = (feeds.parent / "config.toml").read_bytes()
    with httpx.Client() as client:
        for path in TRAVERSALS:
            raw = httpx.URL(url).copy_with(raw_path=path.encode())  # sent as written
            response = client.send(client.build_request("GET", raw))
            assert response.status_code in (400, 404), (path, response.status_code)
            assert b"[site]" not in response.content and secret not in response.content
    assert [p for p in (feeds / "audio").iterdir()]  # there was a folder to list, and it was not


def test_binds_to_loopback_by_default(project: Path) -> None:
    with castcal_serve(project) as url:
        assert url.startswith("http://127.0.0.1:")


def test_watch_rebuilds_when_content_changes(project: Path) -> None:
    with castcal_serve(project, "--watch") as url:
        toml = project / "episodes/hva-er-endringsledelse/episode.toml"
        toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "Hva er ledelse?" in httpx.get(url + "podcast.xml").text:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the feed was not rebuilt after the content changed")
