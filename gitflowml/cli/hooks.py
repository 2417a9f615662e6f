"""Commands behind hooks and migrations: check-large-files, check-pushed, import-dvc,
merge-driver."""

from __future__ import annotations

from pathlib import Path

import click

from gitflowml import api
from gitflowml.cli import render
from gitflowml.cli.base import echo, project
from gitflowml.errors import PathError, RemoteError
from gitflowml.pipeline import lockfile
from gitflowml.storage import pointer


@click.command("check-large-files")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--max-kb", type=click.IntRange(min=1), default=500, show_default=True)
@click.pass_context
def check_large_files(ctx: click.Context, files: tuple[str, ...], max_kb: int) -> None:
    """Fail on staged files (or FILES) over --max-kb KiB that git would store."""
    found = api.check_large_files(files, max_kb, project=project(ctx))
    if found:
        shown = ", ".join(f"{p} ({render.human_size(s)})" for p, s in found)
        raise PathError(
            f"{len(found)} file(s) over {max_kb} KiB would go into git: {shown}; track them "
            "with 'gitflowml add PATH' (and 'git rm --cached PATH'), or allow them in "
            ".gitflowml/config.yaml under core.allow_large_files"
        )


@click.command("check-pushed")
@click.option("-r", "--remote", "remote_name", metavar="NAME", help="Remote to check.")
@click.pass_context
def check_pushed(ctx: click.Context, remote_name: str | None) -> None:
    """Fail when data the workspace uses is not on the remote (the pre-push hook)."""
    missing = api.unpushed(remote_name, project=project(ctx))
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise RemoteError(
            f"{len(missing)} tracked path(s) are not on the remote: {shown}; run "
            "'gitflowml push' first"
        )


@click.command("import-dvc")
@click.pass_context
def import_dvc(ctx: click.Context) -> None:
    """Convert dvc.yaml, *.dvc files and .dvc/config remotes into gitflowml's files."""
    report = api.import_dvc(project=project(ctx))
    if report.pipeline:
        echo(ctx, report.pipeline)
    for path in report.added:
        echo(ctx, f"tracked {path} (hashed again) -> {path}{pointer.SUFFIX}")
    for path in report.unchanged:
        echo(ctx, f"{path}: converted before")
    for name in report.remotes:
        echo(ctx, f"remote '{name}' converted")
    for path in report.absent:
        echo(ctx, f"{path}: not in the workspace, not converted (run 'dvc pull' first)")
    for what in report.skipped:
        echo(ctx, f"skipped: {what}")
    echo(ctx, "dvc.lock is not used: run 'gitflowml repro' to write pipeline.lock")


@click.command("merge-driver", hidden=True)
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("ours", type=click.Path(dir_okay=False))
@click.argument("theirs", type=click.Path(dir_okay=False))
def merge_driver(base: str, ours: str, theirs: str) -> None:
    """git merge driver for pipeline.lock: `gitflowml merge-driver %O %A %B`."""
    dropped = lockfile.merge_files(Path(base), Path(ours), Path(theirs))
    for name in dropped:
        click.echo(
            f"gitflowml: stage '{name}' ran differently on both sides; it was left out of "
            "the merged pipeline.lock, so 'gitflowml repro' will run it again",
            err=True,
        )
