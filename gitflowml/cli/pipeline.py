"""Pipeline commands: repro and dag."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gitflowml import api
from gitflowml.cli import render
from gitflowml.cli.base import complete_stages, echo, env_option, project, verbosity_options
from gitflowml.repro.events import RunEvent

if TYPE_CHECKING:
    from gitflowml.repro.events import ReproEvent


@click.command()
@click.argument("targets", nargs=-1, shell_complete=complete_stages)
@env_option
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
@verbosity_options
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

    def event(e: ReproEvent) -> None:
        if isinstance(e, RunEvent) and e.kind == "ignored":
            click.echo(render.event(e), err=True)  # a warning: even with -q
        else:
            echo(ctx, render.event(e))

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
        project=project(ctx),
    )
    echo(ctx, render.repro(report))
    if report.commit:
        echo(ctx, f"Committed {report.commit[:8]} with the run records as a note")


@click.command()
@click.argument("target", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ascii", "mermaid", "dot", "json"]),
    default="ascii",
    show_default=True,
    help="How to draw the graph.",
)
@click.option("--md", is_flag=True, help="Mermaid in a Markdown code block (for a pull request).")
@click.option("--outs", is_flag=True, help="The graph of outputs instead of stages.")
@click.pass_context
def dag(ctx: click.Context, target: str | None, fmt: str, md: bool, outs: bool) -> None:
    """Show the stage graph (or what TARGET needs)."""
    graph = api.dag(target, outs=outs, project=project(ctx))
    if md:
        click.echo(f"```mermaid\n{render.dag(graph.nodes, graph.edges, 'mermaid')}\n```")
        return
    click.echo(render.dag(graph.nodes, graph.edges, fmt))
