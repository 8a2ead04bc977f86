"""Shared fixtures: a copy of the sample project, the CLI, and system-program checks."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from castcal.cli import cli

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_PARTS = ("config.toml", "cover.jpg", "episodes", "events")
FEED_URL = "https://www.example.org/endringspodden/podcast.xml"


def copy_sample(dest: Path) -> Path:
    """The repository's sample content, copied so a test may change it freely."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        elif source.exists():
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "project")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path) -> Run:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def castcal() -> Callable[..., Run]:
    return run_cli


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every published file under ``folder`` with its sha256 and mtime: to prove nothing
    changed. Dot files (the build lock, the build's own state) are not published."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def need_program(name: str) -> str:
    """The path of a system program; skip without it, unless CI demands it."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed"
    if os.environ.get("CASTCAL_REQUIRE_SYSTEM_TOOLS") == "1":
        pytest.fail(f"{message}, and CASTCAL_REQUIRE_SYSTEM_TOOLS=1 makes it mandatory")
    pytest.skip(message)


# A fixed build time, so output stamped on first publication is the same on every run.
BUILD_EPOCH = 1_790_000_000  # 2026-09-21T14:13:20Z


@pytest.fixture(autouse=True)
def fixed_build_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(BUILD_EPOCH))
