"""Remote enclosures probed over HTTP against a real server on 127.0.0.1, without
downloading them."""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from mutagen.id3 import APIC, ID3, TIT2

from castcal.build.gather import Network
from castcal.build.pipeline import Request, build
from castcal.errors import ContentError
from castcal.media import mpeg, remote
from castcal.media import probe as local
from tests.conftest import DATA, REPO, Run
from tests.http_server import Site, serve

AUDIO = DATA / "audio"
# Fifteen minutes of constant-bitrate MP3: the headerless CBR fixture's frames, repeated.
LONG_MP3 = (AUDIO / "cbr_noheader.mp3").read_bytes() * 300
KB = 1024


def covered_mp3(name: str, copies: int, cover: int) -> bytes:
    """An MP3 made of a LAME fixture's audio frames ``copies`` times over, its Xing/Info
    header made to count them, after an ID3v2.3 tag holding a ``cover``-byte picture."""
    data = (AUDIO / name).read_bytes()
    first, second = (frame[mpeg.OFFSET] for frame in mpeg.scan(data, limit=2).raw)
    header = mpeg.xing(data, first)
    assert header is not None and header.frames is not None
    info, frames = bytearray(data[:second]), data[second:]
    at = header.end - 100 - 4 - 4  # the byte count; the frame count is just before it
    info[at - 4 : at] = (header.frames * copies).to_bytes(4, "big")
    info[at : at + 4] = (len(info) + len(frames) * copies).to_bytes(4, "big")
    return id3_tag(cover) + bytes(info) + frames * copies


def id3_tag(cover: int) -> bytes:
    """An ID3v2.3 tag with a title and, unless ``cover`` is 0, a ``cover``-byte picture."""
    tag = ID3()
    tag.add(TIT2(encoding=3, text="Hva er endringsledelse?"))
    if cover:
        picture = random.Random(cover).randbytes(cover)  # as incompressible as a JPEG
        tag.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=picture))
    out = io.BytesIO()
    tag.save(out, v2_version=3, padding=lambda info: 0)
    return out.getvalue()


# About 5.4 MB: eleven minutes of 64 kbps, after a 600 KB cover.
COVERED = covered_mp3("cbr_info.mp3", 197, 600 * KB)


@pytest.fixture
def site() -> Iterator[Site]:
    files = {p.name: p.read_bytes() for p in AUDIO.iterdir()}
    files["long.mp3"] = LONG_MP3
    files["episode.mp3"] = (REPO / "episodes/hva-er-endringsledelse/audio.mp3").read_bytes()
    files["covered.mp3"] = COVERED
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


def reprobe_changed(site: Site, client: httpx.Client, route: str) -> remote.Prober:
    """Probe long.mp3 by ``route``, change it, and probe it again with what the first probe
    learned; the second prober."""
    url = site.url(f"/{route}/long.mp3")
    first = prober(client)
    assert first.probe(url).length == len(LONG_MP3)
    assert not [r for r in site.requests(f"/{route}/") if r.method == "HEAD"]  # not needed
    site.files["long.mp3"] = LONG_MP3[:-12225]  # one copy of the fixture fewer
    again = prober(client, first.cache)
    assert again.probe(url).length == len(LONG_MP3) - 12225
    return again


def test_head_refused_falls_back_to_a_range_request(site: Site, client: httpx.Client) -> None:
    reprobe_changed(site, client, "nohead")
    methods = [(r.method, r.status) for r in site.requests("/nohead/")]
    assert methods[methods.index(("HEAD", 405)) + 1] == ("GET", 206)


def test_head_without_length_falls_back_to_a_range_request(
    site: Site, client: httpx.Client
) -> None:
    reprobe_changed(site, client, "nolength")
    log = site.requests("/nolength/")
    head = next(i for i, r in enumerate(log) if r.method == "HEAD")
    assert log[head].status == 200 and log[head + 1].headers["Range"].startswith("bytes=0-")


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


def fetched(site: Site, path: str) -> list[range]:
    """The byte ranges the server sent in answer to GET requests for ``path``."""
    spans = []
    for r in site.requests(path):
        if r.method == "GET" and r.status == 206:
            first, last = r.headers["Range"].removeprefix("bytes=").split("-")
            spans.append(range(int(first), int(last) + 1))
    return spans


@pytest.mark.parametrize(
    ("name", "cover"),
    [("cbr_info.mp3", 0), ("cbr_info.mp3", 600 * KB), ("vbr_xing.mp3", 3 * 1024 * KB)],
)
def test_an_mp3_with_a_big_cover_is_probed_with_a_few_kilobytes(
    site: Site, client: httpx.Client, tmp_path: Path, name: str, cover: int
) -> None:
    """The ID3 tag's size comes from its header and its body is never fetched: an MP3 with a
    Xing/Info header costs at most 4 requests and 128 KB, whatever its tag holds, and a
    rebuild one conditional request (issue 23). Counted by the server."""
    data = site.files["covered.mp3"] = covered_mp3(name, 190, cover)
    (tmp_path / "covered.mp3").write_bytes(data)
    url = site.url("/files/covered.mp3")
    probed = prober(client)
    assert probed.probe(url) == local.probe(tmp_path / "covered.mp3")  # as read on disk
    assert len(site.requests("/covered.mp3")) <= 4
    assert site.sent("/covered.mp3") <= 128 * KB
    tag_end = mpeg.audio_start(data[:10] + bytes(10))
    spans = fetched(site, "/files/covered.mp3")
    in_tag = sum(len(range(span.start, min(span.stop, tag_end))) for span in spans)
    assert in_tag <= remote.FIRST  # what the first request brought, before the size was known
    # A rebuild: one conditional request.
    before = len(site.log)
    assert prober(client, probed.cache).probe(url) == local.probe(tmp_path / "covered.mp3")
    (again,) = site.log[before:]
    assert (again.method, again.status, again.sent) == ("HEAD", 304, 0)
    # A changed file (a new cover): the HEAD and the probe still within the budget.
    site.files["covered.mp3"] = changed = covered_mp3(name, 190, cover + 1)
    (tmp_path / "covered.mp3").write_bytes(changed)
    before = len(site.log)
    assert prober(client, probed.cache).probe(url) == local.probe(tmp_path / "covered.mp3")
    assert len(site.log) - before <= 4
    assert sum(r.sent for r in site.log[before:]) <= 128 * KB


def test_an_id3_tag_before_m4a_is_refused_as_on_disk(
    site: Site, client: httpx.Client, tmp_path: Path
) -> None:
    """Skipping the tag unread must not let through what no app reads and castcal refuses
    on disk: an M4A file behind an ID3 tag."""
    data = site.files["tagged.m4a"] = id3_tag(0) + (AUDIO / "speech.m4a").read_bytes()
    (tmp_path / "tagged.m4a").write_bytes(data)
    with pytest.raises(local.AudioError):
        local.probe(tmp_path / "tagged.m4a")
    with pytest.raises(remote.ProbeError, match="an ID3 tag comes before its M4A audio"):
        prober(client).probe(site.url("/files/tagged.m4a"))


def test_many_probes_run_concurrently(site: Site, client: httpx.Client) -> None:
    """100 enclosures behind 100 ms of latency: at least 10x faster than one at a time,
    which takes at least the server's delay for every request it makes."""
    site.delay = 0.1
    names = [f"copy{i}.mp3" for i in range(100)]
    for name in names:
        site.files[name] = COVERED
    p = prober(client)
    started = time.perf_counter()
    results = p.probe_all([site.url(f"/files/{n}") for n in names])
    elapsed = time.perf_counter() - started
    assert all(not isinstance(r, str) for r in results.values()), results
    assert site.peak >= 20  # requests the server was answering at once
    one_at_a_time = len(site.log) * site.delay
    assert elapsed < one_at_a_time / 10, (elapsed, one_at_a_time)


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
