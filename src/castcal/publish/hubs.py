"""Telling the world the feeds changed: a WebSub ping to each hub the feeds name, a
Podcast Index style pubnotify request and a podping (podping.cloud) per changed podcast
feed. A failure is a warning, never a failed publish: the feeds are out all the same."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from castcal import __version__
from castcal.content.config import Config, Publish

if TYPE_CHECKING:
    import httpx

Params = Mapping[str, str | list[str]]
PODPING_TOKEN = "PODPING_TOKEN"  # the environment variable holding the podping.cloud token
USER_AGENT = f"castcal/{__version__} (podcast feed builder; update notifications)"


@dataclass(frozen=True)
class Ping:
    method: str
    url: str
    params: Params
    headers: Mapping[str, str] = field(default_factory=dict)


def notify(config: Config, changed: list[str], http: httpx.Client | None) -> list[str]:
    """Ping each WebSub hub, the Podcast Index style endpoint and podping.cloud about the
    changed feeds; a failure is a warning, never a failed publish."""
    settings = config.publish
    assert settings is not None
    if not changed or not (settings.hubs or settings.pubnotify or settings.podping):
        return []
    import httpx

    base = config.site.base_url
    feed_urls = [base + name for name in changed]
    podcast_feeds = [base + name for name in changed if name.endswith(".xml")]
    pings, warnings = _pings(settings, feed_urls, podcast_feeds)
    client = http or httpx.Client(timeout=httpx.Timeout(10, connect=5))
    try:
        for ping in pings:
            problem = _ping(client, ping)
            if problem:
                warnings.append(f"{ping.url}: {problem}; the feeds are published all the same")
    finally:
        if http is None:
            client.close()
    return warnings


def _pings(
    settings: Publish, feed_urls: list[str], podcast_feeds: list[str]
) -> tuple[list[Ping], list[str]]:
    """The requests to make, and a warning for those that cannot be made."""
    pings = [
        Ping("POST", hub, {"hub.mode": "publish", "hub.url": feed_urls}) for hub in settings.hubs
    ]
    if settings.pubnotify:
        pings += [Ping("GET", settings.pubnotify, {"url": url}) for url in podcast_feeds]
    if not settings.podping or not podcast_feeds:
        return pings, []
    token = os.environ.get(PODPING_TOKEN, "").strip()
    if not token:
        return pings, [
            f"{settings.podping}: no podping sent: set {PODPING_TOKEN} to the token "
            "podping.cloud gave you; the feeds are published all the same"
        ]
    headers = {"Authorization": token, "User-Agent": USER_AGENT}
    pings += [
        Ping("GET", settings.podping, {"url": url, "reason": "update"}, headers)
        for url in podcast_feeds
    ]
    return pings, []


def _ping(client: httpx.Client, ping: Ping) -> str | None:
    import httpx

    problem = "no answer"
    for attempt in range(3):
        try:
            if ping.method == "POST":
                response = client.post(ping.url, data=ping.params, headers=ping.headers)
            else:
                response = client.get(ping.url, params=ping.params, headers=ping.headers)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}"
        else:
            if response.status_code < 400:
                return None
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500:
                return problem
        if attempt < 2:
            time.sleep(0.2 * 2**attempt)
    return problem
