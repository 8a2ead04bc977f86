"""The pipeline: load -> revise -> render -> write, the manifest last."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from castcal import content, ics, layout, manifest, output, rss
from castcal.chapters import json_chapters
from castcal.errors import UsageError
from castcal.models import Project


@dataclass(frozen=True)
class BuildResult:
    project: Project
    out_dir: Path
    written: list[str]
    unchanged: list[str]

    def summary(self) -> str:
        return (
            f"{len(self.project.episodes)} episodes, {len(self.project.events)} meetings; "
            f"{len(self.written)} files written, {len(self.unchanged)} unchanged, "
            f"in {self.out_dir}"
        )


def render(
    project: Project, revisions: dict[str, manifest.Revision]
) -> list[tuple[str, output.Content]]:
    """Every output file in the order it is written: what a feed points at comes first,
    then the feeds, so a reader never finds a feed ahead of its files."""
    show = project.config.podcast
    files: list[tuple[str, output.Content]] = [(layout.cover(project), project.cover.data)]
    for episode in project.episodes:
        files.append((layout.audio(episode), episode.folder / episode.meta.audio))
        files.append((layout.chapters(episode), json_chapters(show, episode)))
        if episode.transcript is not None:
            files.append((layout.transcript(episode), episode.transcript.encode("utf-8")))
    for event in project.events:
        files.append((layout.event(event), ics.single(project, event, revisions[event.uid])))
    files.append((layout.FEED, rss.render(project)))
    if project.config.calendar is not None:
        files.append((layout.CALENDAR, ics.series(project, revisions)))
    return files


def output_dir(project: Project, out: Path | None) -> Path:
    return out if out is not None else project.root / project.config.site.output


def stamp_time() -> datetime:
    """The time to stamp on what changes in this build: SOURCE_DATE_EPOCH when set (for
    reproducible builds), else now. Only used for new or changed meetings, and recorded in
    the manifest, so an unchanged meeting keeps its stamps from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None


def build(
    config_path: Path, out: Path | None = None, wait: float = 10.0, now: datetime | None = None
) -> BuildResult:
    project = content.load(config_path)
    out_dir = output_dir(project, out)
    with output.locked(out_dir, wait):
        previous = manifest.read_revisions(out_dir / manifest.NAME)
        revisions = manifest.revise(previous, project.events, now or stamp_time())
        files = render(project, revisions)
        files.append((manifest.NAME, manifest.dump(project, revisions)))
        result = output.write(out_dir, files)
    return BuildResult(project, out_dir, result.written, result.unchanged)
