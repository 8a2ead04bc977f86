"""What the pages need for universal design that only the editor can give, warned of when
missing: a transcript of each episode's audio, the text alternative WCAG 2.1 1.2.1 asks of
recorded audio on a public body's pages, and the link to the accessibility statement the
Norwegian regulation on universal design of ICT asks every such site for."""

from __future__ import annotations

from castcal.content.models import Project
from castcal.errors import Problem

TRANSCRIPT = (
    "none: the episode's audio on the pages has no text alternative, which universal design"
    ' (WCAG 2.1 1.2.1) asks of a public body; add a WebVTT file (transcript = "transcript.vtt")'
)
STATEMENT = (
    "not set: a public body's pages link to its accessibility statement (uustatus.no);"
    " give its https:// address and every page's footer links it"
)


def warnings(project: Project) -> list[Problem]:
    found = [
        Problem(f"episodes/{episode.id}/episode.toml", "transcript", TRANSCRIPT)
        for episode in project.episodes
        if episode.transcript is None
    ]
    if project.config.site.accessibility_statement is None:
        found.append(Problem("config.toml", "site.accessibility_statement", STATEMENT))
    return found
