"""The floor: the least work any tool must do to learn that nothing changed. Start
Python, parse every TOML file of the project with tomllib, stat every audio file."""

import sys
import tomllib
from pathlib import Path

root = Path(sys.argv[1])
tomllib.loads((root / "config.toml").read_text("utf-8"))
for folder in sorted((root / "episodes").iterdir()):
    episode = tomllib.loads((folder / "episode.toml").read_text("utf-8"))
    (folder / episode["audio"]).stat()
for path in sorted((root / "events").glob("*.toml")):
    tomllib.loads(path.read_text("utf-8"))
