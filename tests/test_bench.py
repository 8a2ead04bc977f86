"""The benchmark command runs, and its JSON holds every figure it promises. (The real
numbers come from running it by hand, never from timed assertions here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [
            sys.executable, str(REPO / "bench" / "run.py"), "--episodes", "50", "--meetings",
            "50", "--runs", "2", "--memory-episodes", "60", "--json", str(out),
        ],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "(a) cold build" in run.stdout and "b/e" in run.stdout
    result = json.loads(out.read_text())
    assert set(result["times"]) == set("abcdefghij")
    for timing in result["times"].values():
        assert timing["median"] > 0 and timing["spread"] >= 0 and timing["runs"] == 2
    assert set(result["ratios"]) == {
        "b/a", "b/e", "c/b", "d/b", "a/f", "g/f", "a/(f+g)", "h/b", "i/b", "least c/b",
        "least d/b",
    }  # fmt: skip
    # The write floor wrote every file the cold build did, and the audio's bytes at least.
    assert result["published_files"] == result["files_written_cold"] > 150
    assert result["published_bytes"] > 50 * 50_000
    assert result["files_written_no_change"] == 0
    assert result["files_written_one_change"] > 0  # the one-change runs changed something
    memory = result["memory"]
    assert memory["cold_kib"] > 0 and memory["cold_large_kib"] > 0
    assert memory["large_episodes"] == 60 and memory["ratio"] > 0
