"""Facts about audio hosted elsewhere, read over HTTP without downloading it.

A first probe asks for the file's first 16 KB: the answer tells its size and validators
too. An ID3v2 tag (it may hold a cover of hundreds of KB) is skipped by the size its header
gives, never fetched; mutagen then reads the audio after it through Range requests, each
gap it reaches filled with one request and some read-ahead. An MP3 with a Xing/Info header
takes three requests and under 128 KB, whatever its tag. Results are kept by URL with the
server's validators (the build remembers them), so a rebuild costs one conditional HEAD
per enclosure, and ``--offline`` builds from what is remembered alone. Many enclosures are
probed at once, so the network's latency is paid a few times, not once per request.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict

from castcal import __version__
from castcal.content.models import AudioFacts
from castcal.media.probe import AudioError, identify
from castcal.media.ranges import RangeFile, Spans, after_tags

USER_AGENT = f"castcal/{__version__} (podcast feed builder; enclosure probe)"
FIRST = 16 * 1024  # the first request's bytes: an ID3 tag's header and often all of it
BUDGET = 100 * 1024 * 1024  # most bytes one probe may read (a VBR MP3 without a header)
WORKERS = 32  # probes at once: 100 enclosures behind 0.1 s of latency take about 1 s


class ProbeError(Exception):
    """A remote enclosure could not be probed; the message names the URL and why."""


class CacheEntry(BaseModel):
    """What a probe learned of a URL, with the validators to ask the server whether it
    still holds."""

    model_config = ConfigDict(frozen=True)

    final_url: str
    etag: str | None
    last_modified: str | None
    length: int
    mime: str
    extension: str
    duration: float

    def facts(self) -> AudioFacts:
        return AudioFacts(
            length=self.length, mime=self.mime, extension=self.extension, duration=self.duration
        )


@dataclass(frozen=True)
class Located:
    """Where a remote file is (after its redirects), its size, its validators and the first
    bytes, where the answer that told the size brought them."""

    final: str
    size: int
    etag: str | None
    modified: str | None
    first: bytes


@dataclass
class Stats:
    requests: int = 0
    bytes_read: int = 0


def make_client(timeout: float = 10.0) -> httpx.Client:
    """The one HTTP client castcal uses; tests hand in their own instead."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=5.0),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        follow_redirects=True,
        transport=httpx.HTTPTransport(retries=1),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=WORKERS),
    )


class Prober:
    """Probes remote enclosures with one shared client, a cache, retries and a bounded
    number of requests in flight."""

    def __init__(
        self,
        client: httpx.Client,
        cache: dict[str, CacheEntry] | None = None,
        *,
        offline: bool = False,
        workers: int = WORKERS,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.client, self.offline = client, offline
        self.workers, self.attempts, self.backoff = workers, attempts, backoff
        self.cache: dict[str, CacheEntry] = dict(cache or {})  # updated as URLs are probed
        self.stats = Stats()
        self._lock = threading.Lock()

    def probe_all(
        self, urls: Iterable[str], progress: Callable[[int], None] | None = None
    ) -> dict[str, AudioFacts | str]:
        """Facts for each URL, or the reason it failed (a message naming the URL)."""
        unique = sorted(set(urls))
        results: dict[str, AudioFacts | str] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(functools.partial(self._probe_into, results, progress), unique))
        return results

    def _probe_into(
        self,
        results: dict[str, AudioFacts | str],
        progress: Callable[[int], None] | None,
        url: str,
    ) -> None:
        try:
            results[url] = self.probe(url)
        except ProbeError as exc:
            results[url] = str(exc)
        if progress is not None:
            progress(1)

    def probe(self, url: str) -> AudioFacts:
        cached = self.cache.get(url)
        if self.offline:
            if cached is None:
                raise ProbeError(f"{url}: not in the cache, and --offline forbids fetching it")
            return cached.facts()
        # Only a rebuild asks HEAD (whether the file changed); a first probe's range
        # request tells the size and validators as well.
        head = None if cached is None else self._head(url, cached)
        if cached is not None and head is not None and _unchanged(cached, head):
            return cached.facts()
        entry = self._probe_fresh(url, head)
        with self._lock:
            self.cache[url] = entry
        return entry.facts()

    def _request(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        """One request (streamed, body unread), retried with backoff on timeouts, network
        errors and 5xx answers."""
        for attempt in range(self.attempts):
            try:
                request = self.client.build_request(method, url, headers=headers)
                response = self.client.send(request, stream=True)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.HTTPError as exc:
                problem = f"request failed ({type(exc).__name__}: {exc})"
            else:
                with self._lock:
                    self.stats.requests += 1 + len(response.history)
                if response.status_code < 500:
                    return response
                response.close()
                problem = f"HTTP {response.status_code}"
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff * 2**attempt)
        raise ProbeError(f"{url}: {problem} (tried {self.attempts} times)")

    def _head(self, url: str, cached: CacheEntry | None) -> httpx.Response | None:
        headers = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        elif cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        response = self._request("HEAD", url, headers)
        response.close()
        if response.status_code in (403, 405, 501):
            return None  # HEAD refused: the first range request tells the size
        if response.status_code >= 400:
            raise ProbeError(f"{url}: HTTP {response.status_code}")
        return response

    def _probe_fresh(self, url: str, head: httpx.Response | None) -> CacheEntry:
        where = self._where(url, head)
        etag = where.etag
        strong = etag if etag and not etag.startswith("W/") else None
        ranges = _Ranges(self, url, where.final, strong)
        spans = Spans(ranges, where.size)
        spans.add(0, where.first or ranges(0, min(where.size, FIRST) - 1))
        # mutagen would read an ID3 tag whole (a cover can be 600 KB): it is shown the file
        # from the audio on, which is what it learns of an MP3 from the tag anyway.
        whole = RangeFile(spans)
        start = after_tags(whole)
        audio = whole.window(start)
        try:
            facts = identify(audio, where.size, audio.whole, local=False)  # type: ignore[arg-type]
        except AudioError as exc:
            raise ProbeError(f"{url}: {exc}") from exc
        if start and facts.mime != "audio/mpeg":  # refused on disk too: no app skips the tag
            raise ProbeError(
                f"{url}: an ID3 tag comes before its {facts.extension.upper()} audio, which "
                "podcast apps cannot read; remove the tag, or publish MP3 or M4A (AAC)"
            )
        return CacheEntry(
            final_url=where.final,
            etag=etag,
            last_modified=where.modified,
            length=where.size,
            mime=facts.mime,
            extension=facts.extension,
            duration=facts.duration,
        )

    def _where(self, url: str, head: httpx.Response | None) -> Located:
        """Where the file is (after redirects), its size and its validators: from the
        HEAD answer, or the answer to a range request for its first bytes."""
        size = _length(head)
        if head is not None and size is not None:
            headers = head.headers
            return Located(
                str(head.url), size, headers.get("ETag"), headers.get("Last-Modified"), b""
            )
        response = self._request("GET", url, {"Range": f"bytes=0-{FIRST - 1}"})
        try:
            if response.status_code == 200:  # the body is never read: it is the whole file
                raise ProbeError(_range_message(url))
            if response.status_code != 206:
                raise ProbeError(f"{url}: HTTP {response.status_code}")
            size = _total(response)
            if size is None or size <= 0:
                raise ProbeError(f"{url}: the server tells no length for the file")
            first = response.read()
        finally:
            response.close()
        with self._lock:
            self.stats.bytes_read += len(first)
        headers, known = response.headers, head.headers if head is not None else {}
        etag = headers.get("ETag", known.get("ETag"))
        modified = headers.get("Last-Modified", known.get("Last-Modified"))
        return Located(str(response.url), size, etag, modified, first)

    def fetch(self, url: str, final: str, headers: dict[str, str]) -> bytes:
        """The body of a range request for ``final`` (the probed ``url`` after its
        redirects)."""
        response = self._request("GET", final, headers)
        try:
            if response.status_code == 200:
                raise ProbeError(_range_message(url))
            if response.status_code != 206:
                raise ProbeError(f"{url}: HTTP {response.status_code} for a range request")
            data = response.read()
        finally:
            response.close()
        with self._lock:
            self.stats.bytes_read += len(data)
        return data


class _Ranges:
    """Fetches byte ranges of one remote file for a RangeFile, within the budget, and
    only of the same file (If-Range with its strong ETag)."""

    def __init__(self, prober: Prober, url: str, final: str, strong: str | None) -> None:
        self.prober, self.url, self.final, self.strong = prober, url, final, strong
        self.spent = 0

    def __call__(self, first: int, last: int) -> bytes:
        self.spent += last - first + 1
        if self.spent > BUDGET:
            raise ProbeError(f"{self.url}: reading it would take more than {BUDGET} bytes")
        headers = {"Range": f"bytes={first}-{last}"}
        if self.strong:
            headers["If-Range"] = self.strong
        return self.prober.fetch(self.url, self.final, headers)


def _unchanged(cached: CacheEntry, head: httpx.Response) -> bool:
    if head.status_code == 304:
        return True
    etag = head.headers.get("ETag")
    if etag and cached.etag:
        return bool(etag == cached.etag)
    modified = head.headers.get("Last-Modified")
    return bool(modified and modified == cached.last_modified and _length(head) == cached.length)


def _length(response: httpx.Response | None) -> int | None:
    if response is None or response.status_code != 200:
        return None
    if response.headers.get("Content-Encoding", "identity") != "identity":
        return None
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _total(response: httpx.Response) -> int | None:
    match = re.fullmatch(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
    return int(match[1]) if match else None


def _range_message(url: str) -> str:
    return (
        f"{url}: the server ignores Range requests (it answered 200 with the whole file); "
        "Apple Podcasts rejects such hosts; serve the file from one that supports byte ranges"
    )
