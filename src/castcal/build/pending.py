"""A dry run of a build's second phase: which files of the output folder a build now would
write or remove, found without writing any (``castcal publish`` refuses to ship a folder
older than its sources, and ``castcal status`` tells whether one is).

Every output is judged as the build judges it: fresh by its fingerprint and its record,
else rendered and compared with the file there. The published audio is not made: a copy
not fresh is counted as written, and the feeds with it (they tell its length).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from castcal.build import audio, feeds, outputs
from castcal.build.context import Inputs, Rendered
from castcal.build.fresh import Outputs
from castcal.render import paths
from castcal.render.facts import Published
from castcal.write import writer


def would_write(inputs: Inputs, records: Outputs) -> list[str]:
    """The names, in the output folder of ``records``, of the files a build with
    ``inputs`` would write (new bytes) or remove (no longer built), sorted."""
    lengths: dict[str, int] = {}
    durations: dict[str, float] = {}
    remade = []
    for name, print_, segment in audio.files(inputs.project):
        if not records.fresh(name, print_):
            remade.append(name)
            continue
        lengths[name] = records.size(name)
        if segment:
            durations[name] = records.duration(name)
    changed = _changed(records, outputs.rendered(inputs, records))
    if remade:
        kinds = inputs.project.config.podcast.segments
        told = [paths.FEED, *(paths.segment_feed(kind) for kind in kinds), paths.MANIFEST]
        records.expected.update(told)
        changed += remade + told
    else:
        changed += _changed(records, feeds.rendered(inputs, Published(lengths, durations), records))
    gone = set(records.records) - records.expected
    return sorted(set(changed) | gone)


def _changed(records: Outputs, rendered: Iterable[Rendered]) -> list[str]:
    """The names of the files rendered whose bytes are not the file's there now."""
    folder = records.folder
    return [
        item.name
        for item in rendered
        if not writer.same(os.path.join(folder, item.name), item.data)  # noqa: PTH118
    ]
