"""Safe to run unattended: guards against silent removal, one build at a time, and output
that survives a build killed at any instant."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import icalendar
import mutagen
import pytest

from tests.conftest import Run, copy_sample, snapshot
from tests.http_server import Site, serve

EP = "hva-er-endringsledelse"
MEETING = "2017-05-24-ny-digital-hverdag"


def build(project: Path, castcal: Callable[..., Run], *args: str) -> Run:
    return castcal("build", "--config", project / "config.toml", *args)


@pytest.fixture
def built(project: Path, castcal: Callable[..., Run]) -> Path:
    assert build(project, castcal).exit_code == 0
    return project


def test_removing_an_episode_is_refused_then_allowed(
    built: Path, castcal: Callable[..., Run]
) -> None:
    before = snapshot(built / "feeds")
    shutil.rmtree(built / "episodes" / EP)
    refused = build(built, castcal)
    assert refused.exit_code == 1
    assert f"episodes/{EP}: -: published episode (GUID " in refused.stderr
    assert "--allow-removal" in refused.stderr
    assert snapshot(built / "feeds") == before
    allowed = build(built, castcal, "--allow-removal")
    assert allowed.exit_code == 0, allowed.stderr
    manifest = json.loads((built / "feeds/manifest.json").read_text())
    assert EP not in manifest["episodes"]
    assert not (built / f"feeds/audio/{EP}.mp3").exists()  # pruned after the manifest
    assert not (built / f"feeds/chapters/{EP}.json").exists()
    assert len(feedparser.parse(built / "feeds/podcast.xml").entries) == 1


def test_renaming_an_episode_folder_needs_its_old_guid(
    built: Path, castcal: Callable[..., Run]
) -> None:
    manifest = json.loads((built / "feeds/manifest.json").read_text())
    old_guid = manifest["episodes"][EP]["guid"]
    before = snapshot(built / "feeds")
    (built / "episodes" / EP).rename(built / "episodes" / "episode-1")
    refused = build(built, castcal)
    assert refused.exit_code == 1
    assert f'set guid = "{old_guid}" in its episode.toml' in refused.stderr
    assert snapshot(built / "feeds") == before
    toml = built / "episodes/episode-1/episode.toml"
    toml.write_text(f'guid = "{old_guid}"\n' + toml.read_text())
    assert build(built, castcal).exit_code == 0
    guids = {e.id for e in feedparser.parse(built / "feeds/podcast.xml").entries}
    assert old_guid in guids
    assert (built / "feeds/audio/episode-1.mp3").exists()
    assert not (built / f"feeds/audio/{EP}.mp3").exists()


def test_changing_an_episode_guid_is_refused(built: Path, castcal: Callable[..., Run]) -> None:
    toml = built / "episodes" / EP / "episode.toml"
    toml.write_text('guid = "ny-identitet"\n' + toml.read_text())
    refused = build(built, castcal)
    assert refused.exit_code == 1
    assert f"episodes/{EP}/episode.toml: guid: was published with GUID " in refused.stderr


def test_deleting_a_meeting_is_refused_then_allowed(
    built: Path, castcal: Callable[..., Run]
) -> None:
    before = snapshot(built / "feeds")
    (built / "events" / f"{MEETING}.toml").unlink()
    refused = build(built, castcal)
    assert refused.exit_code == 1
    assert f"events/{MEETING}.toml: -: published meeting (UID {MEETING}@" in refused.stderr
    assert 'status = "cancelled"' in refused.stderr
    assert snapshot(built / "feeds") == before
    assert build(built, castcal, "--allow-removal").exit_code == 0
    assert not (built / f"feeds/events/{MEETING}.ics").exists()
    assert MEETING not in (built / "feeds/frokost.ics").read_text()


def test_changing_a_meeting_uid_is_refused(built: Path, castcal: Callable[..., Run]) -> None:
    path = built / "events" / f"{MEETING}.toml"
    path.write_text('uid = "frokost-2017-05@example.org"\n' + path.read_text())
    refused = build(built, castcal)
    assert refused.exit_code == 1
    assert f"events/{MEETING}.toml: uid: was published with UID" in refused.stderr


def test_cancelling_keeps_the_meeting_published(built: Path, castcal: Callable[..., Run]) -> None:
    path = built / "events" / f"{MEETING}.toml"
    path.write_text(path.read_text() + 'status = "cancelled"\n')
    assert build(built, castcal).exit_code == 0
    calendar = icalendar.Calendar.from_ical((built / "feeds/frokost.ics").read_bytes())
    event = next(e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith(MEETING))
    assert event["STATUS"] == "CANCELLED"


@pytest.fixture
def published_site(built: Path) -> Iterator[Site]:
    manifest = (built / "feeds/manifest.json").read_bytes()
    with serve(Site(files={"manifest.json": manifest})) as site:
        yield site


def test_guard_url_refuses_a_removal_from_a_fresh_checkout(
    published_site: Site, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    fresh = copy_sample(tmp_path / "fresh")
    shutil.rmtree(fresh / "episodes" / EP)
    url = published_site.url("/files/manifest.json")
    refused = build(fresh, castcal, "--guard-url", url)
    assert refused.exit_code == 1 and f"episodes/{EP}: -: published episode" in refused.stderr
    assert not (fresh / "feeds" / "podcast.xml").exists()
    assert build(fresh, castcal, "--guard-url", url, "--allow-removal").exit_code == 0


def test_guard_url_carries_sequence_numbers_into_a_fresh_checkout(
    built: Path, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    path = built / "events" / f"{MEETING}.toml"
    path.write_text(path.read_text().replace("start = 2017-05-24", "start = 2017-05-31"))
    assert build(built, castcal).exit_code == 0
    with serve(Site(files={"m.json": (built / "feeds/manifest.json").read_bytes()})) as site:
        fresh = copy_sample(tmp_path / "fresh")
        shutil.copy(path, fresh / "events" / path.name)
        assert build(fresh, castcal, "--guard-url", site.url("/files/m.json")).exit_code == 0
    assert (fresh / "feeds/frokost.ics").read_bytes() == (built / "feeds/frokost.ics").read_bytes()


def test_guard_url_unreachable_exits_4(tmp_path: Path, castcal: Callable[..., Run]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fresh = copy_sample(tmp_path / "fresh")
    result = build(fresh, castcal, "--guard-url", f"http://127.0.0.1:{port}/manifest.json")
    assert result.exit_code == 4
    assert "cannot fetch the published manifest" in result.stderr
    assert not (fresh / "feeds").exists() or not any((fresh / "feeds").iterdir())


def test_a_build_without_guard_url_needs_no_network(
    project: Path, castcal: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert build(project, castcal).exit_code == 0


def assert_valid(feeds: Path) -> None:
    """Every file parses, and the manifest lists nothing that is not on disk."""
    for path in feeds.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".xml":
            parsed = feedparser.parse(path)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        elif path.suffix == ".ics":
            icalendar.Calendar.from_ical(path.read_bytes())
        elif path.suffix == ".json":
            json.loads(path.read_bytes())
        elif path.suffix == ".mp3":
            assert mutagen.File(path) is not None, path
    manifest_path = feeds / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_bytes())
        base = "https://www.example.org/endringspodden/"
        for entry in manifest["episodes"].values():
            assert (feeds / entry["enclosure"].removeprefix(base)).is_file()
        for key in manifest["events"]:
            assert (feeds / "events" / f"{key}.ics").is_file()


# Kills the build, or one of its helper processes, at the n-th call of an os function
# (counted in each process: a helper starts with the count its build had).
KILLER = """
import os, signal, sys
who, target, when, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
original, calls, build = getattr(os, target), [0], os.getpid()
def hooked(*args, **kwargs):
    if (os.getpid() == build) != (who == "build"):
        return original(*args, **kwargs)
    calls[0] += 1
    if calls[0] == n and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    if calls[0] == n and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(os, target, hooked)
if target == "sync":  # the path of a build with many changed files: one sync for all
    import castcal.write.writer
    castcal.write.writer.ONE_SYNC_FROM = 0
from castcal.cli import cli
cli(sys.argv[5:])
"""

KILL_POINTS = (
    [("write", "before", n) for n in (1, 5, 9)]  # while the changed files are staged
    + [("sync", "before", 1), ("sync", "after", 1)]
    + [("replace", "before", n) for n in range(1, 11)]
    + [("replace", "after", n) for n in range(1, 11)]
    + [("fsync", "before", n) for n in range(1, 4)]
    + [("fsync", "after", n) for n in (1, 4)]
)


def change_content(project: Path) -> None:
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text(toml.read_text().replace("Hva er endringsledelse?", "Hva er ledelse?", 1))
    meeting = project / "events" / f"{MEETING}.toml"
    meeting.write_text(meeting.read_text().replace("start = 2017-05-24", "start = 2017-05-31"))


def test_a_build_killed_at_any_moment_leaves_valid_output(
    built: Path, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    old = tmp_path / "old-feeds"
    shutil.copytree(built / "feeds", old)
    change_content(built)
    reference = copy_sample(tmp_path / "reference")
    shutil.copytree(old, reference / "feeds")
    change_content(reference)
    assert build(reference, castcal).exit_code == 0
    expected = {k: v[0] for k, v in snapshot(reference / "feeds").items()}

    killed = 0
    for target, when, n in KILL_POINTS:
        shutil.rmtree(built / "feeds")
        shutil.copytree(old, built / "feeds")
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                KILLER,
                "build",
                target,
                when,
                str(n),
                "build",
                "--config",
                str(built / "config.toml"),
            ],
            capture_output=True,
            text=True,
            env={**os.environ},
            check=False,
        )
        assert run.returncode in (-9, 0), run.stderr
        killed += run.returncode == -9
        assert_valid(built / "feeds")
        again = build(built, castcal)
        assert again.exit_code == 0, again.stderr
        assert {k: v[0] for k, v in snapshot(built / "feeds").items()} == expected
    assert killed >= 25, killed


@pytest.mark.parametrize("wait", ["10", "0"])
def test_two_builds_at_once(project: Path, wait: str) -> None:
    command = [sys.executable, "-m", "castcal", "build", "--config", str(project / "config.toml")]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(
        [*command, "--wait", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    codes = []
    for process in (first, second):
        _, err = process.communicate(timeout=120)
        codes.append(process.returncode)
        if process.returncode == 3:
            assert "another castcal build is writing here" in err
    assert codes[0] in (0, 3) and codes[1] in (0, 3) and 0 in codes, codes
    if wait == "10":
        assert codes == [0, 0]  # the second waited its turn
    assert_valid(project / "feeds")
    assert (project / "feeds/podcast.xml").exists()


def test_temporary_files_of_a_killed_build_are_removed(
    built: Path, castcal: Callable[..., Run]
) -> None:
    feeds = built / "feeds"
    leftovers = [feeds / ".podcast.xml.k2j3.tmp", feeds / "audio/.hva-er-endringsledelse.mp3.x.tmp"]
    kept = [feeds / ".htaccess", feeds / "notes.tmp"]  # not named as castcal names them
    for path in leftovers + kept:
        path.write_bytes(b"half a file")
    assert build(built, castcal).exit_code == 0
    assert not any(path.exists() for path in leftovers)
    assert all(path.read_bytes() == b"half a file" for path in kept)


def test_a_temporary_name_already_taken_is_left_alone(tmp_path: Path) -> None:
    """The writer names a temp file for its file and its process; where that name is taken
    (a killed process of the same number, another machine on a shared disk), it takes the
    next free one and never writes into the other's. The file it publishes has the mode a
    new file gets: 0666 less the umask, readable by a web server."""
    from castcal.write import writer as output

    dest = tmp_path / "podcast.xml"
    taken = [
        tmp_path / f".podcast.xml.{os.getpid()}.tmp",
        tmp_path / f".podcast.xml.{os.getpid()}-1.tmp",
    ]
    for path in taken:
        path.write_bytes(b"someone else's")
    umask = os.umask(0o027)
    try:
        output.replace(dest, b"<rss/>")
        output.replace(tmp_path / "new" / "folder" / "file", b"made with its folders")
    finally:
        os.umask(umask)
    assert dest.read_bytes() == b"<rss/>"
    assert all(path.read_bytes() == b"someone else's" for path in taken)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["new", "podcast.xml", *(p.name for p in taken)]
    )
    assert dest.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "new/folder/file").read_bytes() == b"made with its folders"


def remove_episode(project: Path) -> None:
    shutil.rmtree(project / "episodes" / EP)


def change_episode_guid(project: Path) -> None:
    toml = project / "episodes" / EP / "episode.toml"
    toml.write_text('guid = "ny-identitet"\n' + toml.read_text())


def remove_meeting(project: Path) -> None:
    (project / "events" / f"{MEETING}.toml").unlink()


def change_podcast_guid(project: Path) -> None:
    config = project / "config.toml"
    config.write_text(config.read_text().replace("f7c7f539-", "00000000-"))


@pytest.mark.parametrize(
    "change", [remove_episode, change_episode_guid, remove_meeting, change_podcast_guid]
)
def test_check_refuses_what_build_refuses(
    built: Path, castcal: Callable[..., Run], change: Callable[[Path], None]
) -> None:
    """Check runs the guards build runs, with the same message, so "ok" means the build
    goes through; with --allow-removal it passes exactly when build would."""
    change(built)
    before = snapshot(built / "feeds")
    refused = build(built, castcal)
    checked = castcal("check", "--config", built / "config.toml")
    assert refused.exit_code == checked.exit_code == 1, checked.stdout
    assert checked.stderr == refused.stderr and "ok:" not in checked.stdout
    assert snapshot(built / "feeds") == before and "Traceback" not in checked.stderr
    allowed = castcal("check", "--config", built / "config.toml", "--allow-removal")
    assert allowed.exit_code == build(built, castcal, "--allow-removal").exit_code
    assert allowed.exit_code == (1 if change is change_podcast_guid else 0), allowed.stderr


def test_check_guards_the_output_folder_given_by_out(
    project: Path, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    out = tmp_path / "elsewhere"
    assert build(project, castcal, "--out", str(out)).exit_code == 0
    remove_episode(project)
    assert castcal("check", "--config", project / "config.toml").exit_code == 0  # feeds/: none
    refused = castcal("check", "--config", project / "config.toml", "--out", out)
    assert refused.exit_code == 1 and f"episodes/{EP}: -: published episode" in refused.stderr


def test_check_with_guard_url_refuses_a_removal_from_a_fresh_checkout(
    published_site: Site, tmp_path: Path, castcal: Callable[..., Run]
) -> None:
    fresh = copy_sample(tmp_path / "fresh")
    remove_meeting(fresh)
    url, config = published_site.url("/files/manifest.json"), fresh / "config.toml"
    refused = castcal("check", "--config", config, "--guard-url", url)
    assert refused.stderr == build(fresh, castcal, "--guard-url", url).stderr
    assert refused.exit_code == 1 and f"events/{MEETING}.toml: -: published" in refused.stderr
    assert castcal("check", "--config", config).exit_code == 0  # nothing published here
    assert not (fresh / "feeds" / "podcast.xml").exists()
