"""The show page, feeds/index.html: the podcast's and the meeting series' home on the web,
rendered with Jinja2 from the package's templates, each episode's and meeting's entry on
its own so the build can reuse them. The build time comes in as ``now`` (it decides which
meetings are still ahead); no clock."""

from __future__ import annotations

import functools
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


def outlook_link(event: Event, details: str) -> str:
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
    return "https://outlook.office.com/calendar/deeplink/compose?" + urlencode(
        query, quote_via=quote
    )


@dataclass(frozen=True)
class EpisodeView:
    episode: Episode
    anchor: str
    date: str
    iso_date: str
    duration: str
    audio_url: str
    audio_mime: str
    segments: list[tuple[str, float, str]]  # (title, start, start as m:ss)
    notes_html: str | None
    transcript_url: str | None
    mark: str | None  # in a preview: "Utkast", or when it is to be published


@dataclass(frozen=True)
class MeetingView:
    event: Event
    anchor: str
    when: str
    iso_start: str
    ics: str
    google: str
    outlook: str


def _episode_view(
    project: Project, episode: Episode, notes_html: str | None, mark: str | None
) -> EpisodeView:
    show = project.config.podcast
    path = paths.media(episode, episode.audio)
    return EpisodeView(
        episode=episode,
        anchor=episode.id,
        date=norwegian_date(episode.meta.published),
        iso_date=episode.meta.published.date().isoformat(),
        duration=clock(episode.audio.facts.duration),
        audio_url=path if path is not None else episode.audio.source,
        audio_mime=episode.audio.facts.mime,
        segments=[(c.title, c.start, clock(c.start)) for c in chapters(show, episode)],
        notes_html=notes_html,
        transcript_url=paths.transcript(episode) if episode.transcript is not None else None,
        mark=mark,
    )


def _meeting_view(event: Event) -> MeetingView:
    start, end = event.start, event.end
    day = f"{WEEKDAYS[start.weekday()]} {norwegian_date(start)}"
    when = f"{day}, kl. {start:%H.%M}–{end:%H.%M}"
    if end.date() != start.date():
        last = f"{WEEKDAYS[end.weekday()]} {norwegian_date(end)}"
        when = f"{day} kl. {start:%H.%M} – {last} kl. {end:%H.%M}"
    details = norwegian.details(event)
    return MeetingView(
        event=event,
        anchor=event.id,
        when=when,
        iso_start=start.isoformat(),
        ics=paths.event(event),
        google=google_link(event, details),
        outlook=outlook_link(event, details),
    )


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


def meeting_key(event: Event) -> tuple[object, ...]:
    """Everything a meeting's entry is made from besides the project."""
    return ("meeting-html", event.fingerprint, event.uid)


def episode_html(
    project: Project, episode: Episode, notes_html: str | None, mark: str | None = None
) -> str:
    """An episode's entry; ``notes_html`` is its show notes as HTML, ``mark`` what
    ``episode_mark`` gives it."""
    view = _episode_view(project, episode, notes_html, mark)
    return str(_template("episode").render(view=view))


def meeting_html(event: Event) -> str:
    return str(_template("meeting").render(view=_meeting_view(event)))


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
def _template(name: str) -> Template:
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


def render(project: Project, episodes: Entries, upcoming: Entries, past: Entries) -> list[bytes]:
    """The page around its entries' HTML, in the order ``lists`` gives them: in pieces
    as the template makes them, to be written one after another."""
    show = project.config.podcast
    feed_url = paths.url(project, paths.FEED)
    host_path = feed_url.split("://", 1)[1]
    calendar_url = paths.url(project, paths.CALENDAR)
    webcal = "webcal://" + calendar_url.split("://", 1)[1]
    chunks = _template("index").generate(
        show=show,
        cover=paths.cover(project),
        cover_size=project.cover.size,
        feed_url=feed_url,
        podcast_link="podcast://" + host_path,
        segment_feeds=[
            (kind.title, paths.url(project, paths.segment_feed(key)))
            for key, kind in show.segments.items()
        ],
        episodes=episodes,
        calendar=project.config.calendar,
        upcoming=upcoming,
        past=past,
        calendar_url=calendar_url,
        webcal_url=webcal,
        google_subscribe="https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        atom_url=paths.url(project, paths.ATOM),
    )
    return [chunk.encode("utf-8") for chunk in chunks]
