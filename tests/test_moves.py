"""A feed that moved: the feed names its new URL (itunes:new-feed-url), and publish leaves
a redirect to it at each old URL the bucket serves (moto's S3 server on 127.0.0.1), whose
body is the feed too, and says what to do for the old URLs elsewhere. And the podping
publish sends per changed feed (to a local HTTP server), its token never printed."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import podcastparser
import pytest
from lxml import etree
from moto.server import ThreadedMotoServer

from castcal.errors import ContentError
from castcal.publish.credentials import known as known_credentials
from castcal.publish.s3 import publish
from tests.conftest import Run, copy_sample
from tests.http_server import Site, serve
from tests.test_publish import KEY_ID, SECRET, Recorder, free_port, objects

BASE = "https://www.example.org/endringspodden/"
FEED = BASE + "podcast.xml"
IN_PREFIX = BASE + "gammel/feed.xml"  # under base_url: the target's prefix
AT_ROOT = "https://www.example.org/rss.xml"  # the bucket's root, as the prefix mirrors the path
ELSEWHERE = "https://podkast.example.net/endring/rss"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, for this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=(port := free_port()), verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def hub() -> Iterator[Site]:
    with serve(Site()) as site:
        yield site


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials for it, and no file of the machine's user."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws" / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws" / "config"))


def moved_project(root: Path, s3: str, bucket: str, old: list[str]) -> Path:
    """The sample project, published to ``bucket`` under the prefix endringspodden/
    (mirroring base_url's path), with ``old`` as its previous feed URLs."""
    boto3.client("s3", endpoint_url=s3, region_name="us-east-1").create_bucket(Bucket=bucket)
    project = copy_sample(root / "project")
    config = project / "config.toml"
    listed = ", ".join(f'"{url}"' for url in old)
    text = config.read_text().replace(
        'output = "feeds"\n', f'output = "feeds"\nprevious_feed_urls = [{listed}]\n', 1
    )
    config.write_text(
        text + f'\n[publish]\ntarget = "s3://{bucket}/endringspodden"\n'
        f'endpoint_url = "{s3}"\nregion = "us-east-1"\n'
    )
    return project


def bucket_name(tmp_path: Path) -> str:
    return "moves-" + tmp_path.name[-20:].lower().replace("_", "-").strip("-")


def build(castcal: Callable[..., Run], project: Path) -> None:
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr


def get(s3: str, bucket: str, key: str) -> dict[str, Any]:
    client: Any = boto3.client("s3", endpoint_url=s3, region_name="us-east-1")
    answer: dict[str, Any] = client.get_object(Bucket=bucket, Key=key)
    return answer


def test_the_moved_feed_names_its_new_url(
    tmp_path: Path, s3: str, castcal: Callable[..., Run]
) -> None:
    project = moved_project(tmp_path, s3, bucket_name(tmp_path), [ELSEWHERE])
    build(castcal, project)
    feed = (project / "feeds/podcast.xml").read_bytes()
    channel = etree.fromstring(feed).find("channel")
    assert channel is not None
    assert [e.text for e in channel.iter(f"{{{ITUNES}}}new-feed-url")] == [FEED]
    parsed = podcastparser.parse(FEED, io.BytesIO(feed))
    assert parsed["new_url"] == FEED
    segment = etree.fromstring((project / "feeds/endringspraten.xml").read_bytes())
    assert not list(segment.iter(f"{{{ITUNES}}}new-feed-url"))  # that feed did not move


def test_a_feed_that_never_moved_names_no_new_url(
    project: Path, castcal: Callable[..., Run]
) -> None:
    build(castcal, project)
    assert b"new-feed-url" not in (project / "feeds/podcast.xml").read_bytes()


def test_publish_redirects_the_old_urls_the_bucket_serves(
    tmp_path: Path, s3: str, castcal: Callable[..., Run]
) -> None:
    bucket = bucket_name(tmp_path)
    project = moved_project(tmp_path, s3, bucket, [IN_PREFIX, AT_ROOT, ELSEWHERE])
    build(castcal, project)
    recorder = Recorder(s3)
    result = publish(project / "config.toml", client=recorder.client)
    feed = (project / "feeds/podcast.xml").read_bytes()
    for key in ("endringspodden/gammel/feed.xml", "rss.xml"):
        stored = get(s3, bucket, key)
        assert stored["WebsiteRedirectLocation"] == FEED
        assert stored["Body"].read() == feed  # for hosts that ignore the redirect
        assert stored["ContentType"] == "application/rss+xml; charset=utf-8"
    assert sorted(r.url for r in result.redirects) == sorted([IN_PREFIX, AT_ROOT])
    names = [name.removeprefix("endringspodden/") for name in recorder.puts]
    assert names[-1] == "manifest.json"  # the redirects after the feed, before the manifest
    assert names.index("podcast.xml") < names.index("gammel/feed.xml")
    (steps,) = [w for w in result.warnings if w.startswith(ELSEWHERE)]
    assert f"301 (permanent) redirect to {FEED}" in steps and "at least 4 weeks" in steps
    assert "redirected 2 old feed URLs" in result.summary()

    again = Recorder(s3)
    second = publish(project / "config.toml", client=again.client, allow_removal=True)
    assert again.puts == [] and second.uploads == [] and second.redirects == []
    assert second.removed == [] and "endringspodden/gammel/feed.xml" in objects(s3, bucket)


def test_a_changed_feed_is_sent_to_its_old_urls_too(
    tmp_path: Path, s3: str, castcal: Callable[..., Run]
) -> None:
    bucket = bucket_name(tmp_path)
    project = moved_project(tmp_path, s3, bucket, [IN_PREFIX])
    build(castcal, project)
    publish(project / "config.toml", client=Recorder(s3).client)
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    build(castcal, project)
    result = publish(project / "config.toml", client=Recorder(s3).client)
    assert [(r.key, r.reason) for r in result.redirects] == [
        ("endringspodden/gammel/feed.xml", "changed")
    ]
    stored = get(s3, bucket, "endringspodden/gammel/feed.xml")
    assert stored["Body"].read() == (project / "feeds/podcast.xml").read_bytes()


def test_cli_lists_the_steps_for_old_urls_elsewhere(
    tmp_path: Path, s3: str, castcal: Callable[..., Run]
) -> None:
    bucket = bucket_name(tmp_path)
    project = moved_project(tmp_path, s3, bucket, [ELSEWHERE, IN_PREFIX])
    build(castcal, project)
    dry = castcal("publish", "--dry-run", "--config", project / "config.toml")
    assert dry.exit_code == 0, dry.stderr
    assert "would redirect 1 old feed URLs" in dry.stdout
    assert f"warning: {ELSEWHERE}: the feed moved to {FEED}" in dry.stderr
    assert objects(s3, bucket) == {}
    real = castcal("publish", "--config", project / "config.toml")
    assert real.exit_code == 0, real.stderr
    assert f"warning: {ELSEWHERE}: " in real.stderr and "redirected 1 old" in real.stdout


def test_an_old_url_that_is_a_published_file_now_is_refused(
    tmp_path: Path, s3: str, castcal: Callable[..., Run]
) -> None:
    bucket = bucket_name(tmp_path)
    project = moved_project(tmp_path, s3, bucket, [BASE + "endringspraten.xml"])
    build(castcal, project)
    with pytest.raises(ContentError) as refused:
        publish(project / "config.toml", client=Recorder(s3).client)
    assert "config.toml: site.previous_feed_urls: " in str(refused.value)
    assert "publishes endringspraten.xml now" in str(refused.value)
    assert objects(s3, bucket) == {}


PODPING_TOKEN = "podping-Token/9f8e7d6c+5b4a3f2e"


def with_podping(project: Path, url: str, castcal: Callable[..., Run]) -> Path:
    """``project`` pinging podping.cloud at ``url`` (its [publish] table is the last)."""
    config = project / "config.toml"
    config.write_text(config.read_text() + f'podping = "{url}"\n')
    assert castcal("build", "--config", config).exit_code == 0
    return config


def test_podping_once_per_changed_feed_with_the_token_never_printed(
    tmp_path: Path,
    s3: str,
    hub: Site,
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = moved_project(tmp_path, s3, bucket_name(tmp_path), [])
    monkeypatch.setenv("PODPING_TOKEN", PODPING_TOKEN)
    config = with_podping(project, hub.url("/podping/"), castcal)
    first = castcal("publish", "--config", config)
    assert first.exit_code == 0 and "warning" not in first.stderr, first.stderr
    pings = hub.requests("/podping")
    feeds = sorted(p.name for p in (project / "feeds").glob("*.xml"))
    pinged = sorted(parse_qs(urlsplit(p.path).query)["url"][0] for p in pings)
    assert pinged == [BASE + name for name in feeds]
    for ping in pings:
        assert ping.method == "GET" and ping.status == 200
        assert parse_qs(urlsplit(ping.path).query)["reason"] == ["update"]
        assert ping.headers["Authorization"] == PODPING_TOKEN
        assert ping.headers["User-Agent"].startswith("castcal/")
    assert castcal("publish", "--config", config).exit_code == 0
    assert len(hub.requests("/podping")) == len(pings)  # nothing changed: no podping
    assert PODPING_TOKEN not in first.stdout + first.stderr
    echoed = f"the endpoint said: bad token {PODPING_TOKEN} ({quote(PODPING_TOKEN, safe='')})"
    assert PODPING_TOKEN not in known_credentials()(echoed)
    assert quote(PODPING_TOKEN, safe="") not in known_credentials()(echoed)


def test_a_failing_podping_or_no_token_is_a_warning(
    tmp_path: Path,
    s3: str,
    hub: Site,
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = moved_project(tmp_path, s3, bucket_name(tmp_path), [])
    monkeypatch.delenv("PODPING_TOKEN", raising=False)
    config = with_podping(project, hub.url("/podping/"), castcal)
    untold = castcal("publish", "--config", config)
    assert untold.exit_code == 0, untold.stderr
    assert "no podping sent: set PODPING_TOKEN" in untold.stderr
    assert hub.requests("/podping") == []
    monkeypatch.setenv("PODPING_TOKEN", PODPING_TOKEN)
    closed = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    config.write_text(config.read_text().replace(hub.url("/podping/"), closed))
    toml = project / "episodes/hva-er-endringsledelse/episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    assert castcal("build", "--config", config).exit_code == 0
    refused = castcal("publish", "--config", config)
    assert refused.exit_code == 0, refused.stderr  # the feeds are out all the same
    assert f"{closed}: ConnectError; the feeds are published all the same" in refused.stderr
    assert PODPING_TOKEN not in refused.stdout + refused.stderr
