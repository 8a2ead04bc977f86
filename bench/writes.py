"""The write floor: the files a cold build publishes, written once more and synced to disk.
Any tool that publishes the same files (tagged copies, cuts, calendars, chapters) must
write these bytes, however little else it does; the plain baseline writes two files.

    python bench/writes.py FEEDS DESTINATION

Reads each published file of FEEDS (the state, lock and cache files, whose names start
with a dot, are not published) and writes it under DESTINATION, then one sync."""

import os
import sys
from pathlib import Path

source, destination = Path(sys.argv[1]), Path(sys.argv[2])
files = size = 0
for path in sorted(source.rglob("*")):
    if path.is_file() and not path.name.startswith("."):
        copy = destination / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        size += copy.write_bytes(path.read_bytes())
        files += 1
os.sync()
print(f"{files} files, {size} bytes")
