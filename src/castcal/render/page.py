"""The show page, feeds/index.html: the podcast's and the meeting series' home on the web,
rendered with Jinja2 from the package's templates, each episode's and meeting's entry on
its own so the build can reuse them. The build time comes in as ``now`` (it decides which
meetings are still ahead); no clock."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from castcal.content.chapters import chapters
from castcal.content.models import Episode, Event, Project
from castcal.render import norwegian, paths
from castcal.render.feed import newest_first
from castcal.render.norwegian import WEEKDAYS, norwegian_date
from castcal.render.site import site

if TYPE_CHECKING:
    from jinja2 import Environment, Template


def clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(event: Event, details: str) -> str:
    query = {
        "action": "TEMPLATE",
        "text": event.meta.title,
        "dates": f"{_utc(event.start)}/{_utc(event.end)}",
        "details": details,
        "location": event.location,
        "ctz": str(event.start.tzinfo),
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query, quote_via=quote)


OUTLOOK_PERSONAL = "outlook.live.com"  # Outlook.com, for personal accounts
OUTLOOK_WORK = "outlook.office.com"  # Microsoft 365, for work and school accounts
_HEADING = re.compile(r"<(/?)h([1-6])\b")


def demote(html: str, top: int) -> str:
    """Show notes' HTML with its headings moved down so the largest is ``<h{top}>``: never
    above the page's own headings (none moved past ``<h6>``, none moved up)."""
    levels = [int(m.group(2)) for m in _HEADING.finditer(html)]
    shift = max(0, top - min(levels)) if levels else 0
    if not shift:
        return html
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", html)


def outlook_link(event: Event, details: str, host: str = OUTLOOK_WORK) -> str:
    """A link to Outlook's form for a new event, filled in, on ``host``."""
    iso = "%Y-%m-%dT%H:%M:%SZ"
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "startdt": event.start.astimezone(UTC).strftime(iso),
        "enddt": event.end.astimezone(UTC).strftime(iso),
        "subject": event.meta.title,
        "body": details,
        "location": event.location,
    }
    return f"https://{host}/calendar/deeplink/compose?" + urlencode(query, quote_via=quote)


@dataclass(frozen=True)
class EpisodeView:
    episode: Episode
    anchor: str
    page: str  # its own page, relative to feeds/
    date: str
    iso_date: str
    duration: str
    audio_url: str
    audio_mime: str
    segments: list[tuple[str, float, str]]  # (title, start, start as m:ss)
    notes_html: str | None
    has_transcript: bool
    mark: str | None  # in a preview: "Utkast", or when it is to be published


@dataclass(frozen=True)
class MeetingView:
    event: Event
    anchor: str
    page: str  # its own page, relative to feeds/
    when: str
    iso_start: str
    ended: bool  # at the build's time: no registration or calendar links then
    ics: str
    google: str
    outlook: str  # for work and school accounts
    outlook_live: str  # for personal accounts
    recording: tuple[str, str] | None  # the episode recorded there: title, page

    @property
    def open(self) -> bool:
        """Whether to offer registration and calendar links: ahead and not called off."""
        return not self.ended and not self.event.cancelled


def episode_view(
    project: Project, episode: Episode, notes_html: str | None, mark: str | None
) -> EpisodeView:
    show = project.config.podcast
    path = paths.media(episode, episode.audio)
    return EpisodeView(
        episode=episode,
        anchor=episode.id,
        page=paths.episode_page(episode),
        date=norwegian_date(episode.meta.published),
        iso_date=episode.meta.published.date().isoformat(),
        duration=clock(episode.audio.facts.duration),
        audio_url=path if path is not None else episode.audio.source,
        audio_mime=episode.audio.facts.mime,
        segments=[(c.title, c.start, clock(c.start)) for c in chapters(show, episode)],
        notes_html=demote(notes_html, 4) if notes_html else None,
        has_transcript=episode.transcript is not None,
        mark=mark,
    )


def meeting_view(event: Event, now: datetime, recording: Episode | None) -> MeetingView:
    """A meeting as its page and its entry show it at ``now``, with the episode recorded
    there, if any."""
    start, end = event.start, event.end
    day = f"{WEEKDAYS[start.weekday()]} {norwegian_date(start)}"
    when = f"{day}, kl. {start:%H.%M}–{end:%H.%M}"
    if end.date() != start.date():
        last = f"{WEEKDAYS[end.weekday()]} {norwegian_date(end)}"
        when = f"{day} kl. {start:%H.%M} – {last} kl. {end:%H.%M}"
    ended = end < now
    # Calendar links only where a page offers them (see MeetingView.open): of 1,000
    # meetings, most are past, and the three links were a third of a page's time.
    offered = not ended and not event.cancelled
    details = norwegian.details(event) if offered else ""
    return MeetingView(
        event=event,
        anchor=event.id,
        page=paths.meeting_page(event),
        when=when,
        iso_start=start.isoformat(),
        ended=ended,
        ics=paths.event(event),
        google=google_link(event, details) if offered else "",
        outlook=outlook_link(event, details) if offered else "",
        outlook_live=outlook_link(event, details, OUTLOOK_PERSONAL) if offered else "",
        recording=(recording.meta.title, paths.episode_page(recording)) if recording else None,
    )


def recordings(project: Project) -> dict[str, Episode]:
    """The episode that recorded each meeting, by the meeting's id (the newest, if two
    name the same one)."""
    return {e.meta.meeting: e for e in project.episodes if e.meta.meeting}


def lists(project: Project, now: datetime) -> tuple[list[Episode], list[Event], list[Event]]:
    """The page's entries in order: the episodes newest first (as in the feeds), the
    meetings ahead at ``now``, soonest first, then those past, latest first."""
    upcoming = [e for e in project.events if e.end >= now]
    past = [e for e in reversed(project.events) if e.end < now]
    return newest_first(project), upcoming, past


def episode_mark(project: Project, episode: Episode, now: datetime) -> str | None:
    """How a preview marks an episode not published at ``now``: "Utkast" (a draft), or
    "Planlagt: tirsdag 17. desember kl. 07.00" in the calendar's zone (if it has one,
    else at the offset written); None for one published."""
    if episode.draft:
        return "Utkast"
    if episode.published <= now:
        return None
    calendar = project.config.calendar
    zone = calendar.timezone if calendar is not None else None
    return norwegian.scheduled_mark(norwegian.local_time(episode.published, zone))


def episode_key(episode: Episode, mark: str | None = None) -> tuple[object, ...]:
    """Everything an episode's entry is made from besides the project."""
    return ("episode-html", episode.fingerprint, mark)


def meeting_key(event: Event, now: datetime, recording: Episode | None) -> tuple[object, ...]:
    """Everything a meeting's entry or page is made from besides the project."""
    made = recording and (recording.id, recording.meta.title)
    return ("meeting-html", event.fingerprint, event.uid, event.end < now, made)


def episode_html(
    project: Project, episode: Episode, notes_html: str | None, mark: str | None = None
) -> str:
    """An episode's entry; ``notes_html`` is its show notes as HTML, ``mark`` what
    ``episode_mark`` gives it."""
    view = episode_view(project, episode, notes_html, mark)
    return str(template("episode").render(view=view))


def meeting_html(event: Event, now: datetime, recording: Episode | None) -> str:
    """A meeting's entry on the show page, as it is at ``now``."""
    return str(template("meeting").render(view=meeting_view(event, now, recording)))


@functools.cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("castcal.render", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def template(name: str) -> Template:
    """A template, compiled when first used in this process."""
    return _environment().get_template(f"{name}.html.j2")


class Entries:
    """``count`` entries' HTML, as UTF-8, read by the page's template one at a time,
    once: the entries of 10,000 episodes are never in memory twice, as bytes and as text
    (nor as entries and as the page, where ``html`` lets each go once it is read)."""

    def __init__(self, html: Iterable[bytes], count: int) -> None:
        self.html, self.count = html, count

    def __iter__(self) -> Iterator[str]:
        return (entry.decode("utf-8") for entry in self.html)

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(frozen=True, slots=True)
class ArchiveLine:
    """An episode in the show page's list of them all."""

    page: str
    number: int | None
    title: str
    iso_date: str
    date: str
    duration: str


def archive(episodes: Iterable[Episode]) -> list[ArchiveLine]:
    return [
        ArchiveLine(
            page=paths.episode_page(e),
            number=e.meta.number,
            title=e.meta.title,
            iso_date=e.published.date().isoformat(),
            date=norwegian_date(e.published),
            duration=clock(e.audio.facts.duration),
        )
        for e in episodes
    ]


def next_meeting(upcoming: Iterable[Event]) -> Event | None:
    """The meeting the show page puts first: the soonest ahead not called off."""
    return next((e for e in upcoming if not e.cancelled), None)


def render(
    project: Project,
    episodes: Entries,
    meetings: tuple[Entries, Entries],
    lines: list[ArchiveLine],
    highlight: MeetingView | None,
) -> list[bytes]:
    """The page around its entries' HTML (the newest episodes; the meetings ahead and
    past, in the order ``lists`` gives them), the list of every episode and the next
    meeting: in pieces as the template makes them, to be written one after another."""
    calendar = project.config.calendar
    chunks = template("index").generate(
        site=site(project),
        root="",
        page_url=project.base_url,
        episodes=episodes,
        archive=lines,
        next_meeting=highlight,
        calendar_description=calendar.description if calendar is not None else "",
        upcoming=meetings[0],
        past=meetings[1],
    )
    return [chunk.encode("utf-8") for chunk in chunks]
