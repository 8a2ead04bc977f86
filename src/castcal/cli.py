"""The command line: parse options, call one function, turn its errors into exit codes.

castcal's own errors (errors.py) are messages for the user, with the exit code each
carries; any other exception is a bug: its traceback is shown, with a line asking to
report it, and the exit code is 70 (EX_SOFTWARE), never one that blames the content or
the network.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from castcal import __version__
from castcal.errors import CastcalError, ContentError, Problem, counted

if TYPE_CHECKING:
    from castcal.build.gather import Network

P = ParamSpec("P")
R = TypeVar("R")
BUG = 70  # EX_SOFTWARE (sysexits.h)


def reported(command: Callable[P, R]) -> Callable[P, R]:
    """A command whose errors become messages and exit codes (see above)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CastcalError as error:
            _fail(error)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception:
            import traceback

            traceback.print_exc()
            click.echo(
                f"castcal {__version__} hit a bug (the traceback above): please report it, "
                "with the command you ran.",
                err=True,
            )
            sys.exit(BUG)

    return run


def _fail(error: CastcalError) -> NoReturn:
    if isinstance(error, ContentError):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", err=True
        )
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def _warn(warnings: tuple[Problem, ...]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@contextmanager
def _progress(count: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar for ``count`` things being done (``what``) on a terminal; plain
    silence otherwise."""
    if count < 1 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=count)
        yield lambda done: bar.advance(task, done)


def _network(offline: bool) -> Network:
    from castcal.build.gather import Network

    return Network(offline=offline, progress=_progress)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="The project's config.toml.",
)
out_option = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The output folder (default: [site] output in config.toml).",
)
wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds to wait for another castcal run on the same folder to finish.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
offline_option = click.option(
    "--offline",
    is_flag=True,
    help="Use only cached facts for remote audio; never touch the network.",
)
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as problems.")
removal_option = click.option(
    "--allow-removal",
    is_flag=True,
    help="Let the build drop published episodes or meetings (or change their identity).",
)

guard_url_option = click.option(
    "--guard-url",
    metavar="URL",
    help="Also guard against the manifest.json published at URL (for a fresh checkout).",
)


@click.group()
@click.version_option(__version__, prog_name="castcal")
def cli() -> None:
    """Podcast feeds and event calendars from plain files.

    Exit codes: 0 success, 1 content or guard problem, 2 usage error,
    3 another build holds the lock, 4 network failure no cache covers, 70 a bug.
    """


@cli.command()
@config_option
@offline_option
@strict_option
@out_option
@wait_option
@quiet_option
@removal_option
@guard_url_option
@click.option("--publish", "then_publish", is_flag=True, help="Publish after a successful build.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes at work at once (default: one per CPU; 1: the build alone). Helpers "
    "probe new audio files and make the published audio when there is much of it.",
)
@reported
def build(
    config_path: Path,
    offline: bool,
    strict: bool,
    out: Path | None,
    wait: float,
    quiet: bool,
    allow_removal: bool,
    guard_url: str | None,
    then_publish: bool,
    jobs: int | None,
) -> None:
    """Build the feeds from config.toml, episodes/ and events/."""
    from castcal.build import unchanged

    asked = unchanged.Asked(config_path, out, strict, allow_removal, offline)
    said = None if guard_url or then_publish else unchanged.attempt(asked)
    if said is not None:  # nothing to do, found without loading the content
        if not quiet:  # --quiet: the warnings came with the build that wrote the files
            _warn(said.warnings)
            click.echo(said.summary)
        return
    from castcal.build.pipeline import Request
    from castcal.build.pipeline import build as run_build

    request = Request(
        config_path, out, wait, strict, allow_removal, guard_url, jobs, _network(offline)
    )
    result = run_build(request)
    if result.written or not quiet:  # a scheduled job hears of a warning when it is news
        _warn(result.project.warnings)
    if not quiet:
        click.echo(result.summary())
    if then_publish:
        _publish(
            config_path, out, wait, quiet=quiet, dry_run=False, allow_removal=allow_removal,
            just_built=True,
        )  # fmt: skip


@cli.command()
@config_option
@out_option
@click.option(
    "--dry-run", is_flag=True, help="List what would be uploaded, and why; change nothing."
)
@click.option(
    "--allow-removal",
    is_flag=True,
    help="Publish even if items published before are gone, and delete their objects.",
)
@wait_option
@quiet_option
@reported
def publish(
    config_path: Path,
    out: Path | None,
    dry_run: bool,
    allow_removal: bool,
    wait: float,
    quiet: bool,
) -> None:
    """Upload what changed in feeds/ to the [publish] target, then notify the hubs.

    Credentials come from the environment or the AWS config chain (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE ...), never from config.toml.
    """
    _publish(config_path, out, wait, quiet=quiet, dry_run=dry_run, allow_removal=allow_removal)


def _publish(
    config_path: Path,
    out: Path | None,
    wait: float,
    *,
    quiet: bool,
    dry_run: bool,
    allow_removal: bool,
    just_built: bool = False,
) -> None:
    from castcal.publish.s3 import publish as run_publish

    result = run_publish(
        config_path,
        out,
        dry_run=dry_run,
        allow_removal=allow_removal,
        wait=wait,
        progress=_progress,
        just_built=just_built,
    )
    if dry_run:
        for upload in result.uploads:
            click.echo(f"{upload.reason:8} {upload.name} ({upload.size} bytes)")
        for name in result.stale:
            verb = "delete" if allow_removal else "keep"
            click.echo(f"{verb:8} {name} (no longer built)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet or dry_run:
        click.echo(result.summary())


@cli.command()
@config_option
@offline_option
@strict_option
@out_option
@removal_option
@guard_url_option
@reported
def check(
    config_path: Path,
    offline: bool,
    strict: bool,
    out: Path | None,
    allow_removal: bool,
    guard_url: str | None,
) -> None:
    """Check every content file and report every problem, as build would (the guards
    against what was published included); write nothing."""
    from castcal.build.pipeline import Request, foresee

    request = Request(config_path, out, strict=strict, allow_removal=allow_removal)
    request = replace(request, guard_url=guard_url, network=_network(offline))
    schedule, coming = foresee(request)
    project = schedule.published
    _warn(project.warnings)
    from castcal.build.audio import loudness_report  # each episode's loudness, then the sum

    for line in loudness_report(project):
        click.echo(line)
    click.echo(
        f"{config_path}: ok: {counted(len(project.episodes), 'episode')}, "
        f"{counted(len(project.events), 'meeting')}"
    )
    for line in coming:
        click.echo(line)


@cli.command()
@config_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The preview's folder (default: .castcal-cache/preview/; never [site] output).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--watch", is_flag=True, help="Rebuild whenever the content changes.")
@reported
def serve(config_path: Path, out: Path | None, host: str, port: int, watch: bool) -> None:
    """Build a preview (drafts and scheduled episodes included, marked on the page) into
    .castcal-cache/preview/ (or --out, never feeds/), and serve it as a web host would."""
    from castcal import serve as serving
    from castcal.build.pipeline import PREVIEW, Request

    request = Request(config_path, out, network=_network(False), preview=True)
    rebuild = functools.partial(serving.rebuild, request)
    seen = serving.content_signature(config_path.parent)  # before the build: miss no edit
    folder = rebuild() or out or config_path.parent / PREVIEW
    if not folder.is_dir():
        click.echo(f"error: {folder}: nothing to serve; fix the problems above", err=True)
        sys.exit(1)
    try:
        server = serving.make_server(folder, host, port)
    except OSError as exc:
        click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        sys.exit(2)
    click.echo(f"Serving {folder} at http://{host}:{server.server_address[1]}/ (Ctrl+C stops)")
    sys.stdout.flush()
    serving.run(server, config_path.parent, rebuild if watch else None, seen)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--url", help="Where feeds/ will be served: fills in base_url and the GUID.")
@reported
def init(folder: Path, url: str | None) -> None:
    """Write a new project in FOLDER: config.toml to fill in, episodes/ and events/."""
    from castcal import scaffold

    click.echo(scaffold.init(folder, url))


@cli.command()
@config_option
@click.argument("kind", type=click.Choice(["episode", "meeting"]))
@click.argument("names", nargs=-1, required=True)
@reported
def new(config_path: Path, kind: str, names: tuple[str, ...]) -> None:
    """Write a draft from the project's defaults: `new episode ID` (the next number, out
    the next weekday at 07:00) or `new meeting DATE SLUG` (the series' time and place)."""
    from castcal import scaffold

    click.echo(f"wrote {scaffold.new(config_path.parent, kind, names)}")


@cli.command()
@config_option
@out_option
@offline_option
@guard_url_option
@click.option("--json", "as_json", is_flag=True, help="As JSON with stable keys, for monitoring.")
@reported
def status(
    config_path: Path,
    out: Path | None,
    offline: bool,
    guard_url: str | None,
    as_json: bool,
) -> None:
    """Say what is published and what is coming, and whether the output folder is up to
    date with the sources: exit 0 when it is, 1 when a build is due."""
    from castcal import status as reporting
    from castcal.build.pipeline import Request

    request = Request(config_path, out, guard_url=guard_url, network=_network(offline))
    try:
        result = reporting.status(request)
    except ContentError as exc:  # monitoring tells it from "a build is due" by "problems"
        if as_json:
            problems = [
                {"path": p.path, "field": p.field, "message": p.message} for p in exc.problems
            ]
            click.echo(json.dumps({"problems": problems}, ensure_ascii=False, sort_keys=True))
        raise
    click.echo(result.as_json() if as_json else "\n".join(result.lines()))
    sys.exit(0 if result.up_to_date else 1)


def main() -> None:
    cli()
