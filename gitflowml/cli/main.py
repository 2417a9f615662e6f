"""The `gitflowml` command line: the group, its global flags, and the command modules it
loads on demand (a command imports its own module only: start-up stays light).

Commands parse options, call `gitflowml.api`, render and choose the exit code; nothing else
happens here. Errors from the core arrive as `GitflowmlError` and are turned into one
`error:` line by `GitflowmlGroup.invoke`; `-v` adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from gitflowml import __version__
from gitflowml.cli import examples
from gitflowml.cli.base import Options, fail, for_this_command
from gitflowml.errors import EXIT_ERROR, EXIT_INTERRUPTED, GitflowmlError

# command name -> (module under gitflowml.cli, attribute)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("data", "init"),
    "add": ("data", "add"),
    "status": ("data", "status"),
    "checkout": ("data", "checkout"),
    "repro": ("pipeline", "repro"),
    "dag": ("pipeline", "dag"),
    "remote": ("remote", "remote"),
    "push": ("remote", "push"),
    "fetch": ("remote", "fetch"),
    "pull": ("remote", "pull"),
    "gc": ("remote", "gc"),
    "record": ("lineage", "record"),
    "lineage": ("lineage", "lineage_cmd"),
    "log": ("lineage", "log_cmd"),
    "install": ("lineage", "install"),
    "metrics": ("metrics", "metrics"),
    "params": ("metrics", "params"),
    "diff": ("metrics", "diff_cmd"),
    "check-large-files": ("hooks", "check_large_files"),
    "check-pushed": ("hooks", "check_pushed"),
    "import-dvc": ("hooks", "import_dvc"),
    "merge-driver": ("hooks", "merge_driver"),
    "exp": ("exps", "exp"),
    "plots": ("plots", "plots"),
    "config": ("settings", "config"),
    "remove": ("manage", "remove"),
    "move": ("manage", "move"),
    "commit": ("manage", "commit"),
    "unprotect": ("manage", "unprotect"),
    "doctor": ("doctor", "doctor"),
    "version": ("doctor", "doctor"),
    "completion": ("complete", "completion"),
    "ls": ("registry", "ls_cmd"),
}


class GitflowmlGroup(click.Group):
    """Loads a command's module when the command is asked for (click's lazy-loading group),
    and turns expected failures into one `error:` line and the exit code SPEC section 5
    sets."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attr = found
        command = getattr(importlib.import_module(f"gitflowml.cli.{module}"), attr)
        assert isinstance(command, click.Command)
        examples.attach(cmd_name, command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GitflowmlError as exc:
            fail(ctx, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail(ctx, "interrupted; the cache and pointer files are left valid", EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader stopped reading (`| head`): stop quietly, as
            _quiet_stdout()  # cat and git do, and without a complaint when Python exits
            ctx.exit(EXIT_ERROR)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            reason = exc.strerror or str(exc)
            fail(ctx, f"{reason}{where}", EXIT_ERROR)
        return None


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
@click.option(
    "-c",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Use this setting for this command only, over every level (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks with errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    directory: str | None,
    overrides: tuple[str, ...],
    quiet: bool,
    verbose: bool,
) -> None:
    """Git-native artifact versioning and reproducible pipelines."""
    ctx.obj = Options(verbose=verbose, quiet=quiet)
    if overrides:
        _override(ctx, overrides)
    if directory is not None:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot change to {directory}: {exc.strerror}", param_hint="-C"
            ) from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing what is left of it cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _override(ctx: click.Context, given: tuple[str, ...]) -> None:
    """`-c KEY=VALUE`: checked here, then seen by every level's reader (and the processes
    this command starts) through the environment, as git's `-c` is, for this command."""
    from gitflowml.config import keys, levels

    for_this_command(ctx, levels.OVERRIDES_ENV)
    pairs = []
    for item in given:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="-c")
        try:
            keys.value_of(keys.parse(key.strip()), value)
        except GitflowmlError as exc:
            raise click.BadParameter(str(exc), param_hint="-c") from None
        pairs.append((key.strip(), value))
    levels.add_overrides(pairs, os.environ)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="gitflowml")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0  # pragma: no cover - click always raises SystemExit in standalone mode
