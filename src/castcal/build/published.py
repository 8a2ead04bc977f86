"""What was published before: the manifest in the output folder, and the one served at
``--guard-url`` (for a fresh checkout), fetched with a conditional request against the copy
remembered last time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from castcal.build import manifest
from castcal.build.cache import Fact, Store
from castcal.errors import RemoteError

if TYPE_CHECKING:
    import httpx

KIND = "published-manifest"  # the store's facts of this kind: by URL, its ETag and body


def previous(out_dir: Path, elsewhere: manifest.Manifest) -> manifest.Manifest:
    """What the output folder's manifest says was published, and ``elsewhere`` besides."""
    return manifest.read(out_dir / manifest.NAME).merged(elsewhere)


def at_url(url: str, client: httpx.Client, store: Store, *, offline: bool) -> manifest.Manifest:
    """The manifest published at ``url``; RemoteError when it cannot be had: a guard that
    cannot see what was published must not guess."""
    return manifest.parse(_fetch(url, client, store, offline=offline), url)


def _fetch(url: str, client: httpx.Client, store: Store, *, offline: bool) -> bytes:
    import httpx

    known = store.facts(KIND).get(url)
    cached = known.value if known is not None and isinstance(known.value, dict) else {}
    if offline:
        if "body" in cached:
            return str(cached["body"]).encode()
        raise RemoteError(
            f"{url}: the published manifest is not cached, and --offline is set; "
            "the build cannot check what was published"
        )
    headers = {"If-None-Match": str(cached["etag"])} if cached.get("etag") else {}
    try:
        response = client.get(url, headers=headers)
    except httpx.TimeoutException:
        raise _failed(url, "timed out fetching the published manifest") from None
    except httpx.HTTPError as exc:
        raise _failed(url, f"cannot fetch the published manifest ({exc})") from None
    if response.status_code == 304 and "body" in cached:
        return str(cached["body"]).encode()
    if response.status_code != 200:
        raise _failed(url, f"HTTP {response.status_code} for the published manifest")
    if response.headers.get("ETag"):
        value = {"etag": response.headers["ETag"], "body": response.text}
        store.put_fact(KIND, url, Fact(0, 0, value))
    return response.content


def _failed(url: str, why: str) -> RemoteError:
    return RemoteError(f"{url}: {why}; the build cannot check what was published")
