"""The pipeline: load -> render -> write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from castcal import content, layout, output, rss
from castcal.chapters import json_chapters
from castcal.models import Project


@dataclass(frozen=True)
class BuildResult:
    project: Project
    out_dir: Path
    written: list[str]
    unchanged: list[str]

    def summary(self) -> str:
        return (
            f"{len(self.project.episodes)} episodes; {len(self.written)} files written, "
            f"{len(self.unchanged)} unchanged, in {self.out_dir}"
        )


def render(project: Project) -> list[tuple[str, output.Content]]:
    """Every output file in the order it is written: what a feed points at comes first,
    the feed itself last, so a reader never finds the feed ahead of its files."""
    show = project.config.podcast
    files: list[tuple[str, output.Content]] = [(layout.cover(project), project.cover.data)]
    for episode in project.episodes:
        files.append((layout.audio(episode), episode.folder / episode.meta.audio))
        files.append((layout.chapters(episode), json_chapters(show, episode)))
        if episode.transcript is not None:
            files.append((layout.transcript(episode), episode.transcript.encode("utf-8")))
    files.append((layout.FEED, rss.render(project)))
    return files


def output_dir(project: Project, out: Path | None) -> Path:
    return out if out is not None else project.root / project.config.site.output


def build(config_path: Path, out: Path | None = None, wait: float = 10.0) -> BuildResult:
    project = content.load(config_path)
    files = render(project)
    out_dir = output_dir(project, out)
    with output.locked(out_dir, wait):
        result = output.write(out_dir, files)
    return BuildResult(project, out_dir, result.written, result.unchanged)
