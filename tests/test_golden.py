"""The sample project's rendered text output, byte for byte.

After an intended change of output, refresh the golden files with

    CASTCAL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.conftest import DATA, Run

GOLDEN = DATA / "golden"
TEXT_SUFFIXES = {".xml", ".json", ".ics", ".vtt", ".html", ".atom"}


def test_sample_output_matches_golden(project: Path, castcal: Callable[..., Run]) -> None:
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    feeds = project / "feeds"
    produced = {
        p.relative_to(feeds).as_posix(): p.read_bytes()
        for p in sorted(feeds.rglob("*"))
        if p.is_file() and p.suffix in TEXT_SUFFIXES and not p.name.startswith(".")
    }
    if os.environ.get("CASTCAL_UPDATE_GOLDEN") == "1":
        for old in GOLDEN.rglob("*"):
            if old.is_file():
                old.unlink()
        for name, data in produced.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes()
        for p in sorted(GOLDEN.rglob("*"))
        if p.is_file()
    }
    assert sorted(produced) == sorted(expected)
    for name, data in produced.items():
        assert data == expected[name], f"{name} differs from tests/data/golden/{name}"
