"""Every bad input is answered with ``path: field: message``, exit code 1, and an output
folder left exactly as it was. One case per folder under tests/data/invalid/: an
``expect.toml`` and the ``files/`` laid over a copy of the sample project."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, Run, snapshot

CASES = sorted(p for p in (DATA / "invalid").iterdir() if (p / "expect.toml").exists())


def apply_case(case: Path, project: Path) -> dict[str, object]:
    expect = tomllib.loads((case / "expect.toml").read_text("utf-8"))
    for name in expect.get("remove", []):
        (project / name).unlink()
    if (case / "files").is_dir():
        shutil.copytree(case / "files", project, dirs_exist_ok=True)
    for name, size in expect.get("grow", {}).items():  # big files, made here, not committed
        grow(project / name, size)
    (project.parent / "outside.md").write_text("Utenfor prosjektet.\n")
    shutil.copy(
        project / "episodes/hva-er-endringsledelse/audio.mp3", project.parent / "outside.mp3"
    )
    for link, target in expect.get("symlinks", {}).items():
        (project / link).symlink_to(target)
    return expect


def grow(path: Path, size: int) -> None:
    """``path`` made ``size`` bytes long with sentences of ASCII text added at its end."""
    data = path.read_bytes()
    filler = b"Mer tekst om endringsledelse. " * (size // 30 + 1)
    path.write_bytes(data + filler[: size - len(data)])


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_case(case: Path, project: Path, castcal: Callable[..., Run]) -> None:
    config = project / "config.toml"
    assert castcal("build", "--config", config).exit_code == 0
    before = snapshot(project / "feeds")
    expect = apply_case(case, project)

    for command in ("check", "build"):
        result = castcal(command, "--config", config)
        assert result.exit_code == expect["exit_code"], result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        prefix = f"{expect['path']}: {expect['field']}: "
        matching = [line for line in lines if line.startswith(prefix)]
        assert matching, f"no line starts with {prefix!r}:\n{result.stderr}"
        assert any(str(expect["message"]) in line for line in matching), result.stderr
        assert lines[-1].endswith("nothing was written.")
    assert snapshot(project / "feeds") == before
