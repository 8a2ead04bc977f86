"""Facts about audio hosted elsewhere, read over HTTP without downloading it.

HEAD (following redirects) gives the size; where HEAD is refused or has no length, a
``Range: bytes=0-0`` request does. mutagen then reads the few blocks it needs through
Range requests. Results are kept by URL with the server's validators (the build remembers
them), so a rebuild costs one conditional request per enclosure, and ``--offline`` builds
from what is remembered alone.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from castcal import __version__
from castcal.content.models import AudioFacts
from castcal.media.probe import AudioError, identify

USER_AGENT = f"castcal/{__version__} (podcast feed builder; enclosure probe)"
BLOCK = 64 * 1024
BUDGET = 100 * 1024 * 1024  # most bytes one probe may read (a VBR MP3 without a header)


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
    )


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in aligned blocks on demand."""

    def __init__(self, fetch: Callable[[int, int], bytes], size: int) -> None:
        self._fetch, self._size, self._pos = fetch, size, 0
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        out = bytearray()
        while self._pos < end:
            index = self._pos // BLOCK
            block = self._blocks.get(index)
            if block is None:
                first = index * BLOCK
                block = self._fetch(first, min(self._size, first + BLOCK) - 1)
                self._blocks[index] = block
            start = self._pos - index * BLOCK
            piece = block[start : start + end - self._pos]
            if not piece:
                break
            out += piece
            self._pos += len(piece)
        return bytes(out)

    def whole(self) -> bytes:
        self.seek(0)
        return self.read()


class Prober:
    """Probes remote enclosures with one shared client, a cache, retries and a bounded
    number of requests in flight."""

    def __init__(
        self,
        client: httpx.Client,
        cache: dict[str, CacheEntry] | None = None,
        *,
        offline: bool = False,
        workers: int = 8,
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
        head = self._head(url, cached)
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
            return None  # HEAD refused: the range request below tells the size
        if response.status_code >= 400:
            raise ProbeError(f"{url}: HTTP {response.status_code}")
        return response

    def _probe_fresh(self, url: str, head: httpx.Response | None) -> CacheEntry:
        final, size, etag, modified = self._where(url, head)
        strong = etag if etag and not etag.startswith("W/") else None
        reader = RangeFile(_Ranges(self, url, final, strong), size)
        try:
            facts = identify(reader, size, reader.whole, local=False)  # type: ignore[arg-type]
        except AudioError as exc:
            raise ProbeError(f"{url}: {exc}") from exc
        return CacheEntry(
            final_url=final,
            etag=etag,
            last_modified=modified,
            length=size,
            mime=facts.mime,
            extension=facts.extension,
            duration=facts.duration,
        )

    def _where(
        self, url: str, head: httpx.Response | None
    ) -> tuple[str, int, str | None, str | None]:
        """Where the file is (after redirects), its size and its validators: from the
        HEAD answer, or a ``Range: bytes=0-0`` request where that tells no length."""
        size = _length(head)
        final = str(head.url) if head is not None else url
        etag = head.headers.get("ETag") if head is not None else None
        modified = head.headers.get("Last-Modified") if head is not None else None
        if size is None:
            response = self._request("GET", url, {"Range": "bytes=0-0"})
            response.close()  # never read the body: a server ignoring Range sends it all
            if response.status_code == 200:
                raise ProbeError(_range_message(url))
            if response.status_code != 206:
                raise ProbeError(f"{url}: HTTP {response.status_code}")
            size = _total(response)
            final = str(response.url)
            etag = response.headers.get("ETag", etag)
            modified = response.headers.get("Last-Modified", modified)
        if size is None or size <= 0:
            raise ProbeError(f"{url}: the server tells no length for the file")
        return final, size, etag, modified

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
