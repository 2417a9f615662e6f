"""Everyday changes to what is tracked: remove, move, commit, unprotect."""

from __future__ import annotations

import click

from gitflowml import api
from gitflowml.cli.base import complete_stages, echo, project


@click.command()
@click.argument("targets", nargs=-1, required=True, shell_complete=complete_stages)
@click.option("--outs", is_flag=True, help="Delete the data (or the stage's outs) too.")
@click.pass_context
def remove(ctx: click.Context, targets: tuple[str, ...], outs: bool) -> None:
    """Stop tracking TARGETs: tracked paths, their pointer files, or stage names.

    The pointer file (or the stage in pipeline.yaml and its lock entry) and the .gitignore
    entry go; the data stays in the workspace unless --outs, and in the cache until gc.

    \b
    Examples:
      gitflowml remove data/raw.gfml
      gitflowml remove train --outs
    """
    report = api.remove(targets, outs, project=project(ctx))
    for path in report.data:
        echo(ctx, f"Removed {path}" + (" and its data" if outs else " from tracking"))
    for name in report.stages:
        echo(ctx, f"Removed stage '{name}'" + (" and its outs" if outs else ""))


@click.command()
@click.argument("src", type=click.Path())
@click.argument("dst", type=click.Path())
@click.pass_context
def move(ctx: click.Context, src: str, dst: str) -> None:
    """Move tracked data SRC to DST (or into the directory DST), with its pointer file and
    .gitignore entry.

    \b
    Example:
      gitflowml move data/raw data/2024/raw
    """
    report = api.move(src, dst, project=project(ctx))
    lines = [f"Moved {report.old} to {report.new}"]
    for name in report.stages:
        lines.append(f"Stage '{name}' now depends on {report.new} (pipeline.yaml changed)")
    for name in report.in_cmd:
        lines.append(f"Stage '{name}' still names {report.old} in its cmd: edit it")
    lines.append("\nTo track the change with git, run:\n\n\tgit add -A")
    echo(ctx, "\n".join(lines))


@click.command()
@click.argument("targets", nargs=-1, shell_complete=complete_stages)
@click.option("-f", "--force", is_flag=True, help="Also stages whose inputs changed.")
@click.pass_context
def commit(ctx: click.Context, targets: tuple[str, ...], force: bool) -> None:
    """Record the workspace as it is: stages whose outs you edited are locked with them,
    and changed tracked data is cached and its pointer file updated.

    TARGETs are stage names and tracked paths (default: everything that differs).

    \b
    Examples:
      gitflowml commit
      gitflowml commit train -f
    """
    report = api.commit(targets, force, project=project(ctx))
    for name in report.stages:
        echo(ctx, f"Committed stage '{name}'")
    for path in report.data:
        echo(ctx, f"Committed {path}")
    if not report.stages and not report.data:
        echo(ctx, "Nothing to commit; everything is as recorded")


@click.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path())
@click.pass_context
def unprotect(ctx: click.Context, targets: tuple[str, ...]) -> None:
    """Replace linked data (cache.type hardlink or symlink) with a private copy, so it can
    be edited without touching the cache.

    \b
    Example:
      gitflowml unprotect data/labels.csv
    """
    copied = api.unprotect(targets, project=project(ctx))
    echo(ctx, f"Unprotected {len(copied)} file(s)" if copied else "Nothing linked to unprotect")
