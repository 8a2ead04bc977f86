"""Publishing feeds/ to S3-compatible object storage (AWS S3, Cloudflare R2, MinIO, Backblaze
B2): only files whose content changed, the files a feed points at before the feed, the
manifest last, and never over a target whose published items this build would drop.
Old feed URLs the bucket serves get a redirect to the feed (moves.py). Then tell the hubs
the feeds changed. Whatever it reports has every credential it can know
of blotted out (credentials.py), the endpoint's own words included."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from castcal.build import guard, manifest
from castcal.content.config import Config, Publish
from castcal.content.load import load_config
from castcal.errors import CastcalError, ContentError, OutputError, Problem, RemoteError, UsageError
from castcal.publish import credentials, moves
from castcal.publish.hubs import notify
from castcal.render import paths
from castcal.render.mediatypes import content_type
from castcal.write import lock

if TYPE_CHECKING:
    import httpx
    from boto3.session import Session
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

# A progress callback for a number of things done, named (the CLI's bar on a terminal).
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None] | None]]
PROGRESS_FROM = 10  # uploads and deletions: more get a progress bar
SHOWN = 5  # files named in the message refusing a stale output folder


@dataclass(frozen=True)
class Upload:
    name: str  # inside feeds/, and after the target's prefix
    reason: str  # "new" or "changed"
    size: int


@dataclass
class Result:
    target: str
    uploads: list[Upload] = field(default_factory=list)
    unchanged: int = 0
    stale: list[str] = field(default_factory=list)  # at the target, no longer built
    removed: list[str] = field(default_factory=list)
    redirects: list[moves.Redirect] = field(default_factory=list)  # old feed URLs
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        size = sum(u.size for u in self.uploads)
        verb = "would upload" if self.dry_run else "uploaded"
        line = (
            f"{self.target}: {verb} {len(self.uploads)} files ({size} bytes), "
            f"{self.unchanged} unchanged"
        )
        if self.removed:
            line += f", {len(self.removed)} removed"
        if self.redirects:
            verb = "would redirect" if self.dry_run else "redirected"
            line += f", {verb} {len(self.redirects)} old feed URLs to the feed"
        if self.stale:
            line += f"; {len(self.stale)} no longer built (kept; --allow-removal deletes them)"
        return line


def cache_control(name: str) -> str:
    if name.startswith("images/"):
        return "public, max-age=31536000, immutable"  # the name holds a content hash
    if name.startswith(("audio/", "chapters/", "transcripts/")):
        return "public, max-age=86400"
    if name.startswith("events/"):
        return "public, max-age=3600"
    return "public, max-age=300"  # feeds, calendars, the page, the manifest: fetched often


def local_files(out_dir: Path) -> dict[str, Path]:
    files = {}
    for path in sorted(out_dir.rglob("*")):
        relative = path.relative_to(out_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path
    return files


def make_client(settings: Publish, session: Session) -> S3Client:
    from botocore.config import Config as BotoConfig

    return session.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        config=BotoConfig(
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def _remote_error(what: str, exc: Exception) -> RemoteError:
    return RemoteError(f"{what}: {exc}")


def _published(client: S3Client, settings: Publish) -> manifest.Manifest:
    from botocore.exceptions import BotoCoreError, ClientError

    key = settings.prefix + manifest.NAME
    try:
        data = client.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return manifest.Manifest()
        raise _remote_error(f"s3://{settings.bucket}/{key}", exc) from None
    except BotoCoreError as exc:
        raise _remote_error(f"s3://{settings.bucket}/{key}", exc) from None
    return manifest.parse(data, f"s3://{settings.bucket}/{key}")


def _listing(client: S3Client, settings: Publish) -> dict[str, str]:
    """Each object under the prefix and its ETag (the MD5 of a single-part upload)."""
    from botocore.exceptions import BotoCoreError, ClientError

    objects = {}
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=settings.bucket, Prefix=settings.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                objects[item["Key"][len(settings.prefix) :]] = item["ETag"].strip('"')
    except (ClientError, BotoCoreError) as exc:
        raise _remote_error(settings.target, exc) from None
    return objects


def plan(files: dict[str, Path], remote: dict[str, str]) -> tuple[list[Upload], int]:
    uploads, unchanged = [], 0
    for name in sorted(files, key=lambda name: (paths.order(name), name)):
        data = files[name].read_bytes()
        etag = remote.get(name)
        if etag == hashlib.md5(data, usedforsecurity=False).hexdigest():
            unchanged += 1
            continue
        uploads.append(Upload(name, "new" if etag is None else "changed", len(data)))
    return uploads, unchanged


def _put(client: S3Client, settings: Publish, name: str, path: Path) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    data = path.read_bytes()
    key = settings.prefix + name
    try:
        client.put_object(
            Bucket=settings.bucket,
            Key=key,
            Body=data,
            ContentType=content_type(name),
            CacheControl=cache_control(name),
            Metadata={"castcal-sha256": hashlib.sha256(data).hexdigest()},
        )
    except (ClientError, BotoCoreError) as exc:
        raise RemoteError(
            f"s3://{settings.bucket}/{key}: upload failed after retries ({exc}); "
            "run publish again to finish: what is already there is not sent twice"
        ) from None


def publish(
    config_path: Path,
    out: Path | None = None,
    *,
    dry_run: bool = False,
    allow_removal: bool = False,
    wait: float = 10.0,
    client: S3Client | None = None,
    http: httpx.Client | None = None,
    progress: Progress | None = None,
    just_built: bool = False,
) -> Result:
    """Publish the output folder to config.toml's ``[publish]`` target (``client``:
    an S3 client for it, ``http``: the client pinging the hubs; tests hand in theirs).
    Refused if a build now would change the folder, unless it was ``just_built``.
    No credential is in any error it raises nor in any warning it returns."""
    redact = credentials.known()
    try:
        config, settings, out_dir = _target(config_path, out)
        if not just_built:
            require_fresh(config_path, out_dir, wait)
        if client is None:
            client, redact = _connect(settings)
        with lock.held(config_path.parent, out_dir, wait):
            result = _upload(client, config, out_dir, dry_run, allow_removal, progress)
        if not dry_run:
            changed = [u.name for u in result.uploads if paths.order(u.name) == 2]
            result.warnings += notify(config, [n for n in changed if n != paths.PAGE], http)
    except CastcalError as error:
        raise redact.error(error) from None
    result.warnings = [redact(warning) for warning in result.warnings]
    return result


def _target(config_path: Path, out: Path | None) -> tuple[Config, Publish, Path]:
    """The project's config, its ``[publish]`` settings, and the folder built to publish."""
    config = load_config(config_path)
    if config.publish is None:
        message = 'required to publish: add [publish] target = "s3://bucket/prefix"'
        raise ContentError([Problem("config.toml", "publish", message)])
    out_dir = out if out is not None else config_path.parent / config.site.output
    if not (out_dir / manifest.NAME).is_file():
        raise OutputError(f"{out_dir}: nothing built to publish; run castcal build first")
    return config, config.publish, out_dir


def require_fresh(config_path: Path, out_dir: Path, wait: float) -> None:
    """OutputError if the sources changed since ``out_dir`` was built (a build now would
    write something in it, a scheduled episode now due included): never ship stale feeds."""
    from castcal.build.pipeline import Request, pending

    changed = pending(Request(config_path, out_dir, wait))[1]
    if changed:
        raise OutputError(stale_message(out_dir, changed))


def stale_message(out_dir: Path, changed: list[str]) -> str:
    shown = ", ".join(changed[:SHOWN]) + (
        f" and {len(changed) - SHOWN} more" * (len(changed) > SHOWN)
    )
    return (
        f"{out_dir.name}/ is older than its sources: run castcal build, or castcal build "
        f"--publish (a build would change {shown})"
    )


def _connect(settings: Publish) -> tuple[S3Client, credentials.Redactor]:
    """A client for the target, with the credentials the AWS SDK's chain finds (the
    environment, the shared files, the profile AWS_PROFILE selects, a role, SSO ...),
    and a Redactor that knows them."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session()
        found = session.get_credentials()  # a missing profile, a broken file: said now
        return make_client(settings, session), credentials.known(found)
    except BotoCoreError as exc:
        raise UsageError(f"AWS credentials: {exc}") from None


def _upload(
    s3: S3Client,
    config: Config,
    out_dir: Path,
    dry_run: bool,
    allow_removal: bool,
    progress: Progress | None,
) -> Result:
    """What changed, uploaded in order, once the guard let it, the redirects of the old
    feed URLs before the manifest; with ``allow_removal``, what is no longer built deleted."""
    settings = config.publish
    assert settings is not None
    local = manifest.read(out_dir / manifest.NAME)
    published = _published(s3, settings).identities()
    problems = guard.check(published, local.identities(), allow_removal=allow_removal)
    if problems:
        raise ContentError(problems)
    files = local_files(out_dir)
    remote = _listing(s3, settings)
    uploads, unchanged = plan(files, remote)
    result = Result(settings.target, uploads, unchanged, dry_run=dry_run)
    moved = _moves(s3, config, files, result)
    result.stale = sorted(set(remote) - set(files) - moved)
    if dry_run:
        return result
    steps = [partial(_put, s3, settings, u.name, files[u.name]) for u in uploads]
    if result.redirects:  # once the feed is there, before the manifest
        feed, feed_url = files[paths.FEED].read_bytes(), config.site.base_url + paths.FEED
        at = len(steps) - (bool(uploads) and uploads[-1].name == manifest.NAME)
        steps[at:at] = [
            partial(moves.put, s3, settings, r, feed, feed_url) for r in result.redirects
        ]
    count = len(steps) if len(steps) >= PROGRESS_FROM else 0
    with (progress or _no_progress)(count, "Publishing") as advance:
        for step in steps:
            step()
            if advance is not None:
                advance(1)
    if allow_removal and result.stale:
        _delete(s3, settings, result.stale)
        result.removed, result.stale = result.stale, []
    return result


def _moves(s3: S3Client, config: Config, files: dict[str, Path], result: Result) -> set[str]:
    """The redirects of the old feed URLs the target serves that are missing or out of
    date, and the steps to take for the others, in ``result``; the names (after the
    prefix) of the redirect objects, which are no stale files."""
    settings = config.publish
    assert settings is not None
    moved = moves.sort(config, settings, set(files))
    feed_url = config.site.base_url + paths.FEED
    result.warnings = [moves.steps(url, settings.target, feed_url) for url in moved.elsewhere]
    if moved.keys and paths.FEED in files:
        feed = files[paths.FEED].read_bytes()
        result.redirects = moves.plan(s3, settings, moved.keys, feed, feed_url)
    keys = moved.keys.values()
    return {k.removeprefix(settings.prefix) for k in keys if k.startswith(settings.prefix)}


def _no_progress(count: int, what: str) -> AbstractContextManager[Callable[[int], None] | None]:
    return nullcontext(None)


def _delete(client: S3Client, settings: Publish, names: Iterable[str]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    keys: list[ObjectIdentifierTypeDef] = [{"Key": settings.prefix + name} for name in names]
    try:
        for first in range(0, len(keys), 1000):
            client.delete_objects(
                Bucket=settings.bucket, Delete={"Objects": keys[first : first + 1000]}
            )
    except (ClientError, BotoCoreError) as exc:
        raise _remote_error(settings.target, exc) from None
