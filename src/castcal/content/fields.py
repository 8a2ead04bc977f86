"""The field types editors write, each with the check and the message a mistake gets.

Each check accepts what TOML gives (a datetime, a string, a number) and also the JSON form
pydantic writes for the same value, so a model read back from castcal's cache validates
exactly as the one read from the editor's file did.
"""

from __future__ import annotations

import functools
import html
import math
import re
import zoneinfo
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Characters XML cannot carry, and the C0 and C1 controls: U+0080-U+009F are allowed in XML
# but are text decoded with the wrong code page, which feedparser shows as Windows-1252.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FIRST_YEAR, LAST_YEAR = 1900, 2199  # the dates castcal takes


def is_url(source: str) -> bool:
    """Whether an audio source names a URL rather than a file in the episode folder."""
    return bool(_SCHEME.match(source))


def check_text(value: str) -> str:
    """Free text: no characters XML cannot carry, no control characters, no edge spaces."""
    bad = NOT_XML.search(value)
    if bad:
        raise ValueError(
            f"contains the control character U+{ord(bad.group()):04X} at position "
            f"{bad.start() + 1}; remove it (often pasted from a word processor)"
        )
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def check_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    if len(value) > 255:
        raise ValueError(f"is {len(value)} characters long; podcast apps allow at most 255")
    return value


def check_description(value: str) -> str:
    """At most Apple's 4000 bytes as the feed carries it: as HTML, each & < > an entity."""
    size = len(html.escape(value, quote=False).encode("utf-8"))
    if size > 4000:
        escaped = (
            ""
            if "&" not in value and "<" not in value and ">" not in value
            else (" (& < > count as the entities the feed writes)")
        )
        raise ValueError(f"is {size} bytes of UTF-8{escaped}; Apple allows at most 4000")
    return value


NOTES_LIMIT = 1_000_000  # bytes of a show-notes file


def notes_too_large(size: int) -> str:
    """The message for a show-notes file of ``size`` bytes, past ``NOTES_LIMIT``: notes
    every feed reader can parse (libxml2, under many apps, refuses a text node past 10 MB,
    and the notes are in the feed as HTML, which is longer)."""
    return (
        f"the file is {size:,} bytes; show notes may be at most {NOTES_LIMIT:,} bytes "
        "(1 MB), so every podcast app can read the feed"
    )


def check_web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{value!r} is not an https:// (or http://) URL")
    if "@" in parts.netloc:
        raise ValueError(
            "has a user name or password in it (before '@'), which would be published in "
            "every feed; remove it, and keep credentials out of the project's files"
        )
    return value


def check_base_url(value: str) -> str:
    check_web_url(value)
    if not value.endswith("/"):
        raise ValueError(f"{value!r} must end with '/' (it is the folder feeds/ is served from)")
    return value


def check_relative_file(value: str) -> str:
    """A file named relative to its TOML file; must not climb out of that folder."""
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or value.startswith(("/", "\\")):
        raise ValueError(f"{value!r} must be a file inside this folder (no '..', no absolute path)")
    if "://" in value:
        raise ValueError(f"{value!r} must be a local file name")
    return value


def check_audio_source(value: str) -> str:
    """An audio file in the episode folder, or an http(s) URL of one hosted elsewhere."""
    if is_url(value):
        if urlsplit(value).scheme not in ("https", "http"):
            raise ValueError(
                f"{value!r}: audio is a file in this folder or an https:// URL, nothing else"
            )
        return check_web_url(value)
    return check_relative_file(value)


def parse_timestamp(value: object) -> object:
    """'17:45', '1:02:03', '0:05.5' or a number of seconds, to seconds as a float."""
    if isinstance(value, bool):
        raise ValueError("must be a time like '17:45' or a number of seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a time like '17:45' or a number of seconds")
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d{1,3})?)", value.strip())
        if m and float(m.group(3)) < 60 and (m.group(1) is None or int(m.group(2)) < 60):
            return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        raise ValueError(f"{value!r} is not a time like '17:45' or '1:02:03'")
    return value


def _datetime(value: object) -> object:
    """A date or datetime written as an ISO 8601 string (quoted in TOML, or as JSON holds
    it); anything else as it is, for the caller's message."""
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return date.fromisoformat(value)
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def check_year(value: date) -> date:
    """A year castcal can do arithmetic on and describe with today's clock rules; one far
    out is a typo (and past 9999 no datetime can hold it)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            f"the year {value.year} is out of range; castcal takes dates in the years "
            f"{FIRST_YEAR} to {LAST_YEAR} (a typo?)"
        )
    return value


def require_offset(value: object) -> object:
    value = _datetime(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(
            "has no UTC offset; write it like 2017-04-20T07:00:00+02:00 so the time is unambiguous"
        )
    if not isinstance(value, datetime):
        raise ValueError(
            "must be a date and time with a UTC offset, like 2017-04-20T07:00:00+02:00"
        )
    return value


def local_time(value: object) -> object:
    """Meetings are written in the calendar's local time; a bare date takes the default
    start time, which the loader fills in."""
    value = _datetime(value)
    if isinstance(value, datetime | date):
        return value
    raise ValueError("must be a local date and time like 2017-03-03T08:00:00")


def parse_duration(value: object) -> object:
    """An ISO 8601 duration of hours and minutes ("PT1H30M") or days ("P1D"). A bare number
    is refused: it would be read as seconds, which no editor means."""
    if isinstance(value, bool | int | float):
        raise ValueError(
            f"{value!r} is a bare number; write an ISO 8601 duration in quotes, like "
            '"PT1H" (one hour), "PT30M" or "P1D"'
        )
    if isinstance(value, str):
        m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", value)
        if m and any(m.groups()) and not value.endswith("T"):
            days, hours, minutes = (int(g or 0) for g in m.groups())
            try:
                return timedelta(days=days, hours=hours, minutes=minutes)
            except OverflowError:
                raise ValueError(f"{value!r} is longer than any duration castcal can use") from None
        raise ValueError(f"{value!r} is not a duration like 'PT1H30M' or 'P1D'")
    if isinstance(value, timedelta):
        return value
    raise ValueError('must be an ISO 8601 duration in quotes, like "PT1H" (one hour) or "P1D"')


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA zone names the system's (or the tzdata package's) database holds, but the
    files that are not zones: the machine's own clock and the database's placeholder."""
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})


def check_timezone(value: str) -> str:
    """An IANA zone name. ZoneInfo alone would also take "localtime" or a file's path on
    some systems, which mean something else on every machine."""
    if value not in _zone_names():
        raise ValueError(f"{value!r} is not an IANA time zone name such as 'Europe/Oslo'")
    return value


Text = Annotated[str, AfterValidator(check_text)]
Line = Annotated[str, AfterValidator(check_text), AfterValidator(check_line)]
Description = Annotated[str, AfterValidator(check_text), AfterValidator(check_description)]
WebUrl = Annotated[str, AfterValidator(check_web_url)]
BaseUrl = Annotated[str, AfterValidator(check_base_url)]
RelativeFile = Annotated[str, AfterValidator(check_relative_file)]
AudioSource = Annotated[str, AfterValidator(check_audio_source)]
Seconds = Annotated[float, BeforeValidator(parse_timestamp), Field(ge=0)]
Instant = Annotated[datetime, BeforeValidator(require_offset), AfterValidator(check_year)]
LocalTime = Annotated[datetime | date, BeforeValidator(local_time), AfterValidator(check_year)]
LocalDateTime = Annotated[datetime, BeforeValidator(local_time), AfterValidator(check_year)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration), Field(gt=timedelta(0))]
TimeZone = Annotated[str, AfterValidator(check_timezone)]


# Podcasting 2.0 values (issue 22): the namespace's https rule, its lengths, geo: URIs.
_GEO = re.compile(r"geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;[^\s;]+)*")


def check_https_url(value: str) -> str:
    """A URL the Podcasting 2.0 namespace points at: it must be https:// there."""
    check_web_url(value)
    if not value.startswith("https://"):
        raise ValueError(f"{value!r} must be an https:// URL (the podcast namespace asks for it)")
    return value


def check_short(value: str) -> str:
    """A podcast: tag's text, which the namespace keeps to 128 characters."""
    if len(value) > 128:
        raise ValueError(f"is {len(value)} characters long; the podcast namespace allows 128")
    return value


def check_txt(value: str) -> str:
    if len(value) > 4000:
        raise ValueError(f"is {len(value)} characters long; podcast:txt allows at most 4000")
    return value


def geo_point(value: str) -> tuple[float, float]:
    """Latitude and longitude of a ``geo:`` URI (RFC 5870), checked to be on Earth."""
    m = _GEO.fullmatch(value)
    if m is None:
        raise ValueError(f"{value!r} is not a geo: URI like 'geo:59.91,10.75'")
    latitude, longitude = float(m.group(1)), float(m.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(
            f"{value!r}: latitude must be -90 to 90 and longitude -180 to 180 (in that order)"
        )
    return latitude, longitude


def check_geo(value: str) -> str:
    geo_point(value)
    return value


HttpsUrl = Annotated[str, AfterValidator(check_https_url)]
ShortLine = Annotated[
    str, AfterValidator(check_text), AfterValidator(check_line), AfterValidator(check_short)
]
TxtValue = Annotated[str, AfterValidator(check_text), AfterValidator(check_txt)]
Geo = Annotated[str, AfterValidator(check_geo)]
