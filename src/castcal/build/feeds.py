"""The last of a build's rendering: the podcast feeds, which tell the published audio's
lengths, and the manifest of what they publish.

A feed's items are reused from the last build where they are unchanged; in a first build
the pool's helpers render them, a feed ahead of the one the build puts together (not
all three at once: at 10,000 episodes, the items of all three took 40 MB).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator, Mapping

from castcal.build import manifest
from castcal.build.context import Inputs, Rendered, key, notes_html, stale
from castcal.build.fresh import Outputs, fingerprint
from castcal.build.parallel import Batch
from castcal.build.pieces import Reusing
from castcal.content.models import Project
from castcal.render import feed, paths, segments
from castcal.render.facts import Published

ITEMS_A_TASK = 100  # feed items a helper renders at a time
AHEAD = 1  # feeds whose items the helpers make while the build puts one together
# A feed whose items are being made: the feed, its channel, the pieces kept, the work.
Started = tuple[feed.Feed, bytes, Reusing[feed.Entry], Batch[list[bytes]]]


def rendered(inputs: Inputs, published: Published, outputs: Outputs) -> Iterator[Rendered]:
    """The feeds and the manifest that are not fresh, rendered. Their fingerprint is of
    what they are made from: the project, the episodes in order, the published files'
    lengths and durations, the segment feeds' GUIDs (for the manifest, the meetings'
    revisions too)."""
    project = inputs.project
    made_from = fingerprint(
        "feeds", project.fingerprint, dict(inputs.segment_guids),
        [(e.id, e.fingerprint) for e in feed.newest_first(project)],
        sorted(published.lengths.items()), sorted(published.durations.items()),
    )  # fmt: skip
    revisions = [(e.id, e.uid, inputs.revisions[e.uid]) for e in project.events]
    listed = fingerprint("manifest", made_from, revisions)
    names = [paths.FEED, *(paths.segment_feed(kind) for kind in project.config.podcast.segments)]
    old = [name for name in names if stale(outputs, name, made_from)]
    if not old and not stale(outputs, paths.MANIFEST, listed):
        return
    main = feed.main_feed(project, published.lengths)
    kinds = segments.feeds(project, published.lengths, published.durations, inputs.segment_guids)
    pending = collections.deque(each for each in (main, *kinds) if each.path in old)
    making: collections.deque[Started] = collections.deque()
    while pending or making:
        while pending and len(making) < AHEAD + 1:
            making.append(_start(inputs, pending.popleft()))
        each, channel, reusing, batches = making.popleft()
        made = (item for items in batches.results() for item in items)
        yield Rendered(each.path, made_from, feed.assemble(channel, reusing.finish(made)))
    if stale(outputs, paths.MANIFEST, listed):
        data = manifest.render(project, main, kinds, inputs.revisions)
        yield Rendered(paths.MANIFEST, listed, data)


def _start(inputs: Inputs, each: feed.Feed) -> Started:
    """A feed's channel, the items kept from the last build, and the others being made:
    many by the pool's helpers, a batch at a time, sent the project without its episodes
    and meetings, which an item does not need."""
    channel = feed.channel(inputs.project, each)
    keyed = [(key(inputs, entry.key()), entry) for entry in each.entries]
    reusing = Reusing(inputs.store, each.path, keyed)
    missing = reusing.missing()
    html = notes_html(inputs, [entry.episode for entry in missing])
    site = dataclasses.replace(inputs.project, episodes=(), events=())
    batches = [missing[i : i + ITEMS_A_TASK] for i in range(0, len(missing), ITEMS_A_TASK)]
    tasks = [(site, channel, batch, _notes_of(batch, html)) for batch in batches]
    work = inputs.pool.start(render_items, tasks, fewest=2, task="rendering feed items")
    return each, channel, reusing, work


def _notes_of(entries: list[feed.Entry], html: Mapping[str, str]) -> dict[str, str]:
    return {e.episode.id: html[e.episode.id] for e in entries if e.episode.id in html}


def render_items(task: tuple[Project, bytes, list[feed.Entry], dict[str, str]]) -> list[bytes]:
    """A batch of feed items (a task for a helper, or the build itself)."""
    project, channel, entries, html = task
    return list(feed.items(project, channel, entries, html))
