"""Runs `castcal serve` as a user would, in a subprocess, and tells the tests its URL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def castcal_serve(project: Path, *args: str) -> Iterator[str]:
    command = [sys.executable, "-m", "castcal", "serve", "--port", "0", *args]
    command += ["--config", str(project / "config.toml")]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            assert match, line
            yield match[1]
        finally:
            process.terminate()
            process.wait(timeout=10)
