"""`castcal status` and the publish guard against stale output: what a build now would
change, a scheduled episode that became due included, told before anything ships."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_EPOCH, Run, snapshot
from tests.test_publish import credentials, objects, s3_url  # noqa: F401 (fixtures)

EP = "hva-er-endringsledelse"
NOW = datetime.fromtimestamp(BUILD_EPOCH, UTC)
STALE = "feeds/ is older than its sources: run castcal build, or castcal build --publish"


def status(castcal: Callable[..., Run], project: Path) -> tuple[int, dict[str, Any]]:
    run = castcal("status", "--json", "--config", project / "config.toml")
    return run.exit_code, json.loads(run.stdout)


def schedule(project: Path, episode_id: str, when: datetime) -> None:
    """A copy of an episode, as a new one published at ``when``."""
    folder = project / "episodes" / episode_id
    shutil.copytree(project / "episodes" / EP, folder)
    toml = folder / "episode.toml"
    text = toml.read_text().replace("number = 1", "number = 3")
    text = text.replace("published = 2017-03-01T07:00:00+01:00", f"published = {when.isoformat()}")
    toml.write_text(text)


def retitle(project: Path) -> None:
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text(toml.read_text().replace('title = "', 'title = "Nå: ', 1))


def test_status_after_a_build_a_change_and_a_scheduled_episode(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, before = status(castcal, project)
    assert code == 1 and before["up_to_date"] is False  # never built
    assert before["built"] is False and len(before["pending"]) == 32  # every file a build writes
    said = castcal("status", "--config", project / "config.toml").stdout
    assert said.startswith("nothing built yet (") and "manifest.json is not there)\n" in said
    assert not (project / "feeds").exists()
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    code, built = status(castcal, project)
    assert code == 0, built
    assert built["up_to_date"] is True and built["pending"] == [] and built["built"] is True
    assert (built["episodes"], built["meetings"]) == (2, 4)
    assert built["newest_episode"] == {
        "id": "digital-transformasjon",
        "title": "Digital transformasjon som driver for endring",
        "at": "2017-04-20T07:00:00+02:00",
        "local": "torsdag 20. april 2017 07:00",
    }
    assert built["next_scheduled"] is None
    assert built["next_meeting"]["id"] == "2027-01-20-endring-og-medvirkning"  # not the cancelled

    due = (NOW + timedelta(days=1)).replace(microsecond=0)
    schedule(project, "neste-uke", due)
    code, scheduled = status(castcal, project)
    assert code == 0 and scheduled["up_to_date"] is True  # a build now would write nothing
    upcoming = scheduled["next_scheduled"]
    assert (upcoming["id"], upcoming["title"]) == ("neste-uke", "Hva er endringsledelse?")
    assert upcoming["at"] == "2026-09-22T16:13:20+02:00"  # Europe/Oslo, summer time
    assert upcoming["local"] == "tirsdag 22. september 2026 16:13"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(BUILD_EPOCH + 2 * 86400))
    code, became_due = status(castcal, project)
    assert code == 1 and became_due["up_to_date"] is False
    assert "audio/neste-uke.mp3" in became_due["pending"] and "podcast.xml" in became_due["pending"]
    assert became_due["next_scheduled"] is None

    retitle(project)
    text = castcal("status", "--config", project / "config.toml")
    assert text.exit_code == 1 and "a build is due: it would change" in text.stdout
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    code, after = status(castcal, project)
    assert code == 0 and after["up_to_date"] is True and after["episodes"] == 3
    assert after["newest_episode"]["id"] == "neste-uke"


def test_publish_refuses_feeds_older_than_the_sources(
    project: Path,
    castcal: Callable[..., Run],
    s3_url: str,  # noqa: F811
) -> None:
    import boto3

    bucket = "status-stale"
    boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    config = project / "config.toml"
    with config.open("a") as file:
        file.write(f'\n[publish]\ntarget = "s3://{bucket}/site"\nendpoint_url = "{s3_url}"\n')
    assert castcal("build", "--config", config).exit_code == 0
    retitle(project)
    built = snapshot(project / "feeds")
    for args in (("--dry-run",), ()):
        refused = castcal("publish", *args, "--config", config)
        assert refused.exit_code == 1, refused.stdout
        assert f"error: {STALE}" in refused.stderr
        assert "chapters/hva-er-endringsledelse.json" in refused.stderr
    assert objects(s3_url, bucket) == {}
    assert snapshot(project / "feeds") == built  # nothing built by the refusal

    fresh = castcal("build", "--publish", "--config", config)
    assert fresh.exit_code == 0, fresh.stderr
    assert "podcast.xml" in objects(s3_url, bucket)
    again = castcal("publish", "--dry-run", "--config", config)
    assert again.exit_code == 0, again.stderr
    assert "would upload 0 files" in again.stdout


def test_a_moved_project_is_up_to_date_where_it_now_is(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Moved, or restored from a backup into another folder with its cache: the outputs'
    records still hold, so it is not taken for out of date (nor publish refused)."""
    assert castcal("build", "--config", project / "config.toml").exit_code == 0
    moved = project.parent / "moved"
    project.rename(moved)
    code, report = status(castcal, moved)
    assert code == 0, report
    assert report["up_to_date"] is True and report["pending"] == []
    again = castcal("build", "--config", moved / "config.toml")
    assert again.exit_code == 0 and "0 files written" in again.stdout


def test_status_json_names_the_problems_of_content_it_cannot_read(
    project: Path, castcal: Callable[..., Run]
) -> None:
    """Exit 1 either way: monitoring tells a content problem from a build due by the JSON."""
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text(toml.read_text().replace("number = 1", 'number = "en"'))
    run = castcal("status", "--json", "--config", project / "config.toml")
    assert run.exit_code == 1
    (problem,) = json.loads(run.stdout)["problems"]
    assert problem["path"] == f"episodes/{EP}/episode.toml" and problem["field"] == "number"
    assert "whole number" in problem["message"] and "number" in run.stderr
