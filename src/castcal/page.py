"""Project -> the show page, feeds/index.html: the podcast's and the meeting series' home
on the web. Pure: the build time comes in as ``now`` (it decides which meetings are still
ahead); no clock, no network, no disk beyond the packaged templates and their compiled
copies in the project's cache."""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import BytecodeCache, Environment, PackageLoader, Template, select_autoescape
from jinja2.bccache import Bucket

from castcal import layout, notes, segments
from castcal.chapters import chapters
from castcal.dates import WEEKDAYS, norwegian_date
from castcal.models import Episode, Event, Project
from castcal.output import Data, replace
from castcal.rss import newest_first
from castcal.xmlparts import Growing


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


@dataclass(frozen=True)
class MeetingView:
    event: Event
    anchor: str
    when: str
    iso_start: str
    ics: str
    google: str
    outlook: str


def _episode_view(project: Project, episode: Episode, to_html: notes.ToHtml) -> EpisodeView:
    show = project.config.podcast
    path = layout.media(episode, episode.audio)
    return EpisodeView(
        episode=episode,
        anchor=episode.id,
        date=norwegian_date(episode.meta.published),
        iso_date=episode.meta.published.date().isoformat(),
        duration=clock(episode.audio.facts.duration),
        audio_url=path if path is not None else episode.audio.source,
        audio_mime=episode.audio.facts.mime,
        segments=[(c.title, c.start, clock(c.start)) for c in chapters(show, episode)],
        notes_html=to_html(episode.notes_markdown) if episode.notes_markdown else None,
        transcript_url=layout.transcript(episode) if episode.transcript is not None else None,
    )


def _meeting_view(event: Event) -> MeetingView:
    start, end = event.start, event.end
    day = f"{WEEKDAYS[start.weekday()]} {norwegian_date(start)}"
    when = f"{day}, kl. {start:%H.%M}–{end:%H.%M}"
    if end.date() != start.date():
        last = f"{WEEKDAYS[end.weekday()]} {norwegian_date(end)}"
        when = f"{day} kl. {start:%H.%M} – {last} kl. {end:%H.%M}"
    details = event.details()
    return MeetingView(
        event=event,
        anchor=event.id,
        when=when,
        iso_start=start.isoformat(),
        ics=layout.event(event),
        google=google_link(event, details),
        outlook=outlook_link(event, details),
    )


TEMPLATE_CACHE = Path(".castcal-cache") / "templates"


class _CompiledTemplates(BytecodeCache):
    """Templates as compiled by an earlier build (Jinja checks that the source is the same
    and ignores a damaged file): compiling the page's templates took a quarter of a
    one-change build's rendering. Written atomically, as every cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            bucket.load_bytecode(io.BytesIO((self.folder / bucket.key).read_bytes()))

    def dump_bytecode(self, bucket: Bucket) -> None:
        compiled = io.BytesIO()
        bucket.write_bytecode(compiled)
        with contextlib.suppress(OSError):
            replace(self.folder / bucket.key, compiled.getvalue(), durable=False)


@functools.cache
def _environment(root: Path) -> Environment:
    return Environment(
        loader=PackageLoader("castcal", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_CompiledTemplates(root / TEMPLATE_CACHE),
    )


@functools.cache
def _template(root: Path, name: str) -> Template:
    """A template, loaded when first used: a page whose entries are all reused from the
    last build loads only the page around them."""
    return _environment(root).get_template(f"{name}.html.j2")


_Entry = tuple[Hashable, Callable[[], str]]  # a page entry's key, and how to render it


def render(
    project: Project,
    now: datetime,
    before: Mapping[Hashable, bytes] | None = None,
    to_html: notes.ToHtml = notes.render,
) -> tuple[Data, Mapping[Hashable, bytes]]:
    """The page, and the HTML of each episode and meeting in it, keyed by what it is made
    from. ``before`` holds those of the last build: an item that did not change is
    not rendered again. ``to_html`` makes the HTML of show notes."""
    before = before or {}
    template = functools.partial(_template, project.root)
    show = project.config.podcast
    feed_url = layout.url(project, layout.FEED)
    host_path = feed_url.split("://", 1)[1]

    def episode_entry(episode: Episode) -> _Entry:
        key = ("episode-html", project.fingerprint, episode.id, episode.fingerprint)
        view = functools.partial(_episode_view, project, episode, to_html)
        return key, lambda: str(template("episode").render(view=view()))

    def meeting_entry(event: Event) -> _Entry:
        key = ("meeting-html", project.fingerprint, event.id, event.fingerprint)
        return key, lambda: str(template("meeting").render(view=_meeting_view(event)))

    lists = {
        "episodes": [episode_entry(e) for e in newest_first(project)],  # as in the feeds
        "upcoming": [meeting_entry(e) for e in project.events if e.end >= now],
        "past": [meeting_entry(e) for e in reversed(project.events) if e.end < now],
    }
    # The page around its entries is rendered with two markers in place of each list's
    # entries, which then go in as bytes, one by one: the entries are never all in memory
    # beside the page (tens of megabytes at 10,000 episodes).
    markers = {name: [f"\x00{name}-{i}\x00" for i in (1, 2)] if entries else []
               for name, entries in lists.items()}  # fmt: skip
    calendar_url = layout.url(project, layout.CALENDAR)
    webcal = "webcal://" + calendar_url.split("://", 1)[1]
    around: str = template("index").render(
        show=show,
        cover=layout.cover(project),
        cover_size=project.cover.size,
        feed_url=feed_url,
        podcast_link="podcast://" + host_path,
        segment_feeds=[
            (kind.title, layout.url(project, segments.feed_path(key)))
            for key, kind in show.segments.items()
        ],
        episodes=markers["episodes"],
        calendar=project.config.calendar,
        upcoming=markers["upcoming"],
        past=markers["past"],
        calendar_url=calendar_url,
        webcal_url=webcal,
        google_subscribe="https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        atom_url=layout.url(project, layout.ATOM),
    )
    out = Growing(b"")
    for name, entries in lists.items():
        if entries and markers[name][0] in around:  # the meetings' only with a calendar
            head, rest = around.split(markers[name][0], 1)
            between, around = rest.split(markers[name][1], 1)
            out.add(head.encode("utf-8"))
            separator = between.encode("utf-8")
            for index, (key, make) in enumerate(entries):
                if index:
                    out.add(separator)
                if not out.reused(key, before):
                    out.piece(key, make().encode("utf-8"))
    out.add(around.encode("utf-8"))
    return out.done()
