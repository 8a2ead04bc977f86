"""Telling the world the feeds changed: a WebSub ping to each hub the feeds name, and a
Podcast Index style pubnotify request per changed podcast feed. A failure is a warning,
never a failed publish: the feeds are out all the same."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from castcal.content.config import Config

if TYPE_CHECKING:
    import httpx

Params = Mapping[str, str | list[str]]


def notify(config: Config, changed: list[str], http: httpx.Client | None) -> list[str]:
    """Ping each WebSub hub and the Podcast Index style endpoint about the changed feeds;
    a failure is a warning, never a failed publish."""
    settings = config.publish
    assert settings is not None
    if not changed or not (settings.hubs or settings.pubnotify):
        return []
    import httpx

    base = config.site.base_url
    feed_urls = [base + name for name in changed]
    podcast_feeds = [base + name for name in changed if name.endswith(".xml")]
    client = http or httpx.Client(timeout=httpx.Timeout(10, connect=5))
    warnings = []
    try:
        pings: list[tuple[str, str, Params]] = [
            ("POST", hub, {"hub.mode": "publish", "hub.url": feed_urls}) for hub in settings.hubs
        ]
        if settings.pubnotify:
            pings += [("GET", settings.pubnotify, {"url": url}) for url in podcast_feeds]
        for method, url, params in pings:
            problem = _ping(client, method, url, params)
            if problem:
                warnings.append(f"{url}: {problem}; the feeds are published all the same")
    finally:
        if http is None:
            client.close()
    return warnings


def _ping(client: httpx.Client, method: str, url: str, params: Params) -> str | None:
    import httpx

    problem = "no answer"
    for attempt in range(3):
        try:
            if method == "POST":
                response = client.post(url, data=params)
            else:
                response = client.get(url, params=params)
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
