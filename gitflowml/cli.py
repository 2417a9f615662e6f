"""The `gitflowml` command line: parse options, call `gitflowml.api`, render, set exit codes.

Nothing else happens here. Errors from the core arrive as `GitflowmlError` and are turned
into one `error:` line by `GitflowmlGroup.invoke`; `-v` adds the traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from gitflowml import __version__
from gitflowml.errors import EXIT_ERROR, EXIT_INTERRUPTED, GitflowmlError

if TYPE_CHECKING:  # keeps start-up light
    from gitflowml.project import Project


@dataclass(slots=True)
class Options:
    verbose: bool = False
    quiet: bool = False
    _project: Any = field(default=None)

    def project(self) -> Project:
        if self._project is None:
            from gitflowml.project import Project

            self._project = Project.find()
        return self._project  # type: ignore[no-any-return]


def _options(ctx: click.Context) -> Options:
    obj = ctx.find_root().obj
    if not isinstance(obj, Options):
        obj = Options()
        ctx.find_root().obj = obj
    return obj


def _project(ctx: click.Context) -> Project:
    return _options(ctx).project()


def _fail(ctx: click.Context, message: str, code: int) -> None:
    if _options(ctx).verbose:
        import traceback

        traceback.print_exc()
    click.echo(f"error: {message}", err=True)
    ctx.exit(code)


class GitflowmlGroup(click.Group):
    """Turns expected failures into one `error:` line and the exit code SPEC section 5 sets."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GitflowmlError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail(ctx, "interrupted; the cache and pointer files are left valid", EXIT_INTERRUPTED)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            reason = exc.strerror or str(exc)
            _fail(ctx, f"{reason}{where}", EXIT_ERROR)
        return None


def _echo(ctx: click.Context, text: str) -> None:
    if text and not _options(ctx).quiet:
        click.echo(text)


@click.group(cls=GitflowmlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="gitflowml", message="%(prog)s %(version)s"
)
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Run as if gitflowml was started in DIR.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks with errors.")
@click.pass_context
def cli(ctx: click.Context, directory: str | None, quiet: bool, verbose: bool) -> None:
    """Git-native artifact versioning and reproducible pipelines."""
    ctx.obj = Options(verbose=verbose, quiet=quiet)
    if directory is not None:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot change to {directory}: {exc.strerror}", param_hint="-C"
            ) from None


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Set up gitflowml in the current git repository."""
    from gitflowml import api, render

    _echo(ctx, render.init(api.init()))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.pass_context
def add(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Track files or directories: cache them and write PATH.gfml pointer files."""
    from gitflowml import api, render

    _echo(ctx, render.add(api.add(paths, project=_project(ctx))))


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--check", is_flag=True, help="Exit with 1 when anything is out of date.")
@click.pass_context
def status(ctx: click.Context, targets: tuple[str, ...], as_json: bool, check: bool) -> None:
    """Show stale stages (and why) and tracked data that changed."""
    from gitflowml import api, render

    report = api.status(targets, project=_project(ctx))
    if as_json:
        click.echo(render.status_json(report))
    else:
        _echo(ctx, render.status(report))
    if check and not report.clean:
        ctx.exit(EXIT_ERROR)


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Run the selected stages even if unchanged.")
@click.option("-s", "--single-stage", is_flag=True, help="Only the named stages, not upstream.")
@click.option("--downstream", is_flag=True, help="The targets and every stage after them.")
@click.option("--dry", is_flag=True, help="Say what would run; run nothing.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Stages to run at once (resources.cpus counts against it).",
)
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="After a failure, go on with stages that do not depend on it.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Give up after SECONDS if another repro holds the repository.",
)
@click.option(
    "--commit",
    "commit",
    is_flag=True,
    help="Then commit the results and attach the run records as a git note.",
)
@click.option("-m", "--message", default=None, help="Commit message for --commit.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default=None,
    help="Where stages run (default: core.executor, else local).",
)
@click.option(
    "--scheduler",
    metavar="ADDR",
    default=None,
    help="Dask scheduler address (default: core.scheduler, else a local cluster).",
)
@click.option(
    "--pull",
    is_flag=True,
    help="First fetch what the stages need and the outs of stages that will be skipped.",
)
@click.option(
    "--no-run-cache",
    is_flag=True,
    help="Run stages even when an earlier identical run's outputs are cached.",
)
@click.pass_context
def repro(
    ctx: click.Context,
    targets: tuple[str, ...],
    force: bool,
    single_stage: bool,
    downstream: bool,
    dry: bool,
    jobs: int,
    keep_going: bool,
    wait: float | None,
    no_run_cache: bool,
    pull: bool,
    commit: bool,
    message: str | None,
    executor: str | None,
    scheduler: str | None,
) -> None:
    """Run the stages whose code, data or params changed, in dependency order."""
    from gitflowml import api, render

    def event(message: str) -> None:
        _echo(ctx, message)

    def output(stage: str, line: str) -> None:
        click.echo(f"[{stage}] {line}")

    report = api.repro(
        targets,
        force=force,
        single_stage=single_stage,
        downstream=downstream,
        dry=dry,
        jobs=jobs,
        keep_going=keep_going,
        wait=wait,
        run_cache=not no_run_cache,
        pull=pull,
        commit=commit,
        message=message,
        executor=executor,
        scheduler=scheduler,
        on_event=event,
        on_output=output,
        project=_project(ctx),
    )
    _echo(ctx, render.repro(report))
    if report.commit:
        _echo(ctx, f"Committed {report.commit[:8]} with the run records as a note")


@cli.command()
@click.argument("target", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ascii", "mermaid", "dot", "json"]),
    default="ascii",
    show_default=True,
    help="How to draw the graph.",
)
@click.pass_context
def dag(ctx: click.Context, target: str | None, fmt: str) -> None:
    """Show the stage graph (or what TARGET needs)."""
    from gitflowml import api, render

    graph = api.dag(target, project=_project(ctx))
    click.echo(render.dag(graph.nodes, graph.edges, fmt))


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@click.option(
    "-f", "--force", is_flag=True, help="Overwrite workspace changes that are not in the cache."
)
@click.pass_context
def checkout(ctx: click.Context, targets: tuple[str, ...], force: bool) -> None:
    """Restore tracked data in the workspace from the cache."""
    from gitflowml import api, render

    _echo(ctx, render.checkout(api.checkout(targets, force=force, project=_project(ctx))))


# -- remotes -------------------------------------------------------------------------------------
@cli.group()
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
    from gitflowml import api

    api.remote_add(name, url, default=default, local=local, project=_project(ctx))
    _echo(ctx, f"Added remote '{name}': {url}" + (" (default)" if default else ""))


@remote.command("list")
@click.pass_context
def remote_list(ctx: click.Context) -> None:
    """List the remotes."""
    from gitflowml import api

    remotes, default = api.remote_list(project=_project(ctx))
    for r in remotes:
        click.echo(f"{r.name}\t{r.url}" + ("\t(default)" if r.name == default else ""))


@remote.command("remove")
@click.argument("name")
@click.pass_context
def remote_remove(ctx: click.Context, name: str) -> None:
    """Remove remote NAME (from both config files)."""
    from gitflowml import api

    api.remote_remove(name, project=_project(ctx))
    _echo(ctx, f"Removed remote '{name}'")


@remote.command("modify")
@click.argument("name")
@click.argument("key")
@click.argument("value")
@click.option("--local", is_flag=True, help="Write to config.local.yaml (needed for secrets).")
@click.pass_context
def remote_modify(ctx: click.Context, name: str, key: str, value: str, local: bool) -> None:
    """Set option KEY of remote NAME (endpoint_url, region, profile, key, secret, …)."""
    from gitflowml import api

    api.remote_modify(name, key, value, local=local, project=_project(ctx))


def _transfer_options(f: Any) -> Any:
    for option in reversed(
        [
            click.argument("targets", nargs=-1, type=click.Path()),
            click.option("-r", "--remote", "remote_name", metavar="NAME", help="Remote to use."),
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
    from gitflowml import api

    progress = _Progress()
    kwargs["notes"] = not kwargs.pop("no_notes", False)
    try:
        report = getattr(api, verb)(on_progress=progress, project=_project(ctx), **kwargs)
    finally:
        progress.end()
    return report


@cli.command()
@_transfer_options
@click.pass_context
def push(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """Upload the objects the remote lacks."""
    from gitflowml import render

    report = _run_transfer(ctx, "push", targets=targets, remote=remote_name, **kw)
    _echo(ctx, render.transfer(report, "uploaded", "already present"))


@cli.command()
@_transfer_options
@click.pass_context
def fetch(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """Download into the cache the objects it lacks, verified."""
    from gitflowml import render

    report = _run_transfer(ctx, "fetch", targets=targets, remote=remote_name, **kw)
    _echo(ctx, render.transfer(report, "downloaded", "already in cache"))


@cli.command()
@_transfer_options
@click.option("-f", "--force", is_flag=True, help="Overwrite workspace changes not in the cache.")
@click.pass_context
def pull(
    ctx: click.Context, /, targets: tuple[str, ...], remote_name: str | None, **kw: Any
) -> None:
    """fetch, then checkout."""
    from gitflowml import render

    report = _run_transfer(ctx, "pull", targets=targets, remote=remote_name, **kw)
    _echo(ctx, render.transfer(report, "downloaded", "already in cache"))
    for path in report.checked_out:
        _echo(ctx, f"M\t{path}")


@cli.command()
@click.option("-w", "--workspace", is_flag=True, help="Keep what the workspace uses.")
@click.option("-a", "--all-branches", is_flag=True, help="Keep what every branch tip uses.")
@click.option("--all-commits", is_flag=True, help="Keep what any commit uses.")
@click.option("--cloud", is_flag=True, help="Delete from the remote too.")
@click.option("-r", "--remote", "remote_name", metavar="NAME", help="Remote for --cloud.")
@click.option("--dry", is_flag=True, help="Only say what would be deleted.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
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
) -> None:
    """Delete cached objects that the chosen scope does not use."""
    from gitflowml import api
    from gitflowml.errors import ConfigError

    if not (workspace or all_branches or all_commits):
        raise ConfigError(
            "say what to keep: -w (the workspace), -a (every branch) or --all-commits"
        )
    kwargs: dict[str, Any] = {
        "all_branches": all_branches,
        "all_commits": all_commits,
        "cloud": cloud,
        "remote": remote_name,
        "project": _project(ctx),
    }
    plan = api.gc(dry=True, **kwargs)
    where = " and the remote" if cloud else ""
    summary = (
        f"{plan.removed} objects ({plan.freed_bytes / 2**20:.1f} MiB) in the cache"
        + (f", {plan.cloud_removed} on the remote" if cloud else "")
        + f" are not used; {plan.kept} are kept"
    )
    if dry:
        _echo(ctx, f"Would delete: {summary}")
        return
    if not (plan.removed or plan.runs_removed or plan.cloud_removed):
        _echo(ctx, f"Nothing to delete; {plan.kept} objects are kept")
        return
    if not force:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"gc would delete {summary.split(' are ')[0]}; run it again with -f to confirm "
                "(it does not ask when not at a terminal)"
            )
        click.confirm(f"Delete {summary.split(' are ')[0]}{where}?", abort=True)
    done = api.gc(dry=False, **kwargs)
    _echo(
        ctx,
        f"Deleted {done.removed} objects ({done.freed_bytes / 2**20:.1f} MiB)"
        + (f", {done.cloud_removed} on the remote" if cloud else "")
        + f"; {done.kept} kept",
    )


# -- lineage -------------------------------------------------------------------------------------
@cli.command()
@click.argument("rev", default="HEAD")
@click.pass_context
def record(ctx: click.Context, rev: str) -> None:
    """Attach pending run records that match REV's pipeline.lock to REV as a git note."""
    from gitflowml import api

    result = api.record(rev, project=_project(ctx))
    _echo(
        ctx,
        f"Attached {len(result.attached)} run record(s) to {result.commit[:8]}; "
        f"{result.still_pending} still pending",
    )


@cli.command("lineage")
@click.argument("path", type=click.Path())
@click.option("--rev", default="HEAD", show_default=True, help="As of this revision.")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as JSON.")
@click.pass_context
def lineage_cmd(ctx: click.Context, path: str, rev: str, as_json: bool) -> None:
    """Which run produced PATH, from which inputs, who and when; recursively."""
    from gitflowml import api, render

    node = api.lineage(path, rev, project=_project(ctx))
    click.echo(render.lineage_json(node) if as_json else render.lineage(node))


@cli.command("log")
@click.argument("target", required=False)
@click.option("-n", "limit", type=click.IntRange(min=1), default=None, help="At most N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def log_cmd(ctx: click.Context, target: str | None, limit: int | None, as_json: bool) -> None:
    """Run history from the git notes, newest first (a stage, or a path's producers)."""
    from gitflowml import api, render

    entries = api.log(target, limit=limit, project=_project(ctx))
    click.echo(render.log_json(entries) if as_json else render.log(entries))


@cli.command()
@click.pass_context
def install(ctx: click.Context) -> None:
    """Install git hooks (pre-commit, post-checkout, post-commit, pre-push) and the notes
    fetch refspec for origin."""
    from gitflowml import api

    report = api.install(project=_project(ctx))
    for name in report.installed:
        chained = " (the hook that was there runs first)" if name in report.chained else ""
        _echo(ctx, f"installed {name}{chained}")
    for name in report.unchanged:
        _echo(ctx, f"{name}: already installed")
    if report.refspec_added:
        _echo(ctx, "origin: fetches refs/notes/gitflowml now")
    if report.merge_driver:
        _echo(ctx, "pipeline.lock: merged per stage by gitflowml (see .gitattributes)")


# -- metrics, params, data diff ------------------------------------------------------------------
def _format_options(f: Any) -> Any:
    f = click.option("--md", is_flag=True, help="A Markdown table (for a pull request).")(f)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


@cli.group()
def metrics() -> None:
    """Show and compare metrics at any revision, without checking out."""


@metrics.command("show")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-a", "--all-branches", is_flag=True, help="Also every branch.")
@click.option("--rev", "revs", multiple=True, help="A revision (repeat for several).")
@click.option("--precision", type=click.IntRange(min=0), default=5, show_default=True)
@_format_options
@click.pass_context
def metrics_show(
    ctx: click.Context,
    paths: tuple[str, ...],
    all_branches: bool,
    revs: tuple[str, ...],
    precision: int,
    md: bool,
    as_json: bool,
) -> None:
    """Metrics of the workspace (or of --rev REV…, or every branch with -a)."""
    import json

    from gitflowml import api, render

    values = api.metrics_show(
        paths, revs or (None,), all_branches=all_branches, project=_project(ctx)
    )
    if as_json:
        click.echo(json.dumps(values, indent=2, sort_keys=True, default=str))
    else:
        click.echo(render.metrics_show(values, md, precision))


def _diff_command(kind: str) -> Any:
    @click.argument("a", required=False)
    @click.argument("b", required=False)
    @click.option("--all", "all_rows", is_flag=True, help="Also what did not change.")
    @click.option("--pct", is_flag=True, help="Show the change in percent.")
    @click.option("--precision", type=click.IntRange(min=0), default=5, show_default=True)
    @_format_options
    @click.pass_context
    def command(
        ctx: click.Context,
        a: str | None,
        b: str | None,
        all_rows: bool,
        pct: bool,
        precision: int,
        md: bool,
        as_json: bool,
    ) -> None:
        from gitflowml import api, render

        if kind == "metrics":
            rows = api.metrics_diff(a, b, all_rows=all_rows, project=_project(ctx))
        else:
            rows = api.params_diff(a, b, all_rows=all_rows, project=_project(ctx))
        if as_json:
            click.echo(render.diff_json(rows))
        else:
            click.echo(
                render.diff_table(rows, a or "HEAD", b or "workspace", precision, pct, md, kind)
            )

    command.__doc__ = (
        f"Compare {kind} between revisions A (default HEAD) and B (default the workspace)."
    )
    return command


metrics.command("diff")(_diff_command("metrics"))


@cli.group()
def params() -> None:
    """Compare params at any revision, without checking out."""


params.command("diff")(_diff_command("params"))


@cli.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def diff_cmd(ctx: click.Context, a: str | None, b: str | None, as_json: bool) -> None:
    """Data paths added, modified or deleted between A (default HEAD) and B (workspace)."""
    from gitflowml import api, render

    result = api.diff(a, b, project=_project(ctx))
    click.echo(render.data_diff_json(result) if as_json else render.data_diff(result))


@cli.command("check-large-files")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--max-kb", type=click.IntRange(min=1), default=500, show_default=True)
@click.pass_context
def check_large_files(ctx: click.Context, files: tuple[str, ...], max_kb: int) -> None:
    """Fail on staged files (or FILES) over --max-kb KiB that git would store."""
    from gitflowml import api, render
    from gitflowml.errors import PathError

    found = api.check_large_files(files, max_kb, project=_project(ctx))
    if found:
        shown = ", ".join(f"{p} ({render.human_size(s)})" for p, s in found)
        raise PathError(
            f"{len(found)} file(s) over {max_kb} KiB would go into git: {shown}; track them "
            "with 'gitflowml add PATH' (and 'git rm --cached PATH'), or allow them in "
            ".gitflowml/config.yaml under core.allow_large_files"
        )


@cli.command("check-pushed")
@click.option("-r", "--remote", "remote_name", metavar="NAME", help="Remote to check.")
@click.pass_context
def check_pushed(ctx: click.Context, remote_name: str | None) -> None:
    """Fail when data the workspace uses is not on the remote (the pre-push hook)."""
    from gitflowml import api
    from gitflowml.errors import RemoteError

    missing = api.unpushed(remote_name, project=_project(ctx))
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise RemoteError(
            f"{len(missing)} tracked path(s) are not on the remote: {shown}; run "
            "'gitflowml push' first"
        )


@cli.command("import-dvc")
@click.pass_context
def import_dvc(ctx: click.Context) -> None:
    """Convert dvc.yaml, *.dvc files and .dvc/config remotes into gitflowml's files."""
    from gitflowml import api

    report = api.import_dvc(project=_project(ctx))
    if report.pipeline:
        _echo(ctx, report.pipeline)
    for path in report.added:
        _echo(ctx, f"tracked {path} (hashed again) -> {path}.gfml")
    for path in report.unchanged:
        _echo(ctx, f"{path}: converted before")
    for name in report.remotes:
        _echo(ctx, f"remote '{name}' converted")
    for path in report.absent:
        _echo(ctx, f"{path}: not in the workspace, not converted (run 'dvc pull' first)")
    for what in report.skipped:
        _echo(ctx, f"skipped: {what}")
    _echo(ctx, "dvc.lock is not used: run 'gitflowml repro' to write pipeline.lock")


@cli.command("merge-driver", hidden=True)
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("ours", type=click.Path(dir_okay=False))
@click.argument("theirs", type=click.Path(dir_okay=False))
def merge_driver(base: str, ours: str, theirs: str) -> None:
    """git merge driver for pipeline.lock: `gitflowml merge-driver %O %A %B`."""
    from pathlib import Path

    from gitflowml.pipeline import lockfile

    dropped = lockfile.merge_files(Path(base), Path(ours), Path(theirs))
    for name in dropped:
        click.echo(
            f"gitflowml: stage '{name}' ran differently on both sides; it was left out of "
            "the merged pipeline.lock, so 'gitflowml repro' will run it again",
            err=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="gitflowml")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0  # pragma: no cover - click always raises SystemExit in standalone mode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
