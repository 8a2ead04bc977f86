"""A local preview of the output (serve's own folder, drafts and scheduled episodes
included), served the way a good static host serves it: the right
Content-Type for each kind of file, ETag and Last-Modified with 304s, byte ranges for
audio, HEAD, no directory listings, and never a file outside the folder. One line on
stderr per request (method, path, status), as `mkdocs serve` prints them.

With --watch, each HTML page it serves gets a small script that asks RELOAD_PATH which
rebuild the preview is at, and reloads the page when that changes; the files in the
folder never hold it."""

from __future__ import annotations

import email.utils
import functools
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from castcal.errors import CastcalError, ContentError
from castcal.render.mediatypes import content_type

if TYPE_CHECKING:
    from castcal.build.pipeline import Request

RELOAD_PATH = "/__castcal_reload"
# Added before </body> of each HTML page served with --watch: asks every second which
# rebuild the preview is at, and reloads the page once it is another than the page's.
RELOAD_SCRIPT = """<script>(function () {
  var seen = "%d";
  function ask() {
    fetch("%s", {cache: "no-store"}).then(function (answer) { return answer.text(); })
      .then(function (now) { if (now !== seen) { location.reload(); } })
      .catch(function () {}).then(function () { setTimeout(ask, 1000); });
  }
  setTimeout(ask, 1000);
})();</script>
"""


class Rebuilds:
    """How many rebuilds --watch has made: what the pages' script compares."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def count(self) -> int:
        with self._lock:
            return self._count

    def add(self) -> None:
        with self._lock:
            self._count += 1


def with_reload(page: bytes, rebuilds: int) -> bytes:
    """An HTML page with the reload script before its </body> (at its end without one)."""
    script = (RELOAD_SCRIPT % (rebuilds, RELOAD_PATH)).encode()
    at = page.lower().rfind(b"</body>")
    return page + script if at < 0 else page[:at] + script + page[at:]


def resolve(root: Path, raw_path: str) -> Path | int:
    """The file a request path names inside ``root``, or the status to answer instead."""
    path = urlsplit(raw_path).path
    decoded = unquote(path)
    if "\\" in decoded or "\0" in decoded or not decoded.startswith("/"):
        return HTTPStatus.BAD_REQUEST
    parts = decoded.split("/")[1:]
    if any(part in ("..", ".") for part in parts):
        return HTTPStatus.BAD_REQUEST
    if any(part.startswith(".") for part in parts if part):
        return HTTPStatus.NOT_FOUND  # the lock file and other dot files are not published
    target = root.joinpath(*[p for p in parts if p])
    try:
        target = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return HTTPStatus.NOT_FOUND
    if not target.is_relative_to(root):
        return HTTPStatus.NOT_FOUND  # a symlink out of the folder
    if target.is_dir():
        target = target / "index.html"  # never a listing
    return target if target.is_file() else HTTPStatus.NOT_FOUND


# Control characters in a logged path, shown escaped: a request cannot drive the terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}
_LOG = threading.Lock()
# One entity tag of a list (RFC 9110 8.8.3): its opaque tag, quotes included.
_ENTITY_TAG = re.compile(r'[\s,]*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


class Handler(BaseHTTPRequestHandler):
    root: Path
    protocol_version = "HTTP/1.1"
    status: int | None = None  # of the answer to the request at hand
    dropped: str = ""  # how far the answer got when the client closed the connection

    def version_string(self) -> str:
        return "castcal"

    def log_message(self, format: str, *args: object) -> None:
        pass  # http.server's own lines: handle_one_request writes one of its own

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.status = int(code) if isinstance(code, int) else None

    def handle_one_request(self) -> None:
        """One request, and one line about it; a client gone mid-answer ends the
        connection, and is said in that line."""
        self.requestline, self.command, self.status, self.dropped = "", "", None, ""
        try:
            super().handle_one_request()
        except ConnectionError:
            self.close_connection = True
            self.dropped = self.dropped or "the client closed the connection"
        if self.requestline:
            _log(self._summary())

    def _summary(self) -> str:
        target = getattr(self, "path", "") if self.command else self.requestline
        line = f"{self.command} {target}" if self.command else target
        line = f"{line.translate(_CONTROL)} {self.status or '-'}"
        return f"{line} ({self.dropped})" if self.dropped else line

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _error(self, status: int, head: bool, extra: dict[str, str] | None = None) -> None:
        body = f"{status} {HTTPStatus(status).phrase}\n".encode()
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        rebuilds = self.server.rebuilds if isinstance(self.server, Server) else None
        if rebuilds is not None and urlsplit(self.path).path == RELOAD_PATH:
            self._send_whole(str(rebuilds.count()).encode(), "text/plain; charset=utf-8", head)
            return
        found = resolve(self.root, self.path)
        if isinstance(found, int):
            self._error(found, head)
            return
        kind = content_type(found.relative_to(self.root).as_posix())
        if rebuilds is not None and kind.startswith("text/html"):
            self._send_whole(with_reload(found.read_bytes(), rebuilds.count()), kind, head)
            return
        stat = found.stat()
        size = stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers = {
            "Content-Type": content_type(found.relative_to(self.root).as_posix()),
            "ETag": etag,
            "Last-Modified": modified,
            "Accept-Ranges": "bytes",
            "Cache-Control": "no-cache",
            "Access-Control-Allow-Origin": "*",  # web players read chapters and transcripts
        }
        if_none_match = self.headers.get("If-None-Match")
        if not_modified(if_none_match, etag) or self._not_modified_since(stat.st_mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name in ("ETag", "Last-Modified", "Cache-Control"):
                self.send_header(name, headers[name])
            self.end_headers()
            return
        ranged = self._ranged((etag, modified))
        span = _range(self.headers["Range"], size) if ranged else (0, size - 1)
        if span is None:
            unsatisfiable = {"Content-Range": f"bytes */{size}"}
            self._error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, head, unsatisfiable)
            return
        first, last = span
        status = HTTPStatus.PARTIAL_CONTENT if ranged else HTTPStatus.OK
        if ranged:
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1 if size else 0)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head and size:
            self._send(found, first, last)

    def _send_whole(self, body: bytes, kind: str, head: bool) -> None:
        """An answer made here (not a file as it is): never kept by the browser, so a
        page always comes with the script of the rebuild at hand."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _ranged(self, validators: tuple[str, str]) -> bool:
        """Whether the request asks for one range of the file as it is: 206 for it, as
        Apple requires of podcast hosts; several ranges get the whole file, which RFC
        9110 allows, and so does a range of another version of the file (If-Range)."""
        wanted = self.headers.get("Range") or ""
        if_range = self.headers.get("If-Range")
        in_bytes = wanted.partition("=")[0].strip().lower() == "bytes"  # other units ignored
        return in_bytes and (if_range is None or if_range in validators) and "," not in wanted

    def _send(self, found: Path, first: int, last: int) -> None:
        total = last - first + 1
        sent = 0
        with found.open("rb") as f:
            f.seek(first)
            while sent < total:
                chunk = f.read(min(total - sent, 1 << 16))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except ConnectionError:
                    self.dropped = f"the client closed the connection after {sent} of {total} bytes"
                    raise
                sent += len(chunk)

    def _not_modified_since(self, mtime: float) -> bool:
        """If-Modified-Since, which If-None-Match overrides (RFC 9110 13.1.3)."""
        if self.headers.get("If-None-Match") is not None:
            return False
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                when = email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return int(mtime) <= when.timestamp()
        return False


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (or is ``*``), compared weakly as RFC 9110
    13.1.2 asks: W/"x" and "x" are the same tag."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = []
    rest = if_none_match
    while rest.strip(" \t,"):  # empty list elements are allowed
        match = _ENTITY_TAG.match(rest)
        if match is None:
            return False  # not a list of entity tags: it names none
        tags.append(match[1])
        rest = rest[match.end() :]
    return etag.removeprefix("W/") in tags


def _log(line: str) -> None:
    """One line on stderr, whole, whichever thread writes it."""
    with _LOG:
        print(line, file=sys.stderr, flush=True)


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The byte range asked for, clamped to the file; None if it cannot be satisfied."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header, re.IGNORECASE)
    if match is None:
        return None
    start, end = match.groups()
    if start == "" and end == "":
        return None
    if start == "":
        length = int(end)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        return None
    return first, last


class Server(ThreadingHTTPServer):
    daemon_threads = True
    rebuilds: Rebuilds | None = None  # with --watch: pages get the reload script

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """A connection the client dropped was told in its request's line; anything else
        is a bug, and shows its traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(root: Path, host: str, port: int) -> Server:
    handler = type("Handler", (Handler,), {"root": root.resolve()})
    return Server((host, port), handler)


def content_signature(project_root: Path) -> tuple[tuple[str, int, int], ...]:
    """What --watch compares: every content file's name, size and modification time."""
    paths = [project_root / "config.toml"]
    for folder in ("episodes", "events"):
        paths += sorted((project_root / folder).rglob("*"))
    signature = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        signature.append((str(path), stat.st_size, stat.st_mtime_ns))
    signature.append(("cover", *_cover_stat(project_root)))
    return tuple(signature)


def _cover_stat(project_root: Path) -> tuple[int, int]:
    stats = [p.stat() for p in project_root.glob("cover.*") if p.is_file()]
    return (sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0))


def run(
    server: Server,
    project_root: Path,
    rebuild: Callable[[], object] | None,
    seen: tuple[tuple[str, int, int], ...],
) -> None:
    """Serve until interrupted; with ``rebuild``, call it whenever the content changes."""
    stop = threading.Event()
    if rebuild is not None:
        server.rebuilds = Rebuilds()
        counted = functools.partial(_counted, rebuild, server.rebuilds)
        watcher = threading.Thread(
            target=watch, args=(project_root, counted, stop, seen), daemon=True
        )
        watcher.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


def _counted(rebuild: Callable[[], object], rebuilds: Rebuilds) -> None:
    """A rebuild, counted once done: open pages reload then."""
    rebuild()
    rebuilds.add()


def watch(
    project_root: Path,
    rebuild: Callable[[], object],
    stop: threading.Event,
    seen: tuple[tuple[str, int, int], ...],
    interval: float = 1.0,
) -> None:
    """Call ``rebuild`` whenever the content differs from ``seen``, until ``stop`` is set."""
    while not stop.wait(interval):
        now = content_signature(project_root)
        if now != seen:
            seen = now
            time.sleep(0.2)  # let an editor finish saving
            rebuild()


def rebuild(request: Request) -> Path | None:
    """A build for the preview: its problems and warnings are printed, and the preview
    goes on (with the folder as the last build that worked left it)."""
    from castcal.build.pipeline import build

    try:
        result = build(request)
    except CastcalError as error:
        problems = error.problems if isinstance(error, ContentError) else []
        for line in [str(p) for p in problems] or [f"error: {error}"]:
            print(line, file=sys.stderr)
        return None
    for warning in result.project.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    return result.out_dir
