"""Remotes and moving data: remote add/list/remove/modify, push, fetch, pull, gc."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from gitflowml import api
from gitflowml.cli import render
from gitflowml.cli.base import complete_remotes, echo, project
from gitflowml.errors import ConfigError

if TYPE_CHECKING:
    from gitflowml.gc import GcReport


# -- remotes -------------------------------------------------------------------------------------
@click.group()
def remote() -> None:
    """Configure remote caches (any fsspec URL: a path, s3://bucket/prefix, memory://…)."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@click.option("--local", is_flag=True, help="Write to config.local.yaml (not committed).")
@click.pass_context
def remote_add(ctx: click.Context, name: str, url: str, default: bool, local: bool) -> None:
    """Add remote NAME at URL."""
    api.remote_add(name, url, default=default, local=local, project=project(ctx))
    echo(ctx, f"Added remote '{name}': {url}" + (" (default)" if default else ""))


@remote.command("list")
@click.pass_context
def remote_list(ctx: click.Context) -> None:
    """List the remotes."""
    remotes, default = api.remote_list(project=project(ctx))
    for r in remotes:
        click.echo(f"{r.name}\t{r.url}" + ("\t(default)" if r.name == default else ""))


@remote.command("remove")
@click.argument("name", shell_complete=complete_remotes)
@click.pass_context
def remote_remove(ctx: click.Context, name: str) -> None:
    """Remove remote NAME (from both config files)."""
    api.remote_remove(name, project=project(ctx))
    echo(ctx, f"Removed remote '{name}'")


@remote.command("modify")
@click.argument("name", shell_complete=complete_remotes)
@click.argument("key")
@click.argument("value")
@click.option("--local", is_flag=True, help="Write to config.local.yaml (needed for secrets).")
@click.pass_context
def remote_modify(ctx: click.Context, name: str, key: str, value: str, local: bool) -> None:
    """Set option KEY of remote NAME (endpoint_url, region, profile, key, secret, …)."""
    api.remote_modify(name, key, value, local=local, project=project(ctx))


def _transfer_options(f: Any) -> Any:
    for option in reversed(
        [
            click.argument("targets", nargs=-1, type=click.Path()),
            click.option(
                "-r",
                "--remote",
                "remote_name",
                metavar="NAME",
                help="Remote to use.",
                shell_complete=complete_remotes,
            ),
            click.option(
                "-j", "--jobs", type=click.IntRange(min=1), default=None, help="Transfers at once."
            ),
            click.option(
                "-a", "--all-branches", is_flag=True, help="Also what every branch tip uses."
            ),
            click.option("--all-commits", is_flag=True, help="Also what every commit uses."),
            click.option(
                "--no-notes", is_flag=True, help="Leave refs/notes/gitflowml on origin alone."
            ),
        ]
    ):
        f = option(f)
    return f


class _Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = False
        self.tty = sys.stderr.isatty()

    def __call__(self, step: str, done: int, total: int, nbytes: int) -> None:
        if not self.tty:
            return
        size = f", {nbytes / 2**20:.1f} MiB" if nbytes else ""
        click.echo(f"\r{step}: {done}/{total} files{size}\033[K", err=True, nl=False)
        self.shown = True

    def end(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)


def _run_transfer(ctx: click.Context, verb: str, **kwargs: Any) -> Any:

    progress = _Progress()
    kwargs["notes"] = not kwargs.pop("no_notes", False)
    try:
        report = getattr(api, verb)(on_progress=progress, project=project(ctx), **kwargs)
    finally:
        progress.end()
    return report


@click.command()
@_transfer_options
@click.pass_context
def push(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """Upload the objects the remote lacks."""
    report = _run_transfer(ctx, "push", targets=targets, remote=remote_name, **kw)
    echo(ctx, render.transfer(report, "uploaded", "already present"))


@click.command()
@_transfer_options
@click.pass_context
def fetch(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """Download into the cache the objects it lacks, verified."""
    report = _run_transfer(ctx, "fetch", targets=targets, remote=remote_name, **kw)
    echo(ctx, render.transfer(report, "downloaded", "already in cache"))


@click.command()
@_transfer_options
@click.option("-f", "--force", is_flag=True, help="Overwrite workspace changes not in the cache.")
@click.pass_context
def pull(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """fetch, then checkout."""
    report = _run_transfer(ctx, "pull", targets=targets, remote=remote_name, **kw)
    echo(ctx, render.transfer(report, "downloaded", "already in cache"))
    for path in report.checked_out:
        echo(ctx, f"restored {path}")


@click.command()
@click.option("-w", "--workspace", is_flag=True, help="Keep what the workspace uses.")
@click.option("-a", "--all-branches", is_flag=True, help="Keep what every branch tip uses.")
@click.option("--all-commits", is_flag=True, help="Keep what any commit uses.")
@click.option("--cloud", is_flag=True, help="Delete from the remote too.")
@click.option(
    "-r",
    "--remote",
    "remote_name",
    metavar="NAME",
    help="Remote for --cloud.",
    shell_complete=complete_remotes,
)
@click.option("--dry", is_flag=True, help="Only say what would be deleted.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-exps", is_flag=True, help="Do not keep what experiments use.")
@click.option("--repack", is_flag=True, help="With --cloud: move small loose objects into packs.")
@click.pass_context
def gc(
    ctx: click.Context,
    workspace: bool,
    all_branches: bool,
    all_commits: bool,
    cloud: bool,
    remote_name: str | None,
    dry: bool,
    force: bool,
    no_exps: bool,
    repack: bool,
) -> None:
    """Delete cached objects that the chosen scope does not use."""
    if not (workspace or all_branches or all_commits):
        raise ConfigError(
            "say what to keep: -w (the workspace), -a (every branch) or --all-commits"
        )
    if repack and not cloud:
        raise ConfigError("--repack packs a remote's objects: use it with --cloud")
    kwargs: dict[str, Any] = {
        "all_branches": all_branches,
        "all_commits": all_commits,
        "cloud": cloud,
        "remote": remote_name,
        "exps": not no_exps,
        "repack": repack,
        "project": project(ctx),
    }
    plan = api.gc(dry=True, **kwargs)
    where = " and the remote" if cloud else ""
    summary = (
        f"{plan.removed} objects ({plan.freed_bytes / 2**20:.1f} MiB) in the cache"
        + (f", {plan.cloud_removed} on the remote" if cloud else "")
        + f" are not used; {plan.kept} are kept"
    )
    if dry:
        echo(ctx, f"Would delete: {summary}")
        return
    if not (plan.removed or plan.runs_removed or plan.cloud_removed or plan.cloud_repacked):
        tidied = api.gc(dry=False, **kwargs)  # no object to delete: orphaned temporaries
        echo(ctx, f"Nothing to delete; {plan.kept} objects are kept{_temporaries(tidied)}")
        return
    if not force:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"gc would delete {summary.split(' are ')[0]}; run it again with -f to confirm "
                "(it does not ask when not at a terminal)"
            )
        click.confirm(f"Delete {summary.split(' are ')[0]}{where}?", abort=True)
    done = api.gc(dry=False, **kwargs)
    echo(
        ctx,
        f"Deleted {done.removed} objects ({done.freed_bytes / 2**20:.1f} MiB)"
        + (f", {done.cloud_removed} on the remote" if cloud else "")
        + f"; {done.kept} kept{_temporaries(done)}{_packs(done)}",
    )


def _packs(report: GcReport) -> str:
    parts = []
    if report.cloud_rewritten:
        parts.append(f"rewrote {report.cloud_rewritten} pack(s) on the remote")
    if report.cloud_repacked:
        parts.append(f"packed {report.cloud_repacked} loose object(s) on the remote")
    return "".join(f"; {p}" for p in parts)


def _temporaries(report: GcReport) -> str:
    n = report.temporaries
    return f"; removed {n} temporary file(s) left by interrupted commands" if n else ""
