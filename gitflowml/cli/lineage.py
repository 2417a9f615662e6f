"""Lineage: record, lineage, log, install (the git hooks)."""

from __future__ import annotations

import click

from gitflowml import api
from gitflowml.cli import render
from gitflowml.cli.base import echo, project


# -- lineage -------------------------------------------------------------------------------------
@click.command()
@click.argument("rev", default="HEAD")
@click.pass_context
def record(ctx: click.Context, rev: str) -> None:
    """Attach pending run records that match REV's pipeline.lock to REV as a git note."""
    result = api.record(rev, project=project(ctx))
    echo(
        ctx,
        f"Attached {len(result.attached)} run record(s) to {result.commit[:8]}; "
        f"{result.still_pending} still pending",
    )


@click.command("lineage")
@click.argument("path", type=click.Path())
@click.option("--rev", default="HEAD", show_default=True, help="As of this revision.")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as JSON.")
@click.pass_context
def lineage_cmd(ctx: click.Context, path: str, rev: str, as_json: bool) -> None:
    """Which run produced PATH, from which inputs, who and when; recursively."""
    node = api.lineage(path, rev, project=project(ctx))
    click.echo(render.lineage_json(node) if as_json else render.lineage(node))


@click.command("log")
@click.argument("target", required=False)
@click.option("-n", "limit", type=click.IntRange(min=1), default=None, help="At most N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def log_cmd(ctx: click.Context, target: str | None, limit: int | None, as_json: bool) -> None:
    """Run history from the git notes, newest first (a stage, or a path's producers)."""
    entries = api.log(target, limit=limit, project=project(ctx))
    click.echo(render.log_json(entries) if as_json else render.log(entries))


@click.command()
@click.pass_context
def install(ctx: click.Context) -> None:
    """Install git hooks (pre-commit, post-checkout, post-commit, pre-push) and the notes
    fetch refspec for origin."""
    report = api.install(project=project(ctx))
    for name in report.installed:
        chained = " (the hook that was there runs first)" if name in report.chained else ""
        echo(ctx, f"installed {name}{chained}")
    for name in report.unchanged:
        echo(ctx, f"{name}: already installed")
    if report.refspec_added:
        echo(ctx, "origin: fetches refs/notes/gitflowml now")
    if report.merge_driver:
        echo(ctx, "pipeline.lock: merged per stage by gitflowml (see .gitattributes)")
