"""`castcal publish` against a real S3 endpoint on 127.0.0.1 (moto's standalone server),
and the hub pings against a local HTTP server that records them; the credentials never
in what it prints, not even when an endpoint echoes them back."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto.server import ThreadedMotoServer

from castcal.errors import ContentError, RemoteError
from castcal.publish.s3 import publish
from tests.conftest import Run, copy_sample
from tests.http_server import Site, serve

BUCKET = "endringspodden"
SECRET = "fake-Secret-0b9a8c7d6e5f4a3b2c1d"
KEY_ID = "AKIAFAKE0123456789"
EP = "hva-er-endringsledelse"
OTHER = "digital-transformasjon"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
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
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # the SDK's files: the test's own (none yet), never those of the machine's user
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws" / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws" / "config"))


class Recorder:
    """An S3 client bound to the moto server that records every PUT, in order."""

    def __init__(self, url: str, fail_after: int | None = None) -> None:
        self.client: Any = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        self.puts: list[str] = []
        self.fail_after = fail_after
        self.client.meta.events.register("before-parameter-build.s3.PutObject", self._record)

    def _record(self, params: dict[str, Any], **_: object) -> None:
        if self.fail_after is not None and len(self.puts) >= self.fail_after:
            raise EndpointConnectionError(endpoint_url="simulated failure")
        self.puts.append(params["Key"].removeprefix("site/"))


@pytest.fixture
def site(
    tmp_path: Path, s3_url: str, hub: Site, castcal: Callable[..., Run]
) -> Iterator[tuple[Path, str, Site]]:
    bucket = f"{BUCKET}-{tmp_path.name[-20:].lower().replace('_', '-').strip('-')}"
    boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    project = copy_sample(tmp_path / "project")
    with (project / "config.toml").open("a") as config:
        config.write(
            f'\n[publish]\ntarget = "s3://{bucket}/site"\nendpoint_url = "{s3_url}"\n'
            f'region = "us-east-1"\nhubs = ["{hub.url("/hub")}", "{hub.url("/status/500")}"]\n'
            f'pubnotify = "{hub.url("/pubnotify")}"\n'
        )
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    yield project, bucket, hub


def objects(s3_url: str, bucket: str) -> dict[str, dict[str, Any]]:
    client: Any = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k.removeprefix("site/"): client.head_object(Bucket=bucket, Key=k) for k in keys}


def test_first_publish_uploads_everything_in_order(
    site: tuple[Path, str, Site], s3_url: str
) -> None:
    project, bucket, _ = site
    recorder = Recorder(s3_url)
    result = publish(project / "config.toml", client=recorder.client)
    built = sorted(
        p.relative_to(project / "feeds").as_posix()
        for p in (project / "feeds").rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    assert sorted(recorder.puts) == built and len(result.uploads) == len(built)
    assert recorder.puts[-1] == "manifest.json"
    referenced = (
        "audio/",
        "chapters/",
        "transcripts/",
        "images/",
        "events/",
        "episoder/",
        "moter/",
    )
    last_file = max(i for i, n in enumerate(recorder.puts) if n.startswith(referenced))
    first_feed = min(i for i, n in enumerate(recorder.puts) if not n.startswith(referenced))
    assert last_file < first_feed  # no feed reaches the target before the files it names
    stored = objects(s3_url, bucket)
    assert stored["podcast.xml"]["ContentType"] == "application/rss+xml; charset=utf-8"
    assert stored["podcast.xml"]["CacheControl"] == "public, max-age=300"
    assert "ContentDisposition" not in stored["podcast.xml"]
    assert stored["frokost.ics"]["ContentType"] == "text/calendar; charset=utf-8"
    assert stored[f"chapters/{EP}.json"]["ContentType"] == "application/json+chapters"
    assert stored[f"audio/{EP}.mp3"]["ContentType"] == "audio/mpeg"
    assert stored[f"audio/{EP}.mp3"]["CacheControl"] == "public, max-age=86400"
    cover = next(k for k in stored if k.startswith("images/"))
    assert stored[cover]["CacheControl"] == "public, max-age=31536000, immutable"
    body = (
        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
        .get_object(Bucket=bucket, Key="site/podcast.xml")["Body"]
        .read()
    )
    assert body == (project / "feeds/podcast.xml").read_bytes()


def test_nothing_changed_uploads_nothing_and_pings_no_hub(
    site: tuple[Path, str, Site], s3_url: str
) -> None:
    project, _, hub = site
    publish(project / "config.toml", client=Recorder(s3_url).client)
    pings = len(hub.requests("/hub"))
    again = Recorder(s3_url)
    result = publish(project / "config.toml", client=again.client)
    built = [p for p in (project / "feeds").rglob("*") if p.is_file() and p.name[0] != "."]
    assert again.puts == [] and result.uploads == [] and result.unchanged == len(built)
    assert len(hub.requests("/hub")) == pings


def test_one_changed_episode_uploads_only_what_changed(
    site: tuple[Path, str, Site], s3_url: str, castcal: Callable[..., Run]
) -> None:
    project, _, hub = site
    publish(project / "config.toml", client=Recorder(s3_url).client)
    pings_before = len(hub.requests("/hub"))
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    recorder = Recorder(s3_url)
    publish(project / "config.toml", client=recorder.client)
    assert not [name for name in recorder.puts if OTHER in name]
    assert set(recorder.puts) == {  # (a segment's audio is titled by its segment's title)
        f"audio/{EP}.mp3",
        f"episoder/{EP}.html",
        f"chapters/{EP}.json",
        "podcast.xml",
        "endringspraten.xml",
        "endringsnemda.xml",
        "index.html",
        "manifest.json",
    }
    assert recorder.puts[-1] == "manifest.json"
    assert max(
        recorder.puts.index(n) for n in recorder.puts if n.startswith(("audio/", "chapters/"))
    ) < recorder.puts.index("podcast.xml")
    pings = hub.requests("/hub")[pings_before:]
    assert len(pings) == 1  # one ping per hub per changed publish
    form = parse_qs(pings[0].body.decode())
    assert form["hub.mode"] == ["publish"]
    assert "https://www.example.org/endringspodden/podcast.xml" in form["hub.url"]
    notified = [r.path for r in hub.requests("/pubnotify")]
    assert any("podcast.xml" in path for path in notified)


def test_interrupted_publish_keeps_the_old_feed_and_a_rerun_finishes(
    site: tuple[Path, str, Site], s3_url: str, castcal: Callable[..., Run]
) -> None:
    project, bucket, _ = site
    publish(project / "config.toml", client=Recorder(s3_url).client)
    old_feed = objects(s3_url, bucket)["podcast.xml"]["ETag"]
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    failing = Recorder(s3_url, fail_after=2)
    with pytest.raises(RemoteError, match="run publish again"):
        publish(project / "config.toml", client=failing.client)
    assert len(failing.puts) == 2
    assert objects(s3_url, bucket)["podcast.xml"]["ETag"] == old_feed
    rerun = Recorder(s3_url)
    publish(project / "config.toml", client=rerun.client)
    assert "podcast.xml" in rerun.puts and not set(failing.puts) & set(rerun.puts)
    assert objects(s3_url, bucket)["podcast.xml"]["ETag"] != old_feed


def test_fresh_checkout_missing_an_episode_is_refused(
    site: tuple[Path, str, Site], s3_url: str, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    project, bucket, _ = site
    publish(project / "config.toml", client=Recorder(s3_url).client)
    fresh = copy_sample(tmp_path / "fresh")
    shutil.copy(project / "config.toml", fresh / "config.toml")
    shutil.rmtree(fresh / "episodes" / EP)
    assert castcal("build", "--config", fresh / "config.toml").exit_code == 0  # no manifest here
    with pytest.raises(ContentError) as refused:
        publish(fresh / "config.toml", client=Recorder(s3_url).client)
    assert refused.value.exit_code == 1
    assert f"episodes/{EP}: -: published episode" in str(refused.value)
    allowed = publish(fresh / "config.toml", client=Recorder(s3_url).client, allow_removal=True)
    assert f"audio/{EP}.mp3" in allowed.removed
    assert f"audio/{EP}.mp3" not in objects(s3_url, bucket)


def test_cli_publish_dry_run_and_failing_hub_and_no_secrets(
    site: tuple[Path, str, Site], s3_url: str, castcal: Callable[..., Run]
) -> None:
    project, bucket, _ = site
    dry = castcal("publish", "--dry-run", "--config", project / "config.toml")
    assert dry.exit_code == 0 and "new      podcast.xml" in dry.stdout
    assert objects(s3_url, bucket) == {}
    real = castcal("publish", "--config", project / "config.toml")
    assert real.exit_code == 0, real.stderr  # a failing hub is a warning
    assert "warning: " in real.stderr and "/status/500: HTTP 500" in real.stderr
    assert "uploaded" in real.stdout
    broken = project / "config.toml"
    broken.write_text(broken.read_text().replace(f"s3://{bucket}/site", "s3://no-such-bucket/site"))
    failed = castcal("publish", "--config", broken)
    assert failed.exit_code == 4
    for output in (dry.stdout, dry.stderr, real.stdout, real.stderr, failed.stdout, failed.stderr):
        assert SECRET not in output and KEY_ID not in output


def test_build_then_publish_and_the_feed_names_its_hubs(
    site: tuple[Path, str, Site], s3_url: str, castcal: Callable[..., Run]
) -> None:
    project, bucket, hub = site
    result = castcal("build", "--publish", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    assert "podcast.xml" in objects(s3_url, bucket)
    feed = (project / "feeds/podcast.xml").read_text()
    assert f'<atom:link href="{hub.url("/hub")}" rel="hub"/>' in feed


class Echoing(BaseHTTPRequestHandler):
    """An S3 endpoint that refuses every request with an error whose message echoes the
    access key and the session token it was sent, and whatever else it was told to
    (a secret a proxy knows, in the forms it might print it)."""

    echoed: tuple[str, ...] = ()
    keys: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        signed = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
        key = signed[1] if signed else "(none)"
        self.keys.append(key)
        token = self.headers.get("X-Amz-Security-Token", "(none)")
        error = ET.Element("Error")
        ET.SubElement(error, "Code").text = "InvalidAccessKeyId"
        ET.SubElement(error, "Message").text = (
            f"The key {key} (token {token}) is not known; it was signed with "
            + ", ".join(self.echoed)
        )
        ET.SubElement(error, "AWSAccessKeyId").text = key
        ET.SubElement(error, "RequestId").text = "4442587FB7D0A2F9"
        body = ET.tostring(error, encoding="utf-8", xml_declaration=True)
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echoing(tmp_path: Path, castcal: Callable[..., Run]) -> Iterator[tuple[Path, type[Echoing]]]:
    """A built project whose [publish] endpoint echoes credentials."""
    handler = type("Bound", (Echoing,), {"keys": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    project = copy_sample(tmp_path / "project")
    with (project / "config.toml").open("a") as config:
        config.write(
            f'\n[publish]\ntarget = "s3://{BUCKET}/site"\n'
            f'endpoint_url = "http://127.0.0.1:{server.server_address[1]}"\n'
        )
    try:
        assert castcal("build", "--config", project / "config.toml").exit_code == 0
        yield project, handler
    finally:
        server.shutdown()
        server.server_close()


# Credentials as the SDK finds them, each with its own values: (where, key, secret, token).
FILE_KEY, FILE_SECRET, FILE_TOKEN = (
    "AKIAFILE5566778899",
    "file/Secret+0a1b2c3d4e5f",
    "FQoGZfile//tok+en==",
)
OTHER_SECRET = "default-profile/Secret+9z8y7x"  # another profile's: known, so blotted out too


def write_files(aws: Path, where: str) -> None:
    aws.mkdir(parents=True, exist_ok=True)
    profile = (
        f"aws_access_key_id = {FILE_KEY}\naws_secret_access_key = {FILE_SECRET}\n"
        f"aws_session_token = {FILE_TOKEN}\n"
    )
    if where == "credentials file":
        (aws / "credentials").write_text(
            f"[default]\naws_access_key_id = AKIAOTHER000\naws_secret_access_key = {OTHER_SECRET}\n"
            f"\n[castcal]\n{profile}"
        )
    elif where == "config file":
        (aws / "config").write_text(
            f"[default]\nregion = us-east-1\naws_secret_access_key = {OTHER_SECRET}\n"
            f"\n[profile castcal]\n{profile}"
        )
    else:  # a credential process: credentials in no file, as SSO or a vault hands them out
        answer = {"Version": 1, "AccessKeyId": FILE_KEY, "SecretAccessKey": FILE_SECRET}
        answer["SessionToken"] = FILE_TOKEN
        script = aws / "vault.py"
        script.write_text(f"print({json.dumps(json.dumps(answer))})\n")
        process = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
        (aws / "config").write_text(
            f"[default]\naws_secret_access_key = {OTHER_SECRET}\n"
            f"\n[profile castcal]\ncredential_process = {process}\n"
        )


@pytest.mark.parametrize(
    "where", ["environment", "credentials file", "config file", "credential process"]
)
def test_credentials_echoed_by_the_endpoint_are_never_printed(
    echoing: tuple[Path, type[Echoing]],
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    castcal: Callable[..., Run],
) -> None:
    project, endpoint = echoing
    if where == "environment":
        key, secret, token = KEY_ID, SECRET + "/x+y", "IQoJb3JpZ2luX2Vj/env+Token=="
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        key, secret, token = FILE_KEY, FILE_SECRET, FILE_TOKEN
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name)
        monkeypatch.setenv("AWS_PROFILE", "castcal")
        write_files(tmp_path / "aws", where)
    known = [key, secret, token] + ([OTHER_SECRET] if where != "environment" else [])
    echoed = [*known, *(quote(s, safe="") for s in known), *(quote_plus(s) for s in known)]
    monkeypatch.setattr(endpoint, "echoed", tuple(echoed))
    for command in (["publish"], ["publish", "--dry-run"], ["build", "--publish"]):
        result = castcal(*command, "--config", project / "config.toml")
        assert result.exit_code == 4, (command, result.stderr)
        assert "InvalidAccessKeyId" in result.stderr and "***" in result.stderr
        for value in echoed:
            assert value not in result.stdout + result.stderr, (command, value)
    assert set(endpoint.keys) == {key}  # the SDK signed with the credentials named above


def test_a_profile_that_is_not_there_is_said_plainly(
    echoing: tuple[Path, type[Echoing]],
    monkeypatch: pytest.MonkeyPatch,
    castcal: Callable[..., Run],
) -> None:
    project, endpoint = echoing
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    result = castcal("publish", "--config", project / "config.toml")
    assert result.exit_code == 2, result.stderr
    assert "error: AWS credentials: " in result.stderr and "no-such-profile" in result.stderr
    assert "Traceback" not in result.stderr and endpoint.keys == []
