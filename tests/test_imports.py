"""Heavy modules are imported only by the commands that use them: a scheduled build with
nothing to do loads no renderer, and no build loads the network or upload libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "rich", "jinja2", "boto3", "httpx", "feedgen", "lxml", "icalendar", "mutagen", "PIL",
    "markdown_it",
)  # fmt: skip

PROBE = """
import sys
from castcal.__main__ import run
sys.argv = ["castcal", *sys.argv[1:]]
try:
    run()
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print("heavy:", *(m for m in {heavy!r} if m in sys.modules))
"""


def loaded(*args: str | Path, env: dict[str, str] | None = None) -> set[str]:
    """The heavy modules a fresh interpreter has imported after running castcal ``args``."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("heavy:")]
    return set(line.split()[1:])


def test_heavy_modules_only_where_used(project: Path) -> None:
    config = project / "config.toml"
    cold = loaded("build", "--config", config, "-q", "--jobs", "1")
    assert not cold & {"rich", "boto3", "httpx"}  # local audio, no terminal, no publish
    assert {"feedgen", "icalendar", "jinja2"} <= cold  # the sanity of this test
    assert loaded("build", "--config", config, "-q") == set()  # nothing changed
    assert loaded("check", "--config", config) == set()


def test_an_episode_change_loads_only_what_it_needs(project: Path) -> None:
    config = project / "config.toml"
    loaded("build", "--config", config, "-q")
    episode = project / "episodes/hva-er-endringsledelse/episode.toml"
    text = episode.read_text()
    assert 'title = "' in text
    episode.write_text(text.replace('title = "', 'title = "Endret: ', 1))
    one_change = loaded("build", "--config", config, "-q", "--jobs", "1")
    assert {"feedgen", "jinja2"} <= one_change  # the feeds and the page are made again
    assert "icalendar" not in one_change  # the calendars did not change
    assert "markdown_it" not in one_change  # nor the notes: their HTML is the last build's
    feed = (project / "feeds/podcast.xml").read_text()
    assert "Endret: " in feed
    notes = project / "episodes/hva-er-endringsledelse/notes.md"
    notes.write_text(notes.read_text() + "\nEn **ny** linje.\n")
    assert "markdown_it" in loaded("build", "--config", config, "-q", "--jobs", "1")
    assert "En <strong>ny</strong> linje." in (project / "feeds/podcast.xml").read_text()
    assert "En <strong>ny</strong> linje." in (project / "feeds/index.html").read_text()


def test_the_atom_feed_needs_no_template_engine() -> None:
    """A build after a meeting changed makes the Atom feed and the page: the feed's
    Norwegian dates must not bring Jinja2 in with the page module, nor any renderer the
    libraries of the others."""
    code = "import sys, castcal.render.atom; print('jinja2' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
