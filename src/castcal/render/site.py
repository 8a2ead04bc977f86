"""What every page of the site shows of the show: its name, its cover (also the favicon)
and the ways to subscribe to the podcast, its segments and the meetings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from castcal.content.models import Project
from castcal.render import paths


@dataclass(frozen=True)
class Site:
    """What every page links: the show, its cover (the favicon), how to subscribe."""

    title: str
    language: str
    description: str
    author: str
    cover: str  # relative to feeds/
    cover_url: str
    cover_mime: str
    cover_size: int
    feed_url: str
    podcast_link: str
    apple_url: str | None
    spotify_url: str | None
    segment_feeds: list[tuple[str, str, str]]  # title, description, feed URL
    calendar_name: str | None
    calendar_url: str
    webcal_url: str
    google_subscribe: str
    atom_url: str
    statement: str | None  # the accessibility statement's URL


def site(project: Project) -> Site:
    show = project.config.podcast
    feed_url = paths.url(project, paths.FEED)
    calendar_url = paths.url(project, paths.CALENDAR)
    webcal = "webcal://" + calendar_url.split("://", 1)[1]
    calendar = project.config.calendar
    return Site(
        title=show.title,
        language=show.language,
        description=show.description,
        author=show.copyright or show.author,
        cover=paths.cover(project),
        cover_url=paths.url(project, paths.cover(project)),
        cover_mime=project.cover.mime,
        cover_size=project.cover.size,
        feed_url=feed_url,
        podcast_link="podcast://" + feed_url.split("://", 1)[1],
        apple_url=show.apple_url,
        spotify_url=show.spotify_url,
        segment_feeds=[
            (kind.title, kind.description, paths.url(project, paths.segment_feed(key)))
            for key, kind in show.segments.items()
        ],
        calendar_name=calendar.name if calendar is not None else None,
        calendar_url=calendar_url,
        webcal_url=webcal,
        google_subscribe="https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        atom_url=paths.url(project, paths.ATOM),
        statement=project.config.site.accessibility_statement,
    )
