"""`castcal serve` over HTTP: what a static host must get right for podcast apps and
calendar clients."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.serving import castcal_serve, request_lines


@pytest.fixture
def served(project: Path) -> Iterator[tuple[str, Path]]:
    """The server and the preview folder it serves (given here as --out: inside the
    project, whose config.toml is what a path out of the folder would reach)."""
    with castcal_serve(project, "--out", str(project / "preview")) as url:
        yield url, project / "preview"


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


@pytest.fixture
def logged(project: Path, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """The server, its folder, and the file its stderr goes to."""
    log = tmp_path / "serve.log"
    with castcal_serve(project, "--out", str(project / "preview"), log=log) as url:
        yield url, project / "preview", log


def test_one_log_line_per_request(logged: tuple[str, Path, Path]) -> None:
    url, _, log = logged
    audio = url + "audio/hva-er-endringsledelse.mp3"
    with httpx.Client() as client:
        etag = client.get(url + "podcast.xml").headers["etag"]
        client.get(url + "podcast.xml", headers={"If-None-Match": etag})
        client.head(audio)
        client.get(audio, headers={"Range": "bytes=0-99"})
        client.get(url + "no-such-file.xml")
        client.get(url + "%2e%2e/config.toml")
        client.post(url + "podcast.xml")
        client.get(url + "frokost.ics?x=%1b[31m")
    lines = request_lines(log, 8)
    assert lines == [
        "GET /podcast.xml 200",
        "GET /podcast.xml 304",
        "HEAD /audio/hva-er-endringsledelse.mp3 200",
        "GET /audio/hva-er-endringsledelse.mp3 206",
        "GET /no-such-file.xml 404",
        "GET /%2e%2e/config.toml 400",
        "POST /podcast.xml 501",
        "GET /frokost.ics?x=%1b[31m 200",
    ]
    text = log.read_text()
    assert "Traceback" not in text and " - - [" not in text  # no http.server default log


def test_a_client_that_drops_the_connection_gets_one_line(
    logged: tuple[str, Path, Path],
) -> None:
    url, feeds, log = logged
    size = 32 << 20  # more than the socket buffers on both sides hold
    with (feeds / "audio/long.mp3").open("wb") as big:
        big.truncate(size)
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((host, port))
        client.sendall(b"GET /audio/long.mp3 HTTP/1.1\r\nHost: castcal\r\n\r\n")
        received = 0
        while received < 100_000:
            received += len(client.recv(65536))
    # closed with unread bytes: the server's next write fails
    lines = request_lines(log, 1)
    assert len(lines) == 1, lines
    assert lines[0].startswith("GET /audio/long.mp3 200 (the client closed the connection")
    assert lines[0].endswith(f"of {size} bytes)")
    assert httpx.get(url + "podcast.xml").status_code == 200  # and the server goes on
    assert len(request_lines(log, 2)) == 2
    assert "Traceback" not in log.read_text()


def test_a_range_in_another_unit_is_ignored(served: tuple[str, Path]) -> None:
    url, feeds = served
    audio = (feeds / "audio/hva-er-endringsledelse.mp3").read_bytes()
    path = url + "audio/hva-er-endringsledelse.mp3"
    for unit in ("items=0-5", "pages=1", "bytesx=0-5"):
        whole = httpx.get(path, headers={"Range": unit})
        assert whole.status_code == 200, unit
        assert whole.content == audio and "content-range" not in whole.headers
    upper = httpx.get(path, headers={"Range": "Bytes=0-5"})  # range units ignore case
    assert upper.status_code == 206 and upper.content == audio[:6]


def test_if_none_match_compares_weakly(served: tuple[str, Path]) -> None:
    url, _ = served
    etag = httpx.get(url + "podcast.xml").headers["etag"]
    assert etag.startswith('"')
    for header in (
        etag,
        f"W/{etag}",
        f'"other", W/{etag}',
        f'W/"other",{etag}',
        f'"a,b", {etag}',
        "*",
    ):
        response = httpx.get(url + "podcast.xml", headers={"If-None-Match": header})
        assert response.status_code == 304, header
    for header in ('"other"', 'W/"other", "more"', etag[:-1], f'"a,{etag[1:]}'):
        response = httpx.get(url + "podcast.xml", headers={"If-None-Match": header})
        assert response.status_code == 200, header
    missing = httpx.get(url + "nothing.xml", headers={"If-None-Match": "*"})
    assert missing.status_code == 404


def test_if_range_compares_strongly(served: tuple[str, Path]) -> None:
    url, _ = served
    path = url + "audio/hva-er-endringsledelse.mp3"
    etag = httpx.get(path).headers["etag"]
    strong = httpx.get(path, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert strong.status_code == 206
    weak = httpx.get(path, headers={"Range": "bytes=0-9", "If-Range": f"W/{etag}"})
    assert weak.status_code == 200 and "content-range" not in weak.headers


def reloads_seen(url: str, after: str) -> str:
    """What the reload endpoint answers, once it is other than ``after`` (or 20 s on)."""
    deadline = time.monotonic() + 20
    while True:
        now = httpx.get(url + "__castcal_reload").text
        if now != after or time.monotonic() > deadline:
            return now
        time.sleep(0.3)


def served_script(page: str) -> bytes:
    """The reload script as serve added it to ``page``."""
    start = page.rindex("<script>", 0, page.index("__castcal_reload"))
    return page[start : page.index("</script>", start) + len("</script>\n")].encode()


def test_watch_pages_reload_after_a_rebuild(project: Path) -> None:
    preview = project / "preview"
    with castcal_serve(project, "--watch", "--out", str(preview)) as url:
        page = httpx.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-store"
        assert page.text.count("__castcal_reload") == 1
        assert page.text.index("__castcal_reload") < page.text.rindex("</body>")
        assert int(page.headers["content-length"]) == len(page.content)
        built = (preview / "index.html").read_bytes()
        assert b"__castcal_reload" not in built
        assert page.content.replace(served_script(page.text), b"") == built
        assert httpx.get(url + "podcast.xml").content == (preview / "podcast.xml").read_bytes()
        before = httpx.get(url + "__castcal_reload")
        assert before.status_code == 200 and before.text == "0"
        toml = project / "episodes/hva-er-endringsledelse/episode.toml"
        toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
        assert reloads_seen(url, "0") == "1"
        assert "Hva er ledelse?" in (preview / "podcast.xml").read_text()
        assert 'var seen = "1"' in httpx.get(url).text
    assert b"__castcal_reload" not in (preview / "index.html").read_bytes()


def test_without_watch_pages_are_served_as_built(served: tuple[str, Path]) -> None:
    url, preview = served
    assert httpx.get(url).content == (preview / "index.html").read_bytes()
    assert httpx.get(url + "__castcal_reload").status_code == 404
