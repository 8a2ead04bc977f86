"""Benchmark castcal against the least work possible and against a plain script.

    python bench/run.py                      # 1,000 episodes and 1,000 meetings, 5 runs each
    python bench/run.py --episodes 50 --meetings 50 --runs 1 --memory-episodes 100

Every timing is a whole process (interpreter start included), run several times; the table
gives the median and the spread (max - min). The JSON (--json) holds the same numbers.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import make_project  # noqa: E402

# Runs a command and prints the peak resident memory of everything it started, in KiB.
PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def compile_castcal() -> None:
    """castcal's modules compiled to bytecode, as an installed castcal has them (pip compiles
    on install). An editable install run with PYTHONDONTWRITEBYTECODE would otherwise compile
    them again in every timed process, which no scheduled job does."""
    spec = importlib.util.find_spec("castcal")
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit("castcal is not installed in this Python")
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def castcal(project: Path) -> list[str]:
    return [sys.executable, "-m", "castcal", "build", "--config", str(project / "config.toml")]


# The least a build with one changed item must import, whatever its design: the libraries
# DESIGN.md chose for what that item touches (its TOML is validated by pydantic, the feeds are
# rendered by feedgen, the pages by Jinja2, the calendars by icalendar). (b) imports none of them.
IMPORTS = {
    "h": "from pydantic import BaseModel; import feedgen.feed, jinja2",
    "i": "from pydantic import BaseModel; import feedgen.feed, icalendar, jinja2",
    "j": "pass",  # a Python started, nothing imported
}


def timed(command: list[str]) -> tuple[float, str, int]:
    """Seconds, stdout, and peak memory (KiB) of one run of ``command``."""
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", PEAK, *command], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr}")
    peak = int(run.stderr.strip().splitlines()[-1])
    return elapsed, run.stdout, peak


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 4),
        "spread": round(max(samples) - min(samples), 4),
        "min": round(min(samples), 4),
        "runs": len(samples),
    }


def written(stdout: str) -> int:
    match = re.search(r"; (\d+) files? written", stdout)
    return int(match[1]) if match else -1


def clean(project: Path, trash: Path) -> None:
    """No feeds/ and no caches, as before a first build. The old ones are moved aside, not
    deleted, until the timed runs are done: on ext4 without a journal, creating a file skips every
    inode of its block group freed in the last 60 s (300 s while not yet on disk), one by
    one (recently_deleted() in fs/ext4/ialloc.c). Right after the 5,000 files of the last
    cold build were deleted, each file the next one created took 0.5-1 ms of kernel time
    instead of 0.04 ms here, a cost of the bench's own cleaning that no first build has."""
    for name in ("feeds", ".castcal-cache"):
        if (project / name).exists():
            trash.mkdir(exist_ok=True)
            (project / name).rename(trash / f"{name}-{len(list(trash.iterdir()))}")


def bench(project: Path, runs: int, trash: Path) -> dict[str, object]:
    times: dict[str, list[float]] = {k: [] for k in "abcdefghij"}
    cold_peak, cold_written, no_change_written, one_change_written = 0, [], [], []
    published = [0, 0]  # files and bytes the write floor wrote
    episode = sorted((project / "episodes").iterdir())[
        len(list((project / "episodes").iterdir())) // 2
    ]
    meeting = sorted((project / "events").glob("*.toml"))[-1]
    for run in range(runs):
        clean(project, trash)
        seconds, out, peak = timed(castcal(project))
        times["a"].append(seconds)
        cold_written.append(written(out))
        cold_peak = max(cold_peak, peak)
        seconds, out, _ = timed(castcal(project))
        times["b"].append(seconds)
        no_change_written.append(written(out))
        # A new title in every run: each (c) and (d) build has a real change to publish.
        toml = episode / "episode.toml"
        text = toml.read_text("utf-8")
        toml.write_text(re.sub(r'(?m)^title = ".*"$', f'title = "Endret {run}"', text, count=1))
        seconds, out, _ = timed(castcal(project))
        times["c"].append(seconds)
        one_change_written.append(written(out))
        text = meeting.read_text("utf-8")
        meeting.write_text(re.sub(r'(?m)^title = ".*"$', f'title = "Endret {run}"', text, count=1))
        seconds, out, _ = timed(castcal(project))
        times["d"].append(seconds)
        one_change_written.append(written(out))
        times["e"].append(timed([sys.executable, str(HERE / "floor.py"), str(project)])[0])
        baseline_out = project / "baseline-out"
        shutil.rmtree(baseline_out, ignore_errors=True)
        times["f"].append(
            timed([sys.executable, str(HERE / "baseline.py"), str(project), str(baseline_out)])[0]
        )
        copies = trash / f"writes-{run}"  # a new folder each run, left for the end like feeds/
        seconds, out, _ = timed(
            [sys.executable, str(HERE / "writes.py"), str(project / "feeds"), str(copies)]
        )
        times["g"].append(seconds)
        published = [int(n) for n in re.findall(r"\d+", out)]
        for key, imports in IMPORTS.items():
            times[key].append(timed([sys.executable, "-c", imports])[0])
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "times": {name: stats(samples) for name, samples in times.items()},
        "ratios": {
            "b/a": round(medians["b"] / medians["a"], 3),
            "b/e": round(medians["b"] / medians["e"], 3),
            "c/b": round(medians["c"] / medians["b"], 3),
            "d/b": round(medians["d"] / medians["b"], 3),
            "a/f": round(medians["a"] / medians["f"], 3),
            # What the bytes alone cost next to the baseline, and the cold build next to the
            # least a tool publishing the same files must do: the baseline's work plus them.
            "g/f": round(medians["g"] / medians["f"], 3),
            "a/(f+g)": round(medians["a"] / (medians["f"] + medians["g"]), 3),
            # How much of c/b and d/b the imports alone take, before a file is read; and
            # the least c/b and d/b of any design: those imports, and then finding what
            # changed, which is (b)'s work after its interpreter started.
            "h/b": round(medians["h"] / medians["b"], 3),
            "i/b": round(medians["i"] / medians["b"], 3),
            "least c/b": round((medians["h"] + medians["b"] - medians["j"]) / medians["b"], 3),
            "least d/b": round((medians["i"] + medians["b"] - medians["j"]) / medians["b"], 3),
        },
        "files_written_cold": min(cold_written),
        # What the write floor (g) wrote: the files a build publishes, and their bytes.
        "published_files": published[0],
        "published_bytes": published[1],
        "files_written_no_change": max(no_change_written),
        "files_written_one_change": min(one_change_written),  # > 0: each change was seen
        "peak_kib_cold": cold_peak,
    }


LABELS = {
    "a": "(a) cold build, empty feeds/",
    "b": "(b) build, nothing changed",
    "c": "(c) build, one episode.toml changed",
    "d": "(d) build, one meeting changed",
    "e": "(e) floor: parse all TOML, stat all audio",
    "f": "(f) plain baseline script",
    "g": "(g) write floor: the published files written again, one sync",
    "h": "(h) import floor of (c): Python started, pydantic, feedgen and Jinja2 imported",
    "i": "(i) import floor of (d): the same and icalendar",
    "j": "(j) a Python started, nothing imported",
}
TARGETS = {"b/e": 1.5, "c/b": 1.5, "d/b": 1.5, "a/(f+g)": 1.5}


def table(result: dict[str, object]) -> str:
    times = result["times"]
    assert isinstance(times, dict)
    lines = ["| run | median s | spread s |", "|---|---|---|"]
    for key, label in LABELS.items():
        lines.append(f"| {label} | {times[key]['median']:.3f} | {times[key]['spread']:.3f} |")
    lines += ["", "| ratio | value | target |", "|---|---|---|"]
    ratios = result["ratios"]
    assert isinstance(ratios, dict)
    for name, value in ratios.items():
        target = TARGETS.get(name)
        mark = "" if target is None else (f"≤ {target}" + (" ✓" if value <= target else " ✗"))
        lines.append(f"| {name} | {value} | {mark} |")
    memory = result["memory"]
    assert isinstance(memory, dict)
    lines += [
        "",
        f"files written by a cold build: {result['files_written_cold']}; the write floor "
        f"wrote {result['published_files']} files, {result['published_bytes']:,} bytes",
        f"files written with nothing changed: {result['files_written_no_change']}",
        f"files written after one change (fewest): {result['files_written_one_change']}",
        f"peak memory, cold build: {memory['cold_kib']} KiB at {memory['episodes']} episodes, "
        f"{memory['cold_large_kib']} KiB at {memory['large_episodes']} episodes "
        f"(ratio {memory['ratio']}, target < 2.5)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--memory-episodes", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    compile_castcal()
    with tempfile.TemporaryDirectory(prefix="castcal-bench-") as tmp:
        project = make_project(Path(tmp) / "project", args.episodes, args.meetings, args.seed)
        trash = Path(tmp) / "trash"
        result = bench(project, args.runs, trash)
        shutil.rmtree(project)  # the large build is not timed: its memory only
        shutil.rmtree(trash, ignore_errors=True)
        large = make_project(Path(tmp) / "large", args.memory_episodes, args.meetings, args.seed)
        large_peak = timed(castcal(large))[2]
    cold_peak = result.pop("peak_kib_cold")
    assert isinstance(cold_peak, int)
    result["memory"] = {
        "episodes": args.episodes,
        "cold_kib": cold_peak,
        "large_episodes": args.memory_episodes,
        "cold_large_kib": large_peak,
        "ratio": round(large_peak / cold_peak, 3),
    }
    result["parameters"] = {
        "episodes": args.episodes,
        "meetings": args.meetings,
        "runs": args.runs,
        "seed": args.seed,
        "cpus": os.cpu_count(),
    }
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
