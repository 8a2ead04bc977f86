"""Feed moves: each URL the main feed was served from before ([site] previous_feed_urls)
that the published bucket serves gets a redirect object there (S3's website redirect,
which a website endpoint or a CDN answers with a 301) whose body is the current feed,
for hosts that ignore the redirect; for each old URL elsewhere, the steps to take there."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from castcal.content.config import Config, Publish
from castcal.errors import ContentError, Problem, RemoteError
from castcal.render import paths
from castcal.render.mediatypes import content_type

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIELD = "site.previous_feed_urls"
KEEP_WEEKS = 4  # Apple: keep itunes:new-feed-url (and the redirect) at least this long


@dataclass(frozen=True)
class Redirect:
    url: str  # where the feed was served before
    key: str  # its object in the bucket
    reason: str  # "new" or "changed"


@dataclass(frozen=True)
class Moves:
    """The old feed URLs: those in the bucket's site, by their key, and the others."""

    keys: dict[str, str]
    elsewhere: tuple[str, ...]


def roots(base_url: str, prefix: str) -> list[tuple[str, str]]:
    """The URLs the bucket serves and the key each starts with: ``base_url`` is the
    target's prefix; when its path ends with the prefix, the site root is the bucket's."""
    found = [(base_url, prefix)]
    if prefix and base_url.endswith("/" + prefix):
        found.append((base_url.removesuffix(prefix), ""))
    return found


def key_of(url: str, settings: Publish, base_url: str) -> str | None:
    """The bucket key that serves ``url``, or None if the bucket does not serve it."""
    parts = urlsplit(url)
    if parts.query or parts.fragment or parts.path.endswith("/"):
        return None  # not a file an object can stand for
    for root, start in roots(base_url, settings.prefix):
        if url.startswith(root):
            return start + unquote(url.removeprefix(root))
    return None


def sort(config: Config, settings: Publish, built: set[str]) -> Moves:
    """The old URLs by where they are; a ContentError for one that is now a built file."""
    keys, elsewhere, problems = {}, [], []
    for url in config.site.previous_feed_urls:
        key = key_of(url, settings, config.site.base_url)
        if key is None:
            elsewhere.append(url)
        elif key.startswith(settings.prefix) and key[len(settings.prefix) :] in built:
            name = key[len(settings.prefix) :]
            message = f"{url} is where castcal publishes {name} now; it cannot redirect there"
            problems.append(Problem("config.toml", FIELD, message))
        else:
            keys[url] = key
    if problems:
        raise ContentError(problems)
    return Moves(keys, tuple(elsewhere))


def plan(
    client: S3Client, settings: Publish, keys: dict[str, str], body: bytes, to: str
) -> list[Redirect]:
    """The redirect objects that are missing or differ from the current feed at ``to``."""
    from botocore.exceptions import BotoCoreError, ClientError

    etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
    redirects = []
    for url, key in sorted(keys.items(), key=lambda item: item[1]):
        try:
            head = client.head_object(Bucket=settings.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise RemoteError(f"s3://{settings.bucket}/{key}: {exc}") from None
            redirects.append(Redirect(url, key, "new"))
            continue
        except BotoCoreError as exc:
            raise RemoteError(f"s3://{settings.bucket}/{key}: {exc}") from None
        same = head["ETag"].strip('"') == etag and head.get("WebsiteRedirectLocation") == to
        if not same:
            redirects.append(Redirect(url, key, "changed"))
    return redirects


def put(client: S3Client, settings: Publish, redirect: Redirect, body: bytes, to: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.put_object(
            Bucket=settings.bucket,
            Key=redirect.key,
            Body=body,
            ContentType=content_type(paths.FEED),
            CacheControl="public, max-age=300",
            WebsiteRedirectLocation=to,
            Metadata={"castcal-sha256": hashlib.sha256(body).hexdigest()},
        )
    except (ClientError, BotoCoreError) as exc:
        raise RemoteError(
            f"s3://{settings.bucket}/{redirect.key}: redirect upload failed after retries "
            f"({exc}); run publish again to finish"
        ) from None


def steps(url: str, target: str, to: str) -> str:
    """What the owner does for an old feed URL that ``target`` does not serve."""
    return (
        f"{url}: the feed moved to {to}, but {target} does not serve this URL: make its "
        f"host answer it with a 301 (permanent) redirect to {to}, and keep it in "
        f"previous_feed_urls (the feed's itunes:new-feed-url) for at least {KEEP_WEEKS} "
        "weeks, until the apps have followed"
    )
