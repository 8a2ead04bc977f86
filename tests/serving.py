"""Runs `castcal serve` as a user would, in a subprocess, and tells the tests its URL;
what it prints to stderr (the build's summary, a line per request) goes to ``log``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REQUEST_LINE = re.compile(r"(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|BREW) ")


@contextmanager
def castcal_serve(project: Path, *args: str, log: Path | None = None) -> Iterator[str]:
    command = [sys.executable, "-m", "castcal", "serve", "--port", "0", *args]
    command += ["--config", str(project / "config.toml")]
    with (
        (log or Path(os.devnull)).open("w") as stderr,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            assert match, line
            yield match[1]
        finally:
            process.terminate()
            process.wait(timeout=10)


def request_lines(log: Path, count: int) -> list[str]:
    """The lines about requests in the server's ``log``, once there are ``count`` of them
    (the server writes each once its answer is sent: the client may see it first)."""
    deadline = time.monotonic() + 20
    while True:
        lines = [line for line in log.read_text().splitlines() if REQUEST_LINE.match(line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)
