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
    """Convert a DVC project in place, without rerunning anything.

    \b
    dvc.yaml     -> pipeline.yaml (metrics and plots DVC caches get an explicit
                    cache: true); an existing pipeline.yaml is kept
    dvc.lock     -> pipeline.lock, for each stage whose command, deps, params and outs
                    match it (DVC's md5 of the workspace); the others stay stale, with
                    the reason, and 'gitflowml repro' runs them
    *.dvc        -> *.gfml pointers
    .dvc/config  -> gitflowml remotes, at DVC's URL + /gitflowml (credentials from
                    .dvc/config.local go to .gitflowml/config.local.yaml)

    Outputs and data missing from the workspace are restored from .dvc/cache or DVC's
    remote. dvc.yaml, dvc.lock, .dvc/ and DVC's remote are only read, so DVC keeps
    working until you remove them. Running it again converts only what is new.
    """
    report = api.import_dvc(project=project(ctx))
    for line in render.import_report(report):
        echo(ctx, line)


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
