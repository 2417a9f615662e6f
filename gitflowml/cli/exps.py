"""`gitflowml exp`: run, queue, show, diff, apply, branch, remove and share experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitflowml import api
from gitflowml.cli import render, render_exps, render_metrics
from gitflowml.cli.base import complete_exps, echo, env_option, project, verbosity_options
from gitflowml.errors import EXIT_ERROR

if TYPE_CHECKING:
    from gitflowml.exps.events import ExpEvent
    from gitflowml.repro.events import ReproEvent


@click.group()
def exp() -> None:
    """Run params changes as experiments, compare them, and keep the best."""


def _sinks(ctx: click.Context, told: set[str] | None = None) -> dict[str, Any]:
    """The event sinks of a run; `told` collects the experiments whose end was printed."""

    def on_event(e: ReproEvent) -> None:
        echo(ctx, render.event(e))

    def on_output(stage: str, line: str) -> None:
        click.echo(f"[{stage}] {line}")

    def on_exp(e: ExpEvent) -> None:
        click.echo(render_exps.exp_event(e))  # names go to stdout, even with -q
        if told is not None and e.kind in ("saved", "failed"):
            told.add(e.name)

    return {"on_event": on_event, "on_output": on_output, "on_exp": on_exp}


@exp.command("run")
@click.argument("targets", nargs=-1)
@env_option
@click.option(
    "-S",
    "--set-param",
    "set_params",
    multiple=True,
    metavar="[FILE:]KEY=VALUE",
    help="Change a param (+KEY=V adds, ~KEY removes; a,b or range()/choice() sweep).",
)
@click.option("-n", "--name", default=None, help="The experiment's name (default: generated).")
@click.option("-m", "--message", default=None, help="A message for the experiment's commit.")
@click.option("--queue", is_flag=True, help="Queue it; run the queue with --run-all.")
@click.option("--temp", is_flag=True, help="Run in a private worktree; the workspace stays.")
@click.option("--run", "run_now", is_flag=True, help="Run a sweep at once instead of queueing.")
@click.option("--run-all", is_flag=True, help="Run every queued experiment.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Queued experiments to run at once (each in its own worktree).",
)
@click.option("-f", "--force", is_flag=True, help="Replace an experiment of that name; rerun all.")
@click.option("-s", "--single-stage", is_flag=True, help="Only the named stages, not upstream.")
@click.option("--downstream", is_flag=True, help="The targets and every stage after them.")
@click.option("-k", "--keep-going", is_flag=True, help="Go on with independent stages.")
@click.option("--pull", is_flag=True, help="Fetch what the stages need first.")
@click.option("--no-run-cache", is_flag=True, help="Run stages even when a run is cached.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None)
@click.option("--scheduler", metavar="ADDR", default=None, help="Dask scheduler address.")
@verbosity_options
@click.pass_context
def run(
    ctx: click.Context,
    targets: tuple[str, ...],
    set_params: tuple[str, ...],
    name: str | None,
    message: str | None,
    queue: bool,
    temp: bool,
    run_now: bool,
    run_all: bool,
    jobs: int | None,
    force: bool,
    single_stage: bool,
    downstream: bool,
    keep_going: bool,
    pull: bool,
    no_run_cache: bool,
    executor: str | None,
    scheduler: str | None,
) -> None:
    """Run the pipeline with changed params and keep the result as an experiment."""
    told: set[str] = set()
    sinks = _sinks(ctx, told)
    if run_all:
        found = api.run_queue(jobs=jobs or 1, on_exp=sinks["on_exp"], project=project(ctx))
        echo(ctx, render_exps.run_all_summary(found))
        if any(o.state == "failed" for o in found):
            ctx.exit(EXIT_ERROR)
        return
    flags = api.ReproFlags(
        force,
        single_stage,
        downstream,
        keep_going,
        not no_run_cache,
        pull,
        executor,
        scheduler,
    )
    report = api.exp_run(
        targets,
        set_params=set_params,
        name=name,
        message=message,
        queue=queue,
        temp=temp,
        run=run_now,
        jobs=jobs,
        flags=flags,
        project=project(ctx),
        **sinks,
    )
    if report.repro is not None:
        echo(ctx, render.repro(report.repro))
    rest = [o for o in report.outcomes if o.name not in told]
    if rest:
        click.echo(render_exps.outcomes(rest))
    if report.failed:
        ctx.exit(EXIT_ERROR)


@exp.command("exec", hidden=True)
@click.argument("name")
@click.pass_context
def exec_cmd(ctx: click.Context, name: str) -> None:
    """Run one queued experiment (what the queue's processes run)."""
    sinks = _sinks(ctx)
    outcome = api.exec_entry(
        name, on_event=sinks["on_event"], on_output=sinks["on_output"], project=project(ctx)
    )
    click.echo(render_exps.outcomes([outcome]))
    if outcome.state == "failed":
        ctx.exit(EXIT_ERROR)


@exp.group("queue")
def queue_group() -> None:
    """The experiment queue: status, remove, logs."""


@queue_group.command("status")
@click.pass_context
def queue_status(ctx: click.Context) -> None:
    """Queued, running and failed experiments."""
    click.echo(render_exps.queue_table(api.queue_status(project=project(ctx))))


@queue_group.command("remove")
@click.argument("names", nargs=-1)
@click.option("--all", "all_entries", is_flag=True, help="Every entry that is not running.")
@click.pass_context
def queue_remove(ctx: click.Context, names: tuple[str, ...], all_entries: bool) -> None:
    """Remove queued or failed experiments from the queue."""
    removed = api.exp_remove(names, queued=all_entries, project=project(ctx))
    echo(ctx, "Removed " + ", ".join(removed) if removed else "Nothing to remove.")


@queue_group.command("logs")
@click.argument("name")
@click.pass_context
def queue_logs(ctx: click.Context, name: str) -> None:
    """What a queued experiment's run printed."""
    click.echo(api.queue_logs(name, project=project(ctx)), nl=False)


@exp.command("show")
@click.option("-a", "--all-branches", is_flag=True, help="Every branch, and every experiment.")
@click.option("--rev", "revs", multiple=True, help="Experiments of this baseline (repeatable).")
@click.option(
    "-n", "--num", type=click.IntRange(min=1), default=1, help="Commits of HEAD's history."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--md", is_flag=True, help="A Markdown table.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV.")
@click.option("--sort-by", default=None, metavar="COL", help="A param or metric ([FILE:]KEY).")
@click.option("--sort-order", type=click.Choice(["asc", "desc"]), default="asc")
@click.option("--only-changed", is_flag=True, help="Only columns whose values differ.")
@click.option("--keep", default=None, metavar="REGEX", help="Always show matching columns.")
@click.option("--drop", default=None, metavar="REGEX", help="Hide matching columns.")
@click.option("--param-deps", is_flag=True, help="Only params that a stage depends on.")
@click.option("--precision", type=click.IntRange(min=0), default=5, show_default=True)
@click.pass_context
def show(
    ctx: click.Context,
    all_branches: bool,
    revs: tuple[str, ...],
    num: int,
    as_json: bool,
    md: bool,
    as_csv: bool,
    sort_by: str | None,
    sort_order: str,
    only_changed: bool,
    keep: str | None,
    drop: str | None,
    param_deps: bool,
    precision: int,
) -> None:
    """The baseline and its experiments with their params and metrics."""
    options = api.ShowOptions(
        all_branches,
        revs,
        num,
        only_changed,
        keep,
        drop,
        sort_by,
        sort_order == "desc",
        param_deps,
    )
    rows = api.exp_show(options, project=project(ctx))
    if as_json:
        click.echo(render_exps.show_json(rows))
    elif as_csv:
        click.echo(render_exps.show_csv(rows, precision))
    else:
        click.echo(render_exps.show_table(rows, precision, md))


@exp.command("diff")
@click.argument("a", shell_complete=complete_exps)
@click.argument("b", required=False, shell_complete=complete_exps)
@click.option("--all", "all_rows", is_flag=True, help="Also what did not change.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--md", is_flag=True, help="A Markdown table.")
@click.option("--precision", type=click.IntRange(min=0), default=5, show_default=True)
@click.pass_context
def diff(
    ctx: click.Context,
    a: str,
    b: str | None,
    all_rows: bool,
    as_json: bool,
    md: bool,
    precision: int,
) -> None:
    """Params and metrics of experiment (or revision) A against B (default: A's baseline)."""
    rows = api.exp_diff(a, b, all_rows=all_rows, project=project(ctx))
    if as_json:
        click.echo(render_metrics.diff_json(rows))
        return
    old = b or "baseline"
    click.echo(render_metrics.diff_table(rows, old, a, precision, False, md, "params or metrics"))


@exp.command("apply")
@click.argument("name", shell_complete=complete_exps)
@click.option("-f", "--force", is_flag=True, help="Overwrite uncommitted changes (kept aside).")
@click.pass_context
def apply(ctx: click.Context, name: str, force: bool) -> None:
    """Put an experiment's params, lock, pointers, metrics and outs in the workspace."""
    report = api.exp_apply(name, force=force, project=project(ctx))
    echo(ctx, f"Applied experiment {name} ({report.commit[:8]}): {len(report.paths)} files")
    if report.stash:
        echo(
            ctx,
            f"Your uncommitted changes are kept in {report.stash[:8]}; to undo: "
            f"git checkout refs/gitflowml/exps/apply/stash -- . && gitflowml checkout",
        )


@exp.command("branch")
@click.argument("name", shell_complete=complete_exps)
@click.argument("branch")
@click.pass_context
def branch(ctx: click.Context, name: str, branch: str) -> None:
    """Make a git branch at an experiment's commit."""
    commit = api.exp_branch(name, branch, project=project(ctx))
    echo(ctx, f"Branch {branch} is at experiment {name} ({commit[:8]})")


@exp.command("remove")
@click.argument("names", nargs=-1, shell_complete=complete_exps)
@click.option("--all", "all_exps", is_flag=True, help="Every experiment.")
@click.option("--rev", default=None, help="The experiments of this baseline.")
@click.option("--queue", "queued", is_flag=True, help="Every queued or failed entry.")
@click.pass_context
def remove(
    ctx: click.Context, names: tuple[str, ...], all_exps: bool, rev: str | None, queued: bool
) -> None:
    """Delete experiments (their objects go at the next gc)."""
    if not (names or all_exps or rev or queued):
        raise click.UsageError("name experiments, or pass --all, --rev REV or --queue")
    removed = api.exp_remove(names, all_exps=all_exps, rev=rev, queued=queued, project=project(ctx))
    echo(ctx, "Removed " + ", ".join(removed) if removed else "Nothing to remove.")


def _share_command(direction: str) -> Any:
    """`exp push` or `exp pull`: the same flags, the other way."""
    pushing = direction == "push"

    @click.argument("git_remote")
    @click.argument("names", nargs=-1)
    @click.option("--all", "all_exps", is_flag=True, help="Every experiment.")
    @click.option("--no-cache", is_flag=True, help="Only the refs and notes, no data.")
    @click.option("-r", "--remote", "remote_name", default=None, help="The data remote.")
    @click.option("-j", "--jobs", type=click.IntRange(min=1), default=None)
    @click.pass_context
    def command(
        ctx: click.Context,
        git_remote: str,
        names: tuple[str, ...],
        all_exps: bool,
        no_cache: bool,
        remote_name: str | None,
        jobs: int | None,
    ) -> None:
        share = api.exp_push if pushing else api.exp_pull
        report = share(
            git_remote,
            names,
            all_exps=all_exps,
            cache=not no_cache,
            remote=remote_name,
            jobs=jobs,
            project=project(ctx),
        )
        verb, way, moved = (
            ("Pushed", "to", "uploaded") if pushing else ("Pulled", "from", "downloaded")
        )
        objects = f"; {report.objects.moved} objects {moved}" if report.objects else ""
        echo(ctx, f"{verb} {len(report.names)} experiments {way} {git_remote}{objects}")

    command.__doc__ = (
        "Share experiments: refs and notes to GIT_REMOTE, objects to the data remote."
        if pushing
        else "Fetch experiments: refs and notes from GIT_REMOTE, objects from the data remote."
    )
    return command


exp.command("push")(_share_command("push"))
exp.command("pull")(_share_command("pull"))


@exp.command("list")
@click.argument("git_remote", required=False)
@click.pass_context
def list_cmd(ctx: click.Context, git_remote: str | None) -> None:
    """Experiment names, by baseline (of this repository, or of GIT_REMOTE)."""
    found = api.exp_list(git_remote, project=project(ctx))
    last = None
    for e in found:
        if e.baseline != last:
            click.echo(f"{e.baseline[:7]}:")
            last = e.baseline
        click.echo(f"\t{e.name}")
