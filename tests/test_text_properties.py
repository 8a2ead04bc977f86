"""Arbitrary Unicode in every free-text field: every output stays well-formed and reads
back the text as written, no script gets through, and nothing crashes. Text is either
published as written (less edge whitespace; in HTML and iCalendar every kind of line
break a line feed) or refused with a message naming the file and field.

CASTCAL_PROPERTY_EXAMPLES sets how many examples the test of every field runs (CI: 500)."""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import icalendar
import lxml.html
import podcastparser
import pytest
import tomli_w
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream
from lxml import etree

from castcal.errors import ContentError
from castcal.render import paths
from tests.conftest import FEED_URL, copy_sample
from tests.rendering import load, main_feed, outputs
from tests.test_calendar_parts import calendar_properties

EPISODE = "episodes/hva-er-endringsledelse"
GUID = "4c711430-6b33-5eb5-a17d-977cbf0cc304"
ATOM = "http://www.w3.org/2005/Atom"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PSC = "http://podlove.org/simple-chapters"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
TRICKY = [
    "]]>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">klikk</a>',
    "[lenke](javascript:alert(1))",
    "<![CDATA[ ]]> &amp; &lt;",
    "Ærlig talt: øre, år, ÆØÅ 👍",
    "\x0b\x0c\x1b",
    "\ufffe\uffff",
    "<svg onload=alert(1)>",
    "<iframe src='https://example.org'></iframe>",
]
texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map(" ".join),
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_sample(tmp_path_factory.mktemp("property") / "project")
    # Descriptions as written: the chapter timestamps atop them are tested on their own
    # (test_podcast_tags.py).
    config = project / "config.toml"
    text = config.read_text("utf-8")
    config.write_text(text.replace("explicit = false", "explicit = false\ntimestamps = false"))
    return project


def assert_safe_html(html: str) -> None:
    if not html.strip():
        return
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in tree.iter():
        assert element.tag not in ("script", "iframe", "svg", "img", "style", "object")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            if name in ("href", "src"):
                assert value.strip().lower().startswith(("https:", "http:", "mailto:")), value


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=texts, summary=texts, notes=texts)
@example(title="<script>alert(1)</script>", summary="]]>", notes="<script>x</script>]]>")
def test_free_text_is_published_safely_or_refused(
    sample: Path, title: str, summary: str, notes: str
) -> None:
    folder = sample / EPISODE
    original = (folder / "episode.toml").read_bytes()
    data = tomllib.loads(original.decode())
    data.update(title=title, summary=summary)
    (folder / "episode.toml").write_text(tomli_w.dumps(data), "utf-8")
    (folder / "notes.md").write_text(notes, "utf-8", newline="")
    try:
        project = load(sample / "config.toml")
    except ContentError as error:
        event("refused")
        for problem in error.problems:
            assert problem.path in (f"{EPISODE}/episode.toml", f"{EPISODE}/notes.md")
            assert problem.field in ("title", "summary", "notes")
            assert problem.message
        return
    finally:
        (folder / "episode.toml").write_bytes(original)

    event("published")
    feed = main_feed(project)
    root = etree.fromstring(feed)  # strict parser: raises on malformed XML
    (item,) = [i for i in root.iter("item") if i.findtext("guid") == GUID]
    assert item.findtext("title") == title.strip()
    assert html_text(item.findtext("description") or "") == plain(summary)
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert_safe_html(encoded)
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")


# Every text field an editor writes, each in the files it goes to: arbitrary Unicode that
# TOML and XML can carry, with the characters that have a meaning somewhere (a line
# break or ; , \ in iCalendar, < & in HTML, ]]> in CDATA) made frequent.

EXAMPLES = int(os.environ.get("CASTCAL_PROPERTY_EXAMPLES", "40"))  # CI: 500
MEETING = "events/2017-03-03-endringsledelse-i-praksis.toml"
MEETING_UID = "2017-03-03-endringsledelse-i-praksis@www.example.org"
SPECIAL = [";", ",", "\\", "<", ">", "&", '"', "'", "\t", " ", "\u2028", "👍", "ø"]
MARKUP = [
    "<img src=x onerror=alert(1)>",
    "<b>fet</b>",
    "&amp; &lt;b&gt;",
    "]]>",
    "Sak: C:\\Nye filer\\N",
    "a;b,c\\d",
    "<script>alert(1)</script>",
]
line_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    SPECIAL
)
text_chars = line_chars | st.sampled_from(["\n", "\r"])


def _fields(chars: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    words = st.lists(st.sampled_from(MARKUP) | st.text(chars, max_size=20), min_size=1, max_size=5)
    return (st.text(chars, min_size=1, max_size=size) | words.map(" ".join)).filter(
        lambda text: bool(text.strip()) and len(text) <= size
    )


lines, paragraphs = _fields(line_chars, 120), _fields(text_chars, 300)
CONFIG_LINES = (
    "podcast.title",
    "podcast.author",
    "podcast.copyright",
    "podcast.owner.name",
    "podcast.segments.endringspraten.title",
    "calendar.name",
    "calendar.location",
)
CONFIG_TEXTS = (
    "podcast.description",
    "podcast.segments.endringspraten.description",
    "calendar.description",
)
EPISODE_LINES = ("title", "segments.0.title")
MEETING_LINES = ("title", "location", "speakers.0.name", "speakers.0.affiliation")
MEETING_TEXTS = ("description",)


def _texts(
    names: tuple[str, ...], values: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({name: values for name in names})


def _put(data: dict[str, Any], dotted: str, value: str) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[int(key)] if key.isdigit() else data[key]  # type: ignore[index]
    data[last] = value


def _rewrite(path: Path, texts: dict[str, str]) -> None:
    data = tomllib.loads(path.read_text("utf-8"))
    for dotted, value in texts.items():
        _put(data, dotted, value)
    path.write_text(tomli_w.dumps(data), "utf-8")


def plain(text: str) -> str:
    """Text as castcal publishes it: less edge whitespace, every line break a line feed."""
    return text.strip().replace("\r\n", "\n").replace("\r", "\n")


def html_text(fragment: str) -> str:
    """The text of ``fragment`` read as HTML, by html5lib and lxml; it has no element."""
    parsed = html5lib.parseFragment(fragment)
    assert len(parsed) == 0, fragment  # no element
    tree = lxml.html.fragment_fromstring(fragment, create_parent="div") if fragment else None
    assert tree is None or len(tree) == 0, fragment
    text = parsed.text or ""
    assert tree is None or (tree.text or "") == text
    return text


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=_texts(CONFIG_LINES, lines).flatmap(
        lambda one: _texts(CONFIG_TEXTS, paragraphs).map(lambda two: {**one, **two})
    ),
    episode=_texts(EPISODE_LINES, lines),
    summary=paragraphs,
    notes=paragraphs,
    meeting=_texts(MEETING_LINES, lines).flatmap(
        lambda one: _texts(MEETING_TEXTS, paragraphs).map(lambda two: {**one, **two})
    ),
)
@example(
    config={name: "a;b,c\\d\\N <b>x</b>" for name in CONFIG_LINES}
    | {name: "Linje én;\nlinje, to\r\n\\N <img src=x onerror=alert(1)>" for name in CONFIG_TEXTS},
    episode={name: "<b>fet</b> & ]]>" for name in EPISODE_LINES},
    summary="<img src=x onerror=alert(1)>\r\n&amp; <b>",
    notes="<script>x</script>]]> [lenke](javascript:alert(1))",
    meeting={name: "Frokost; kaffe, te \\ \\N" for name in MEETING_LINES}
    | {"description": "Linje én\nlinje to\r\nlinje tre\rfire; \\N"},
)
def test_text_in_every_field_publishes_everywhere(
    sample: Path,
    config: dict[str, str],
    episode: dict[str, str],
    summary: str,
    notes: str,
    meeting: dict[str, str],
) -> None:
    files = {"config.toml": config, f"{EPISODE}/episode.toml": episode | {"summary": summary}}
    files[MEETING] = meeting
    originals = {name: (sample / name).read_bytes() for name in [*files, f"{EPISODE}/notes.md"]}
    try:
        for name, texts in files.items():
            _rewrite(sample / name, texts)
        (sample / EPISODE / "notes.md").write_text(notes, "utf-8", newline="")
        published = outputs(load(sample / "config.toml"))
    finally:
        for name, data in originals.items():
            (sample / name).write_bytes(data)
    written = {**config, **{f"episode.{k}": v for k, v in episode.items()}, "summary": summary}
    written |= {f"meeting.{k}": v for k, v in meeting.items()}
    check_feeds(published, written)
    check_calendars(published, written)
    check_atom(published[paths.ATOM], written)
    check_page(published[paths.PAGE], written)


def squash(text: str, *, lines: bool = False) -> str:
    """Whitespace as podcastparser (gPodder) reads it: runs of it, or of it but line
    breaks, as one space."""
    return re.sub(r"[^\S\r\n]+" if lines else r"\s+", " ", text.strip())


def check_feeds(published: dict[str, bytes], w: dict[str, str]) -> None:
    """The text in the podcast feeds: titles as written, descriptions as HTML that shows
    the text as written, show notes as safe HTML; read by lxml, feedparser, podcastparser."""
    show, kind = w["podcast.title"].strip(), w["podcast.segments.endringspraten.title"].strip()
    title, part = w["episode.title"].strip(), w["episode.segments.0.title"].strip()
    channel = etree.fromstring(published[paths.FEED]).find("channel")
    assert channel is not None and channel.findtext("title") == show
    assert html_text(channel.findtext("description") or "") == plain(w["podcast.description"])
    assert channel.findtext(f"{{{ITUNES}}}author") == w["podcast.author"].strip()
    assert channel.findtext("copyright") == w["podcast.copyright"].strip()
    owner = channel.findtext(f"{{{ITUNES}}}owner/{{{ITUNES}}}name")
    assert owner == w["podcast.owner.name"].strip()
    (item,) = [i for i in channel.iter("item") if i.findtext("guid") == GUID]
    assert item.findtext("title") == title
    assert html_text(item.findtext("description") or "") == plain(w["summary"])
    assert next(c.get("title") for c in item.iter(f"{{{PSC}}}chapter")) == f"{kind}: {part}"
    assert_safe_html(item.findtext(f"{{{CONTENT}}}encoded") or "")

    segment = etree.fromstring(published[paths.segment_feed("endringspraten")]).find("channel")
    assert segment is not None and segment.findtext("title") == f"{show}: {kind}"
    described = segment.findtext("description") or ""
    assert html_text(described) == plain(w["podcast.segments.endringspraten.description"])
    items = {i.findtext("title"): i for i in segment.iter("item")}
    # a segment without a summary of its own: what its kind is about, and its episode
    about = f"{plain(w['podcast.segments.endringspraten.description'])}\n\nFra episoden «{title}»."
    assert html_text(items[part].findtext("description") or "") == about

    etree.fromstring(published[paths.segment_feed("endringsnemda")])  # as well formed
    check_feed_readers(published[paths.FEED], w, plain(w["summary"]), main=True)
    check_feed_readers(published[paths.segment_feed("endringspraten")], w, about, main=False)


def by_feedparser(text: str) -> str:
    """Text as feedparser gives it: where all of it is Latin-1 that also reads as UTF-8,
    it takes it for misdecoded UTF-8 and decodes it again (its guess, not the feed's).
    (C1 controls, which it would read as Windows-1252, castcal refuses.)"""
    with contextlib.suppress(UnicodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text


def check_feed_readers(data: bytes, w: dict[str, str], described: str, *, main: bool) -> None:
    """The feed as feedparser and podcastparser read it; ``described``: the episode's
    item's description as text."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    if main:
        assert html_text(parsed.feed.subtitle) == by_feedparser(plain(w["podcast.description"]))
    page = f"/{EPISODE.split('/')[1]}.html"  # the episode's page: its items' link
    entries = [entry for entry in parsed.entries if entry.link.endswith(page)]
    assert entries
    for entry in entries:
        assert html_text(entry.summary) == by_feedparser(described)
    app = podcastparser.parse(FEED_URL, io.BytesIO(data))
    if main:
        assert app["title"] == squash(w["podcast.title"])
        description = html.unescape(app["description"])
        assert description == squash(plain(w["podcast.description"]), lines=True)
        (episode,) = [e for e in app["episodes"] if e["guid"] == GUID]
        assert episode["title"] == squash(w["episode.title"])
        assert html.unescape(episode["description"]) == squash(plain(w["summary"]), lines=True)


def check_calendars(published: dict[str, bytes], w: dict[str, str]) -> None:
    """The text in the series and the meeting's own file, read by icalendar and ical."""
    title, location = plain(w["meeting.title"]), plain(w["meeting.location"])
    within = [plain(w[f"meeting.{n}"]) for n in ("description", "speakers.0.name")]
    single = published["events/2017-03-03-endringsledelse-i-praksis.ics"]
    read = []
    for data in (published[paths.CALENDAR], single):
        for line in data.split(b"\r\n"):
            assert len(line) <= 75, line
        cal = icalendar.Calendar.from_ical(data)
        strict = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
        (event,) = [e for e in cal.walk("VEVENT") if str(e["UID"]) == MEETING_UID]
        (other,) = [e for e in strict.events if e.uid == MEETING_UID]
        assert str(event["SUMMARY"]) == other.summary == title
        assert str(event["LOCATION"]) == other.location == location
        for text in within:
            assert text in str(event["DESCRIPTION"]) and text in (other.description or "")
        read.append((cal, strict))
    (series, strict_series), (own, _) = read
    assert strict_series.name == [plain(w["calendar.name"])]
    assert strict_series.description == [plain(w["calendar.description"])]
    assert str(series["DESCRIPTION"]) == plain(w["calendar.description"])
    raw = calendar_properties(
        published[paths.CALENDAR]
    )  # the X-WR- twins escaped as the standard ones
    assert (raw["X-WR-CALNAME"], raw["X-WR-CALDESC"]) == (raw["NAME"], raw["DESCRIPTION"])
    (alarm,) = own.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == title


def check_atom(data: bytes, w: dict[str, str]) -> None:
    """The Atom feed's text is plain text (type="text"), as written."""
    root = etree.fromstring(data)
    assert root.findtext(f"{{{ATOM}}}title") == w["calendar.name"].strip()
    assert root.findtext(f"{{{ATOM}}}subtitle") == w["calendar.description"].strip()
    titles = {e.findtext(f"{{{ATOM}}}title"): e for e in root.iter(f"{{{ATOM}}}entry")}
    content = titles[w["meeting.title"].strip()].find(f"{{{ATOM}}}content")
    assert content is not None and content.get("type") == "text"
    for name in ("meeting.description", "meeting.location", "meeting.speakers.0.name"):
        assert w[name].strip() in (content.text or "")
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title_detail.type == parsed.feed.subtitle_detail.type == "text/plain"


def check_page(data: bytes, w: dict[str, str]) -> None:
    """The show page parses as HTML, shows the text, and has no element of it."""
    document = html5lib.parse(data, namespaceHTMLElements=False)
    text = "".join(document.itertext())
    for name in ("podcast.title", "episode.title", "meeting.title", "calendar.name"):
        assert w[name].strip() in text
    tags = [element.tag for element in document.iter()]
    for tag, most in (("script", 1), ("style", 1), ("img", 1), ("iframe", 0), ("svg", 0)):
        assert tags.count(tag) <= most, tag
    for element in document.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib)
