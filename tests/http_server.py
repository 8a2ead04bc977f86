"""A real HTTP server on 127.0.0.1 for tests: static files with byte ranges, ETags and
conditional requests, plus routes that misbehave the ways real hosts do."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    body: bytes = b""
    sent: int = 0  # bytes of body sent


@dataclass
class Site:
    files: dict[str, bytes] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    delay: float = 0.0  # seconds before every answer
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    active: int = 0  # GET and HEAD requests being answered now
    peak: int = 0  # the most answered at once
    etags: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # by id(data)

    def etag(self, data: bytes) -> str:
        """The ETag of ``data``: hashed once, not on every request (the entry keeps ``data``
        alive, so its id is not reused)."""
        with self.lock:
            known = self.etags.get(id(data))
            if known is None:
                known = self.etags[id(data)] = (
                    data,
                    '"' + hashlib.sha256(data).hexdigest()[:16] + '"',
                )
            return known[1]

    def sent(self, path_part: str = "") -> int:
        """Bytes of body sent in answer to requests whose path holds ``path_part``."""
        return sum(r.sent for r in self.requests(path_part))

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def requests(self, path_part: str = "") -> list[Logged]:
        with self.lock:
            return [r for r in self.log if path_part in r.path]


class Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK (40 ms) on every request of a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.counted(head=True)

    def do_GET(self) -> None:
        self.counted(head=False)

    def counted(self, head: bool) -> None:
        """Answer, counting the requests answered at once."""
        site = self.site
        with site.lock:
            site.active += 1
            site.peak = max(site.peak, site.active)
        try:
            self.answer(head)
        finally:
            with site.lock:
                site.active -= 1

    def do_POST(self) -> None:
        """A hub: records the ping, answers 202 (or the status a /status/N path asks for)."""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        match = re.fullmatch(r"/status/(\d+)", self.path)
        status = int(match[1]) if match else 202
        with self.site.lock:
            self.site.log.append(Logged("POST", self.path, dict(self.headers), status, body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        sent = 0 if head else len(body)
        with self.site.lock:
            self.site.log.append(
                Logged(self.command, self.path, dict(self.headers), status, sent=sent)
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers and not headers.get("X-No-Length"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def answer(self, head: bool) -> None:
        if self.site.delay:
            time.sleep(self.site.delay)
        path = self.path
        if path.startswith("/pubnotify"):  # a Podcast Index style ping endpoint
            self.send(200, {}, b"", head)
            return
        if path.startswith("/podping"):  # as podping.cloud: a token and a User-Agent, or 401
            known = self.headers.get("Authorization") and self.headers.get("User-Agent")
            self.send(200 if known else 401, {}, b"", head)
            return
        if m := re.fullmatch(r"/status/(\d+)", path):
            self.send(int(m[1]), {}, b"", head)
            return
        if m := re.fullmatch(r"/redirect/(\d+)/(.+)", path):
            hops = int(m[1])
            target = f"/redirect/{hops - 1}/{m[2]}" if hops > 1 else f"/files/{m[2]}"
            self.send(302, {"Location": target}, b"", head)
            return
        if m := re.fullmatch(r"/slow/(\d+)/(.+)", path):
            time.sleep(int(m[1]) / 1000)
            path = f"/files/{m[2]}"
        kind, _, name = path.lstrip("/").partition("/")
        data = self.site.files.get(name)
        if data is None:
            self.send(404, {}, b"not found", head)
            return
        if kind == "nohead" and head:
            self.send(405, {"Allow": "GET"}, b"", head)
            return
        etag = self.site.etag(data)
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(1_700_000_000, usegmt=True),
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream" if kind == "octet" else "audio/mpeg",
        }
        if kind == "nolength" and head:
            self.send(200, {**headers, "X-No-Length": "1", "Connection": "close"}, b"", head)
            self.close_connection = True
            return
        if self.headers.get("If-None-Match") == etag:
            self.send(304, {"ETag": etag}, b"", head)
            return
        wanted = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if kind == "norange" or wanted is None or (if_range and if_range != etag):
            self.send(200, headers, data, head)
            return
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
        if not m:
            self.send(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
            return
        if m[1] == "":
            first, last = max(0, len(data) - int(m[2])), len(data) - 1
        else:
            first = int(m[1])
            last = min(int(m[2]) if m[2] else len(data) - 1, len(data) - 1)
        if first >= len(data) or first > last:
            self.send(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
            return
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        self.send(206, headers, data[first : last + 1], head)


class QuietServer(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once in the concurrency tests

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (timeouts, cut-off bodies) are part of the tests


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    handler = type("BoundHandler", (Handler,), {"site": site})
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
