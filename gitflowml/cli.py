"""The `gitflowml` command line: parse options, call `gitflowml.api`, render, set exit codes.

Nothing else happens here. Errors from the core arrive as `GitflowmlError` and are turned
into one `error:` line by `GitflowmlGroup.invoke`; `-v` adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
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
        on_event=event,
        on_output=output,
        project=_project(ctx),
    )
    _echo(ctx, render.repro(report))


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
