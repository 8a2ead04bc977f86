"""The command line: parse options, call one function, turn errors into exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from castcal import __version__
from castcal.errors import CastcalError, ContentError

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="The project's config.toml.",
)


def _fail(error: CastcalError) -> None:
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


@click.group()
@click.version_option(__version__, prog_name="castcal")
def cli() -> None:
    """Podcast feeds and event calendars from plain files.

    Exit codes: 0 success, 1 content or guard problem, 2 usage error,
    3 another build holds the lock, 4 network failure no cache covers.
    """


@cli.command()
@config_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: [site] output in config.toml).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds to wait for another build of the same folder to finish.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
def build(config_path: Path, out: Path | None, wait: float, quiet: bool) -> None:
    """Build the feeds from config.toml, episodes/ and events/."""
    from castcal.build import build as run_build

    try:
        result = run_build(config_path, out, wait)
    except CastcalError as error:
        _fail(error)
        return
    if not quiet:
        click.echo(result.summary())


@cli.command()
@config_option
def check(config_path: Path) -> None:
    """Check every content file and report every problem; write nothing."""
    from castcal.content import load

    try:
        project = load(config_path)
    except CastcalError as error:
        _fail(error)
        return
    click.echo(f"{config_path}: ok: {len(project.episodes)} episodes")


def main() -> None:
    cli()
