"""`castcal init` and `castcal new`: a new project, episode and meeting, filled in as an
editor would, check and build; the dates, numbers and refusals they come with."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import icalendar
import pytest

from castcal.content.identity import podcast_guid
from tests.audio_factory import mp3
from tests.conftest import REPO, Run, snapshot

TO_FILL = {
    "site.base_url", "podcast.title", "podcast.description", "podcast.language",
    "podcast.author", "podcast.owner", "podcast.image", "podcast.categories",
    "podcast.explicit", "podcast.guid", "calendar.name", "calendar.description",
    "calendar.location",
}  # fmt: skip
URL = "https://podkast.example.org/"
FILLED = [  # each commented line of config.toml, in order, and what the editor writes
    ('# base_url = "https://www.example.org/podkast/"', f'base_url = "{URL}"'),
    ('# title = "…"', 'title = "Endringspodden"'),
    ('# description = """…"""', 'description = "Om endringsledelse."'),
    ('# language = "nb"', 'language = "nb"'),
    ('# author = "…"', 'author = "Difi"'),
    ('# owner = { name = "…", email = "…" }', 'owner = { name = "Difi", email = "a@example.org" }'),
    ('# image = "cover.jpg"', 'image = "cover.jpg"'),
    ("# categories = [", "categories = ["),
    ("# explicit = false", "explicit = false"),
    ('# guid = "…"', f'guid = "{podcast_guid(URL + "podcast.xml")}"'),
    ('# name = "…"', 'name = "Endring til frokost"'),
    ('# description = """…"""', 'description = "Frokostmøter."'),
    ('# location = "…"', 'location = "Oslo"'),
]


def epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def fill(config: Path) -> None:
    text = config.read_text()
    for commented, written in FILLED:
        assert commented in text, commented
        text = text.replace(commented, written, 1)
    config.write_text(text)


def undraft(path: Path) -> None:
    text = path.read_text()
    assert "\ndraft = true" in text
    path.write_text(text.replace("\ndraft = true", "\n# draft = true"))


def test_init_new_fill_then_check_and_build(
    tmp_path: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "show"
    made = castcal("init", root)
    assert made.exit_code == 0, made.stderr
    assert "castcal check" in made.stdout and "castcal new episode" in made.stdout
    assert sorted(p.name for p in root.iterdir()) == ["config.toml", "episodes", "events"]
    config = root / "config.toml"
    checked = castcal("check", "--config", config)
    assert checked.exit_code == 1
    lines = checked.stderr.splitlines()
    assert lines[-1] == f"{len(TO_FILL)} problems found; nothing was written."
    assert {line.split(": ")[1] for line in lines[:-1]} == TO_FILL
    assert all(line.startswith("config.toml: ") for line in lines[:-1])

    episode = castcal("new", "episode", "forste", "--config", config)
    meeting = castcal("new", "meeting", "2026-12-09", "frokost", "--config", config)
    assert episode.exit_code == 0 and meeting.exit_code == 0, episode.stderr + meeting.stderr
    folder, event = root / "episodes/forste", root / "events/2026-12-09-frokost.toml"
    assert "episode.toml" in episode.stdout and event.name in meeting.stdout

    fill(config)
    shutil.copy(REPO / "cover.jpg", root / "cover.jpg")
    missing = castcal("check", "--config", config)
    assert missing.exit_code == 0, missing.stderr  # a draft's audio may be missing
    (folder / "audio.mp3").write_bytes(mp3(3, vbr=False))
    checked = castcal("check", "--config", config)
    assert checked.exit_code == 0, checked.stderr
    assert "draft: forste" in checked.stdout

    undraft(folder / "episode.toml")
    undraft(event)
    published = tomllib.loads((folder / "episode.toml").read_text())["published"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(published + timedelta(hours=1)))
    built = castcal("build", "--config", config)
    assert built.exit_code == 0, built.stderr
    assert built.stdout.startswith("1 episode, 1 meeting; "), built.stdout
    feed = feedparser.parse((root / "feeds/podcast.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["Ny episode"]
    assert feed.entries[0].itunes_episode == "1"
    for kind in ("endringspraten", "endringsnemda"):  # not the part's name alone in each item
        items = feedparser.parse((root / f"feeds/{kind}.xml").read_bytes()).entries
        assert [e.title for e in items] == [f"Ny episode ({kind.capitalize()})"]
    calendar = icalendar.Calendar.from_ical(
        (root / "feeds/events/2026-12-09-frokost.ics").read_bytes()
    )
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == datetime(2026, 12, 9, 7, 0, tzinfo=UTC).astimezone(
        vevent.decoded("DTSTART").tzinfo
    )
    assert str(vevent["LOCATION"]) == "Oslo"


def test_init_with_url_fills_base_url_and_guid(tmp_path: Path, castcal: Callable[..., Run]) -> None:
    assert castcal("init", tmp_path / "p", "--url", "https://example.org/pod").exit_code == 0
    config = tomllib.loads((tmp_path / "p/config.toml").read_text())
    assert config["site"]["base_url"] == "https://example.org/pod/"
    assert config["podcast"]["guid"] == str(podcast_guid("https://example.org/pod/podcast.xml"))
    assert list(config["podcast"]["segments"]) == ["endringspraten", "endringsnemda"]
    assert config["calendar"]["timezone"] == "Europe/Oslo"


@pytest.mark.parametrize(
    ("today", "release"),
    [
        (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), "2026-12-07T07:00:00+01:00"),  # Fri: Monday
        (datetime(2026, 6, 9, 23, 30, tzinfo=UTC), "2026-06-11T07:00:00+02:00"),  # Wed in Oslo
        (datetime(2026, 3, 27, 9, 0, tzinfo=UTC), "2026-03-30T07:00:00+02:00"),  # over DST
        (datetime(2026, 10, 23, 9, 0, tzinfo=UTC), "2026-10-26T07:00:00+01:00"),  # and back
    ],
)
def test_new_episode_next_number_and_weekday_release(
    project: Path,
    castcal: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    today: datetime,
    release: str,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(today))
    made = castcal("new", "episode", "neste", "--config", project / "config.toml")
    assert made.exit_code == 0, made.stderr
    text = (project / "episodes/neste/episode.toml").read_text()
    data = tomllib.loads(text)
    assert data["published"].isoformat() == release
    assert data["published"].weekday() < 5 and data["published"].date() > date(2000, 1, 1)
    assert data["number"] == 3 and data["draft"] is True
    assert [s["kind"] for s in data["segments"]] == ["endringspraten", "endringsnemda"]
    for optional in ("season", "alternates", "notes", "transcript", "explicit", "guid"):
        assert f"# {optional} = " in text


def test_new_meeting_takes_the_series_defaults(project: Path, castcal: Callable[..., Run]) -> None:
    made = castcal("new", "meeting", "2026-10-07", "ny-start", "--config", project / "config.toml")
    assert made.exit_code == 0, made.stderr
    data = tomllib.loads((project / "events/2026-10-07-ny-start.toml").read_text())
    assert data["start"] == datetime(2026, 10, 7, 8, 0)
    assert data["end"] == datetime(2026, 10, 7, 9, 30)
    assert data["location"] == "Oslo (lokalet oppgis ved påmelding)"
    assert data["draft"] is True
    checked = castcal("check", "--config", project / "config.toml")
    assert checked.exit_code == 0, checked.stderr
    assert "draft: 2026-10-07-ny-start (meeting)" in checked.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("new", "episode", "hva-er-endringsledelse"),
            "episodes/hva-er-endringsledelse: -: already exists",
        ),
        (("new", "episode", "Ny_Episode"), "folder name: 'Ny_Episode' must be lower-case"),
        (("new", "meeting", "2026-13-01", "frokost"), "date: '2026-13-01' is not a date"),
        (("new", "meeting", "2026-12-09", "Frokost"), "file name: 'Frokost' must be lower-case"),
        (("new", "meeting", "2026-12-09", "et-aar-med-endringsledelse"), "already exists"),
        (("new", "meeting", "2026-12-09"), "castcal new meeting takes DATE SLUG"),
    ],
)
def test_new_refuses_what_exists_or_cannot_be_valid(
    project: Path, castcal: Callable[..., Run], args: tuple[str, ...], message: str
) -> None:
    before = snapshot(project)
    refused = castcal(*args, "--config", project / "config.toml")
    assert refused.exit_code == (2 if "takes" in message else 1)
    assert message in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(project) == before


def test_init_refuses_a_project(project: Path, castcal: Callable[..., Run]) -> None:
    before = (project / "config.toml").read_bytes()
    refused = castcal("init", project)
    assert refused.exit_code == 1
    assert "config.toml: -: already exists" in refused.stderr
    assert (project / "config.toml").read_bytes() == before
