"""The site's own pages besides the show page: one per episode (its player, segments, show
notes, people and transcript as HTML, and what a shared link shows) and one per meeting
(what, when, where, and while it is ahead how to register and add it to a calendar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from castcal.content.models import Episode, EpisodePerson, Event, Project
from castcal.render import paths, transcript
from castcal.render.page import clock, demote, episode_mark, episode_view, meeting_view, template
from castcal.render.site import site

ROLES = {
    "host": "programleder",
    "co-host": "programleder",
    "guest host": "gjesteprogramleder",
    "guest": "gjest",
    "producer": "produsent",
    "reporter": "reporter",
}


@dataclass(frozen=True)
class Part:
    """A segment as the episode's page shows it."""

    name: str  # the segment kind's title
    title: str | None
    start: float
    label: str  # its start as m:ss
    summary: str


@dataclass(frozen=True)
class Line:
    """A cue of the transcript: its start, who speaks (when it changes), what is said."""

    start: float
    label: str
    speaker: str | None
    text: str


def parts(project: Project, episode: Episode) -> list[Part]:
    show = project.config.podcast
    made = []
    for segment in episode.meta.segments:
        kind = show.segments[segment.kind]
        summary = segment.summary or kind.description
        made.append(Part(kind.title, segment.title, segment.start, clock(segment.start), summary))
    return made


def lines(vtt: str) -> list[Line]:
    """The transcript's cues, the speaker named where it changes."""
    made, before = [], None
    for cue in transcript.cues(vtt):
        speaker = cue.speaker if cue.speaker != before else None
        before = cue.speaker if cue.speaker is not None else before
        made.append(Line(cue.start, clock(cue.start), speaker, cue.text))
    return made


def episode_key(episode: Episode, meeting: Event | None, mark: str | None) -> tuple[object, ...]:
    """Everything an episode's page is made from besides the project."""
    met = meeting and (meeting.id, meeting.meta.title)
    return ("episode-page", episode.fingerprint, met, mark)


def episode_page(
    project: Project,
    episode: Episode,
    notes_html: str | None,
    meeting: Event | None,
    now: datetime,
) -> bytes:
    """The episode's page; ``meeting`` is the meeting it recorded, if any."""
    view = episode_view(project, episode, None, episode_mark(project, episode, now))
    people = [(p.name, _role(project, p)) for p in episode.meta.people]
    html = template("episode_page").render(
        site=site(project),
        root="../",
        view=view,
        url=paths.url(project, paths.episode_page(episode)),
        audio_url=paths.enclosure(project, episode, episode.audio),
        player_src=view.audio_url if "://" in view.audio_url else "../" + view.audio_url,
        parts=parts(project, episode),
        notes_html=demote(notes_html, 3) if notes_html else None,
        people=people,
        meeting=(meeting.meta.title, paths.meeting_page(meeting)) if meeting else None,
        lines=lines(episode.transcript) if episode.transcript is not None else [],
        transcript_file=paths.transcript(episode) if episode.transcript is not None else None,
    )
    return html.encode("utf-8")


def meeting_page(project: Project, event: Event, now: datetime, recording: Episode | None) -> bytes:
    """The meeting's page as it is at ``now``; ``recording`` the episode made there."""
    view = meeting_view(event, now, recording)
    html = template("meeting_page").render(
        site=site(project),
        root="../",
        view=view,
        url=paths.url(project, view.page),
    )
    return html.encode("utf-8")


def _role(project: Project, person: EpisodePerson) -> str:
    """The person's role in Norwegian, and the segments they are in if not all of it:
    "gjest i Endringspraten"."""
    role = ROLES.get(person.role, person.role)
    titles = [project.config.podcast.segments[kind].title for kind in person.segments]
    if not titles:
        return role
    listed = ", ".join(titles[:-1]) + " og " + titles[-1] if len(titles) > 1 else titles[0]
    return f"{role} i {listed}"
