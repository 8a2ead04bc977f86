"""A file handed to the writer in pieces (a feed, the page) is written as the pieces
joined, in order, however many and however large; and it is the same as a file on disk
exactly when the joined pieces are. The temporary files of a build killed before it
renamed them are removed by the next build, which says how many."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from castcal.write import writer
from tests.conftest import Run

pieces = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.integers(1, 3).map(lambda n: bytes([n]) * (writer.WRITE_SIZE - 1 + n)),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(parts=pieces, other=pieces)
def test_pieces_are_written_and_compared_as_joined(parts: list[bytes], other: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dest = Path(folder) / "feed.xml"
        writer.replace(dest, parts)
        whole = b"".join(parts)
        assert dest.read_bytes() == whole
        assert writer.same(dest, parts) and writer.same(dest, whole)
        assert writer.same(dest, [whole[i : i + 4099] for i in range(0, len(whole), 4099)])
        assert writer.same(dest, other) == (b"".join(other) == whole)
        if whole:  # one byte changed anywhere
            changed = bytearray(whole)
            changed[len(whole) // 3] ^= 1
            assert not writer.same(dest, [bytes(changed)])


# The build, killed (SIGKILL) as it is about to rename the first file it staged: every
# file it wrote is still a temporary file, as a power cut or the OOM killer leaves them.
KILLED_BEFORE_RENAMING = """
import os, signal, sys
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = killed
from castcal.cli import cli
cli(sys.argv[1:])
"""


def temporary_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*.tmp") if p.is_file())


def test_the_next_build_removes_what_a_killed_build_left_and_says_how_many(
    project: Path, castcal: Callable[..., Run]
) -> None:
    config = str(project / "config.toml")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_RENAMING, "build", "--jobs", "1", "--config", config],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    left = temporary_files(project / "feeds")
    assert len(left) > 3  # the audio, the feeds, the calendars, the page ...
    assert not (project / "feeds/podcast.xml").exists()
    again = castcal("build", "--config", config)
    assert again.exit_code == 0, again.stderr
    assert temporary_files(project / "feeds") == []
    expected = f"removed {len(left)} temporary files left by an interrupted build"
    assert expected in again.stdout.splitlines()
    assert (project / "feeds/podcast.xml").is_file()
    quiet = castcal("build", "--config", config)
    assert "temporary" not in quiet.stdout  # nothing left this time: nothing said


def test_one_temporary_file_is_one_file(project: Path, castcal: Callable[..., Run]) -> None:
    config = project / "config.toml"
    assert castcal("build", "--config", config).exit_code == 0
    leftover = project / "feeds/events" / f".frokost.ics.{os.getpid()}.tmp"
    leftover.write_bytes(b"BEGIN:VCALENDAR")
    again = castcal("build", "--config", config)
    assert again.exit_code == 0, again.stderr
    assert "removed 1 temporary file left by an interrupted build" in again.stdout
    assert not leftover.exists()
