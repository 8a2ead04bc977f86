"""Remote enclosures probed over HTTP against a real server on 127.0.0.1, without
downloading them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from castcal.build.gather import Network
from castcal.build.pipeline import Request, build
from castcal.errors import ContentError
from castcal.media import remote
from tests.conftest import DATA, REPO, Run
from tests.http_server import Site, serve

AUDIO = DATA / "audio"
# Fifteen minutes of constant-bitrate MP3: the headerless CBR fixture's frames, repeated.
LONG_MP3 = (AUDIO / "cbr_noheader.mp3").read_bytes() * 300


@pytest.fixture
def site() -> Iterator[Site]:
    files = {p.name: p.read_bytes() for p in AUDIO.iterdir()}
    files["long.mp3"] = LONG_MP3
    files["episode.mp3"] = (REPO / "episodes/hva-er-endringsledelse/audio.mp3").read_bytes()
    with serve(Site(files=files)) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with remote.make_client(timeout=2.0) as made:
        yield made


def prober(
    client: httpx.Client,
    cache: dict[str, remote.CacheEntry] | None = None,
    *,
    offline: bool = False,
    attempts: int = 3,
) -> remote.Prober:
    return remote.Prober(client, cache, backoff=0.01, offline=offline, attempts=attempts)


def test_mp3_length_type_duration_and_few_bytes(site: Site, client: httpx.Client) -> None:
    p = prober(client)
    facts = p.probe(site.url("/files/long.mp3"))
    assert facts.length == len(LONG_MP3) and facts.mime == "audio/mpeg"
    assert abs(facts.duration - 300 * 3.056) < 1.0
    assert p.stats.bytes_read <= 128 * 1024 < len(LONG_MP3) // 20
    assert p.stats.requests <= 4


def test_m4a_with_index_at_the_end(site: Site, client: httpx.Client) -> None:
    size = (AUDIO / "long.m4a").stat().st_size
    p = prober(client)
    facts = p.probe(site.url("/files/long.m4a"))
    assert facts.length == size and facts.mime == "audio/x-m4a" and facts.extension == "m4a"
    assert abs(facts.duration - 120.0) < 1.0
    assert p.stats.bytes_read < size * 0.5


@pytest.mark.parametrize(
    ("name", "mime", "truth"),
    [
        ("cbr_info.mp3", "audio/mpeg", 3.0),
        ("vbr_xing.mp3", "audio/mpeg", 3.0),
        ("vbr_vbri.mp3", "audio/mpeg", 3.056),
        ("vbr_noheader.mp3", "audio/mpeg", 3.056),  # counted frame by frame
        ("speech.m4a", "audio/x-m4a", 3.0),
        ("speech.opus", "audio/opus", 3.0),
        ("speech.ogg", "audio/ogg", 3.0),
    ],
)
def test_every_format_remotely(
    site: Site, client: httpx.Client, name: str, mime: str, truth: float
) -> None:
    facts = prober(client).probe(site.url(f"/files/{name}"))
    assert facts.mime == mime and facts.length == (AUDIO / name).stat().st_size
    assert abs(facts.duration - truth) < 0.1


def test_redirect_chain_is_followed(site: Site, client: httpx.Client) -> None:
    facts = prober(client).probe(site.url("/redirect/3/long.mp3"))
    assert facts.length == len(LONG_MP3)
    assert len(site.requests("/redirect/")) >= 3


def test_head_refused_falls_back_to_a_range_request(site: Site, client: httpx.Client) -> None:
    facts = prober(client).probe(site.url("/nohead/long.mp3"))
    assert facts.length == len(LONG_MP3)
    assert any(r.headers.get("Range") == "bytes=0-0" for r in site.requests("/nohead/"))


def test_head_without_length_falls_back_to_a_range_request(
    site: Site, client: httpx.Client
) -> None:
    facts = prober(client).probe(site.url("/nolength/long.mp3"))
    assert facts.length == len(LONG_MP3)


def test_octet_stream_type_is_replaced_by_the_sniffed_one(site: Site, client: httpx.Client) -> None:
    assert prober(client).probe(site.url("/octet/speech.m4a")).mime == "audio/x-m4a"


def test_server_ignoring_range_is_cut_off_at_once(site: Site, client: httpx.Client) -> None:
    p = prober(client)
    with pytest.raises(remote.ProbeError, match="ignores Range requests"):
        p.probe(site.url("/norange/long.mp3"))
    assert p.stats.bytes_read == 0


@pytest.mark.parametrize(
    ("path", "message"), [("/status/404", "HTTP 404"), ("/status/500", "HTTP 500")]
)
def test_http_errors_name_the_url(
    site: Site, client: httpx.Client, path: str, message: str
) -> None:
    with pytest.raises(remote.ProbeError, match=message) as caught:
        prober(client).probe(site.url(path))
    assert site.url(path) in str(caught.value)


def test_server_errors_are_retried(site: Site, client: httpx.Client) -> None:
    with pytest.raises(remote.ProbeError, match="tried 3 times"):
        prober(client).probe(site.url("/status/503"))
    assert len(site.requests("/status/503")) == 3


def test_timeout(site: Site) -> None:
    with (
        remote.make_client(timeout=0.3) as quick,
        pytest.raises(remote.ProbeError, match="timed out"),
    ):
        prober(quick, attempts=2).probe(site.url("/slow/1500/long.mp3"))


def test_network_failure_with_mock_transport() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as failing,
        pytest.raises(remote.ProbeError, match="ConnectError"),
    ):
        prober(failing).probe("https://cdn.example.org/episode.mp3")


def test_rebuild_costs_one_conditional_request(site: Site, client: httpx.Client) -> None:
    urls = [site.url(f"/files/{n}") for n in ("long.mp3", "speech.m4a", "vbr_xing.mp3")]
    first = prober(client)
    probed = first.probe_all(urls)
    before = len(site.log)
    second = prober(client, first.cache)
    assert second.probe_all(urls) == probed
    new = site.log[before:]
    assert len(new) == len(urls)
    assert all(r.method == "HEAD" and r.status == 304 and "If-None-Match" in r.headers for r in new)


def test_offline_uses_only_the_cache(site: Site, client: httpx.Client) -> None:
    online = prober(client)
    url = site.url("/files/long.mp3")
    facts = online.probe(url)
    before = len(site.log)
    offline = prober(client, online.cache, offline=True)
    assert offline.probe(url) == facts
    with pytest.raises(remote.ProbeError, match="--offline"):
        offline.probe(site.url("/files/speech.m4a"))
    assert len(site.log) == before


def test_many_probes_run_concurrently(site: Site, client: httpx.Client) -> None:
    site.delay = 0.05
    names = [f"copy{i}.mp3" for i in range(100)]
    for name in names:
        site.files[name] = site.files["cbr_info.mp3"]
    p = prober(client)
    started = time.perf_counter()
    results = p.probe_all([site.url(f"/files/{n}") for n in names])
    elapsed = time.perf_counter() - started
    assert all(not isinstance(r, str) for r in results.values())
    sequential = len(site.log) * site.delay
    assert elapsed < sequential / 4, (elapsed, sequential)


def write_remote_episode(project: Path, url: str) -> None:
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace('audio = "audio.mp3"', f'audio = "{url}"'))


def test_build_with_a_remote_enclosure(
    site: Site, client: httpx.Client, project: Path, castcal: Callable[..., Run]
) -> None:
    url = site.url("/redirect/2/episode.mp3")
    write_remote_episode(project, url)
    result = build(Request(project / "config.toml", network=Network(client=client)))
    assert result.project.warnings  # http:// is published, with a warning
    parsed = feedparser.parse(project / "feeds/podcast.xml")
    (enclosure,) = next(
        e for e in parsed.entries if e.title == "Hva er endringsledelse?"
    ).enclosures
    assert enclosure.href == url  # the tracking prefix stays in the feed
    assert int(enclosure.length) == len(site.files["episode.mp3"])
    assert not (project / "feeds/audio/hva-er-endringsledelse.mp3").exists()
    with pytest.raises(ContentError) as strict:
        build(Request(project / "config.toml", strict=True, network=Network(client=client)))
    assert "uses http://" in str(strict.value)
    # offline, from the cache the first build left
    offline = castcal("build", "--offline", "--config", project / "config.toml")
    assert offline.exit_code == 0, offline.stderr
    assert "warning: episodes/hva-er-endringsledelse/episode.toml: audio: " in offline.stderr


def test_unreachable_enclosure_exits_4_naming_episode_and_url(
    site: Site, project: Path, castcal: Callable[..., Run]
) -> None:
    url = site.url("/status/404")
    write_remote_episode(project, url)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 4
    assert f"episodes/hva-er-endringsledelse/episode.toml: audio: {url}: HTTP 404" in result.stderr
    assert not (project / "feeds").exists()


def test_offline_without_cache_exits_4(project: Path, castcal: Callable[..., Run]) -> None:
    write_remote_episode(project, "https://cdn.example.org/endringspodden/1.mp3")
    result = castcal("build", "--offline", "--config", project / "config.toml")
    assert result.exit_code == 4 and "--offline" in result.stderr
