"""Commands over tracked data: init, add, status, checkout."""

from __future__ import annotations

import click

from gitflowml import api
from gitflowml.cli import render
from gitflowml.cli.base import complete_stages, echo, env_option, project
from gitflowml.errors import EXIT_ERROR


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Set up gitflowml in the current git repository."""
    echo(ctx, render.init(api.init()))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-R", "--recursive", is_flag=True, help="Track each file under a directory.")
@click.option("--glob", is_flag=True, help="PATHS are patterns (*, ?, [..], ** for depth).")
@click.option("-o", "--out", type=click.Path(), help="Copy the one PATH here and track it.")
@click.option("--no-commit", is_flag=True, help="Write pointers only; cache with 'commit'.")
@click.pass_context
def add(
    ctx: click.Context,
    paths: tuple[str, ...],
    recursive: bool,
    glob: bool,
    out: str | None,
    no_commit: bool,
) -> None:
    """Track files or directories: cache them and write PATH.gfml pointer files.

    \b
    Examples:
      gitflowml add data/raw model.pkl
      gitflowml add -R images          # one pointer file per image
      gitflowml add --glob 'logs/*.csv'
      gitflowml add /mnt/share/corpus -o data/corpus
    """
    report = api.add(
        paths,
        recursive=recursive,
        glob=glob,
        out=out,
        commit=not no_commit,
        project=project(ctx),
    )
    echo(ctx, render.add(report))


@click.command()
@click.argument("targets", nargs=-1, type=click.Path(), shell_complete=complete_stages)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--check", is_flag=True, help="Exit with 1 when anything is out of date.")
@env_option
@click.pass_context
def status(ctx: click.Context, targets: tuple[str, ...], as_json: bool, check: bool) -> None:
    """Show stale stages (and why) and tracked data that changed."""
    report = api.status(targets, project=project(ctx))
    if as_json:
        click.echo(render.status_json(report))
    else:
        echo(ctx, render.status(report))
    if check and not report.clean:
        ctx.exit(EXIT_ERROR)


@click.command()
@click.argument("targets", nargs=-1, type=click.Path(), shell_complete=complete_stages)
@click.option(
    "-f", "--force", is_flag=True, help="Overwrite workspace changes that are not in the cache."
)
@click.pass_context
def checkout(ctx: click.Context, targets: tuple[str, ...], force: bool) -> None:
    """Restore tracked data in the workspace from the cache."""
    echo(ctx, render.checkout(api.checkout(targets, force=force, project=project(ctx))))
