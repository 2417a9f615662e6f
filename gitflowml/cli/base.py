"""What every command module shares: the global options, the project, output."""

from __future__ import annotations

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
