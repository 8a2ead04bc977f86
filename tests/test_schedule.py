"""Scheduled episodes and drafts: what is not due yet, or not ready, is in no output until
it is; what was published and is then held back counts as a removal; check, build and the
preview say what is coming."""

from __future__ import annotations

import json
import shutil
import tomllib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import icalendar
import pytest
from lxml import html

from castcal.build.pipeline import BuildResult, Request, build
from castcal.content.identity import episode_guid
from tests.conftest import BUILD_EPOCH, Run, snapshot

NEW = "endring-i-praksis"
TITLE = "Endring i praksis"
MEETING = "2027-02-10-utkast-til-mote"
MEETING_TITLE = "Endring til frokost: et møte som ennå er et utkast"
DAY = 24 * 3600
# BUILD_EPOCH (2026-09-21T14:13:20Z) and a day later, in Oslo's summer time.
A_DAY_LATER = "2026-09-22T16:13:20+02:00"


def add_episode(project: Path, published: str, *, draft: bool = False, audio: bool = True) -> None:
    """A third episode, NEW, published at ``published`` (TOML), a draft or not, with its
    audio or still without."""
    folder = project / "episodes" / NEW
    shutil.copytree(project / "episodes/digital-transformasjon", folder)
    toml = folder / "episode.toml"
    lines = toml.read_text().splitlines(keepends=True)
    head = [f'title = "{TITLE}"\n', "number = 3\n", f"published = {published}\n"]
    head += ["draft = true\n"] if draft else []
    toml.write_text("".join(head + lines[3:]))
    if not audio:
        (folder / "audio.mp3").unlink()


def add_draft_meeting(project: Path) -> None:
    (project / "events" / f"{MEETING}.toml").write_text(
        f'title = "{MEETING_TITLE}"\nstart = 2027-02-10T08:00:00\ndraft = true\n'
    )


def set_draft(path: Path, *, draft: bool) -> None:
    """``draft = true`` at the top of an episode's or a meeting's file, or none."""
    text = path.read_text().replace("draft = true\n", "")
    path.write_text(("draft = true\n" if draft else "") + text)


def new_guid(project: Path) -> str:
    config = tomllib.loads((project / "config.toml").read_text())
    return episode_guid(uuid.UUID(config["podcast"]["guid"]), NEW)


def built(project: Path, epoch: int, monkeypatch: pytest.MonkeyPatch) -> BuildResult:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return build(Request(project / "config.toml", jobs=1))


def assert_absent(feeds: Path, guid: str, *, words: tuple[str, ...] = (NEW, TITLE)) -> None:
    """Neither the item nor anything of it in any output, read as apps read them."""
    for path in feeds.rglob("*"):
        if not path.is_file():
            continue
        assert NEW not in path.name, path
        if path.suffix in (".xml", ".json", ".html", ".ics", ".atom"):
            text = path.read_text()
            for word in (*words, guid):
                assert word not in text, (path, word)
    for name in ("podcast.xml", "endringspraten.xml", "endringsnemda.xml"):
        parsed = feedparser.parse((feeds / name).read_bytes())
        assert not parsed.bozo, name
        assert parsed.entries, name
        assert all(guid not in e.id for e in parsed.entries), name
        assert all(TITLE not in e.title for e in parsed.entries), name
    page = html.fromstring((feeds / "index.html").read_bytes())
    assert not page.xpath(f'//*[@id="{NEW}" or @id="{MEETING}"]')
    manifest = json.loads((feeds / "manifest.json").read_text())
    assert NEW not in manifest["episodes"]
    assert MEETING not in manifest["events"]
    calendar = icalendar.Calendar.from_ical((feeds / "frokost.ics").read_bytes())
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert summaries and MEETING_TITLE not in summaries


def test_a_scheduled_episode_is_published_by_the_first_build_after_its_time(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_episode(project, A_DAY_LATER)
    feeds, guid = project / "feeds", new_guid(project)
    first = built(project, BUILD_EPOCH, monkeypatch)
    assert_absent(feeds, guid)
    assert len(first.project.episodes) == 2
    assert first.next_due == datetime.fromtimestamp(BUILD_EPOCH + DAY, UTC)
    for name in ("podcast.xml", "endringspraten.xml"):  # no date ahead of the build
        channel = feedparser.parse((feeds / name).read_bytes()).feed
        built_at = datetime.fromtimestamp(BUILD_EPOCH, UTC).timetuple()
        assert channel.updated_parsed <= built_at

    meanwhile = built(project, BUILD_EPOCH + DAY // 2, monkeypatch)
    assert meanwhile.written == []
    assert_absent(feeds, guid)

    later = built(project, BUILD_EPOCH + 2 * DAY, monkeypatch)
    own = {name for name in later.written if NEW in name}
    assert own == {
        f"audio/{NEW}.mp3",
        f"audio/{NEW}-endringspraten.mp3",
        f"audio/{NEW}-endringsnemda.mp3",
        f"chapters/{NEW}.json",
        f"episoder/{NEW}.html",
        f"transcripts/{NEW}.vtt",
        f"transcripts/{NEW}-endringspraten.vtt",
        f"transcripts/{NEW}-endringsnemda.vtt",
    }
    assert set(later.written) - own == {
        "podcast.xml", "endringspraten.xml", "endringsnemda.xml", "index.html", "manifest.json",
    }  # fmt: skip
    parsed = feedparser.parse((feeds / "podcast.xml").read_bytes())
    newest = parsed.entries[0]
    assert (newest.title, newest.id) == (TITLE, guid)
    assert newest.published_parsed == datetime.fromisoformat(A_DAY_LATER).utctimetuple()
    assert parsed.feed.updated_parsed == newest.published_parsed
    page = html.fromstring((feeds / "index.html").read_bytes())
    assert page.xpath(f'//article[@id="{NEW}"]//h3/a/text()') == [f"3. {TITLE}"]
    assert NEW in json.loads((feeds / "manifest.json").read_text())["episodes"]
    assert built(project, BUILD_EPOCH + 2 * DAY, monkeypatch).written == []


def test_drafts_are_in_no_output_whatever_their_date(
    project: Path, castcal: Callable[..., Run]
) -> None:
    add_episode(project, "2017-06-01T07:00:00+02:00", draft=True)
    add_draft_meeting(project)
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    assert_absent(project / "feeds", new_guid(project), words=(NEW, TITLE, MEETING_TITLE))
    assert "2 episodes, 4 meetings;" in result.stdout
    assert f"draft: {NEW} (episode)\ndraft: {MEETING} (meeting)\n" in result.stdout


def test_a_draft_may_wait_for_its_audio(project: Path, castcal: Callable[..., Run]) -> None:
    """Its missing audio is said, and no problem, not even with --strict; once it is
    there, the draft is checked in full."""
    add_episode(project, A_DAY_LATER, draft=True, audio=False)
    checked = castcal("check", "--strict", "--config", project / "config.toml")
    assert checked.exit_code == 0, checked.stderr
    assert checked.stderr == ""
    said = f"draft: {NEW} (episode); its audio is not there yet: audio.mp3"
    assert said in checked.stdout.splitlines()
    served = castcal("build", "--config", project / "config.toml")
    assert served.exit_code == 0, served.stderr
    assert said in served.stdout
    set_draft(project / "episodes" / NEW / "episode.toml", draft=False)
    published = castcal("check", "--config", project / "config.toml")
    assert published.exit_code == 1
    assert f"episodes/{NEW}/episode.toml: audio: 'audio.mp3' does not exist" in published.stderr


def test_check_and_build_say_what_is_coming(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_episode(project, "2026-12-17T07:00:00+01:00")
    add_draft_meeting(project)
    built_at = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 07:00 in Oslo, 13 days before
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(built_at.timestamp())))
    coming = [
        f"scheduled: {NEW} at torsdag 17. desember 2026 07:00 (Europe/Oslo), in 13 days",
        f"draft: {MEETING} (meeting)",
    ]
    checked = castcal("check", "--config", project / "config.toml")
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.splitlines()[-2:] == coming  # after each episode's loudness
    result = castcal("build", "--config", project / "config.toml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == coming


def test_without_a_calendar_the_time_is_told_at_its_offset(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(project / "events")
    config = project / "config.toml"
    text = config.read_text()
    start = text.index("[calendar]")
    end = text.find("\n[", start + 1)
    config.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""))
    add_episode(project, "2026-09-21T19:30:00-04:00")  # 23:30 UTC: 9 h 17 min away
    result = castcal("check", "--config", config)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1:] == [  # after each episode's loudness
        f"scheduled: {NEW} at mandag 21. september 2026 19:30 (UTC-04:00), in 9 hours"
    ]


@pytest.mark.parametrize("held", ["draft", "moved"])
def test_a_published_episode_held_back_is_a_removal(
    project: Path, castcal: Callable[..., Run], held: str
) -> None:
    """Made a draft, or moved to a date ahead: refused as a removal, nothing written;
    taken down with --allow-removal."""
    config = project / "config.toml"
    toml = project / "episodes/digital-transformasjon/episode.toml"
    assert castcal("build", "--config", config).exit_code == 0
    before = snapshot(project / "feeds")
    if held == "draft":
        set_draft(toml, draft=True)
        why = "it is a draft now (draft = true)"
    else:
        toml.write_text(toml.read_text().replace("2017-04-20T07:00", "2027-04-20T07:00"))
        why = "it is scheduled for 2027-04-20T07:00:00+02:00"
    refused = castcal("build", "--config", config)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "episodes/digital-transformasjon/episode.toml: -: published episode (GUID "
    )
    said = f"would be taken down: {why}; to remove it on purpose, build with --allow-removal"
    assert said in refused.stderr
    assert refused.stderr.count("\n") == 2  # the episode only, not its segments besides
    assert castcal("check", "--config", config).stderr == refused.stderr
    assert snapshot(project / "feeds") == before
    removed = castcal("build", "--config", config, "--allow-removal")
    assert removed.exit_code == 0, removed.stderr
    feeds = project / "feeds"
    assert not (feeds / "audio/digital-transformasjon.mp3").exists()
    titles = [e.title for e in feedparser.parse((feeds / "podcast.xml").read_bytes()).entries]
    assert titles == ["Hva er endringsledelse?"]


def test_a_published_meeting_made_a_draft_is_a_removal(
    project: Path, castcal: Callable[..., Run]
) -> None:
    config = project / "config.toml"
    assert castcal("build", "--config", config).exit_code == 0
    meeting = project / "events/2027-01-20-endring-og-medvirkning.toml"
    set_draft(meeting, draft=True)
    refused = castcal("build", "--config", config)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("events/2027-01-20-endring-og-medvirkning.toml: -: ")
    assert "it is a draft now (draft = true)" in refused.stderr
    assert "--allow-removal" in refused.stderr
    assert castcal("build", "--config", config, "--allow-removal").exit_code == 0
    assert not (project / "feeds/events/2027-01-20-endring-og-medvirkning.ics").exists()


def test_the_preview_has_drafts_and_scheduled_episodes_and_feeds_is_untouched(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = project / "config.toml"
    assert castcal("build", "--config", config).exit_code == 0
    before = snapshot(project / "feeds")
    add_episode(project, "2026-12-17T07:00:00+01:00")
    add_draft_meeting(project)
    other = project / "episodes/hva-er-endringsledelse/episode.toml"
    set_draft(other, draft=True)  # published, and now a draft: no guard in a preview
    result = build(Request(config, jobs=1, preview=True))
    preview = project / ".castcal-cache/preview"
    assert result.out_dir == preview
    assert snapshot(project / "feeds") == before
    assert (preview / f"audio/{NEW}.mp3").is_file()
    assert (preview / f"events/{MEETING}.ics").is_file()
    titles = [e.title for e in feedparser.parse((preview / "podcast.xml").read_bytes()).entries]
    assert TITLE in titles and "Hva er endringsledelse?" in titles
    page = html.fromstring((preview / "index.html").read_bytes())
    badge = '//article[@id="{}"]//span[@class="badge"]/text()'
    assert page.xpath(badge.format(NEW)) == ["Planlagt: torsdag 17. desember kl. 07.00"]
    assert page.xpath(badge.format("hva-er-endringsledelse")) == ["Utkast"]
    assert page.xpath(badge.format(MEETING)) == ["Utkast"]
    assert page.xpath(badge.format("digital-transformasjon")) == []


def test_the_preview_is_never_built_into_the_site_output(project: Path) -> None:
    from castcal.errors import UsageError

    with pytest.raises(UsageError, match="never built into the site's output folder"):
        build(Request(project / "config.toml", project / "feeds", jobs=1, preview=True))
    assert not (project / "feeds").exists()


def test_serve_previews_drafts_and_leaves_feeds_alone(project: Path) -> None:
    import httpx

    from tests.serving import castcal_serve

    add_episode(project, A_DAY_LATER, draft=True)
    with castcal_serve(project) as url:
        page = httpx.get(url).text
        assert httpx.get(url + f"audio/{NEW}.mp3").status_code == 200
    assert f'<article id="{NEW}">' in page and "Utkast" in page
    assert not (project / "feeds").exists()


def test_a_day_left_is_said_in_hours_and_minutes() -> None:
    from castcal.build.coming import away

    assert away(timedelta(days=13, hours=23)) == "in 13 days"
    assert away(timedelta(days=1)) == "in 1 day"
    assert away(timedelta(hours=23, minutes=59)) == "in 23 hours"
    assert away(timedelta(minutes=61)) == "in 1 hour"
    assert away(timedelta(minutes=59, seconds=1)) == "in 1 hour"
    assert away(timedelta(minutes=2)) == "in 2 minutes"
    assert away(timedelta(seconds=1)) == "in 1 minute"


def test_a_scheduled_episode_is_checked_before_its_time(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Held back, but loaded and checked all the same: a number already taken is said now,
    not at release."""
    add_episode(project, A_DAY_LATER)
    toml = project / "episodes" / NEW / "episode.toml"
    toml.write_text(toml.read_text().replace("number = 3", "number = 2"))
    result = castcal("check", "--config", project / "config.toml")
    assert result.exit_code == 1
    assert (
        f"episodes/{NEW}/episode.toml: number: episode number 2 is also used by "
        "digital-transformasjon"
    ) in result.stderr
