"""What every command module shares: the global options, the project, output."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import click

from gitflowml.project import Project


@dataclass(slots=True)
class Options:
    verbose: bool = False
    quiet: bool = False
    _project: Project | None = field(default=None)

    def project(self) -> Project:
        if self._project is None:
            self._project = Project.find()
        return self._project


def options(ctx: click.Context) -> Options:
    obj = ctx.find_root().obj
    if not isinstance(obj, Options):
        obj = Options()
        ctx.find_root().obj = obj
    return obj


def project(ctx: click.Context) -> Project:
    return options(ctx).project()


def fail(ctx: click.Context, message: str, code: int) -> None:
    if options(ctx).verbose:
        import traceback

        traceback.print_exc()
    click.echo(f"error: {message}", err=True)
    ctx.exit(code)


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and param.name is not None:
        setattr(options(ctx), param.name, True)


def verbosity_options(f: Any) -> Any:
    """`-q` and `-v` after the command too (`repro -q`), as DVC takes them: the same as
    the global flags."""
    for flag, name, text in (
        ("-q", "quiet", "Print only errors."),
        ("-v", "verbose", "Show tracebacks with errors."),
    ):
        f = click.option(
            flag,
            f"--{name}",
            name,
            is_flag=True,
            expose_value=False,
            callback=_set_flag,
            help=text,
        )(f)
    return f


def echo(ctx: click.Context, text: str) -> None:
    if text and not options(ctx).quiet:
        click.echo(text)


# -- shell completion of names (click imports its completion machinery only when asked) -----
def _names(kind: str, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from gitflowml import api

    try:
        found = api.names(kind)
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(n) for n in found if n.startswith(incomplete)]


def complete_stages(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Stage (and foreach/matrix group) names, then the shell's own file names."""
    from click.shell_completion import CompletionItem

    return [*_names("stages", incomplete), CompletionItem(incomplete, type="file")]


def complete_remotes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _names("remotes", incomplete)


def complete_exps(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _names("exps", incomplete)


# -- environments (`--env NAME`) -------------------------------------------------------------
def _set_env(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Make NAME the environment of this command (as GITFLOWML_ENV would), until it ends."""
    if value is None:
        return
    from gitflowml.config import ENV_VARIABLE, check_env_name
    from gitflowml.errors import ConfigError

    try:
        check_env_name(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    for_this_command(ctx, ENV_VARIABLE)
    os.environ[ENV_VARIABLE] = value


def for_this_command(ctx: click.Context, name: str) -> None:
    """Give environment variable `name` back its value (or its absence) when the command
    ends: what a flag sets there is seen by the command and the processes it starts, and
    by nothing after it (callers may run several commands in one process)."""
    before = os.environ.get(name)

    def undo() -> None:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before

    ctx.call_on_close(undo)


env_option = click.option(
    "--env",
    metavar="NAME",
    expose_value=False,
    callback=_set_env,
    help="Overlay each params file P.yaml with P.NAME.yaml (or set GITFLOWML_ENV).",
)
