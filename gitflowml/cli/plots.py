"""`gitflowml plots`: show, diff and templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gitflowml import api
from gitflowml.cli.base import echo, project
from gitflowml.errors import EXIT_ERROR


@click.group()
def plots() -> None:
    """Render plots of the workspace, or compare them across revisions and experiments."""


def _options(f: Any) -> Any:
    f = click.option("--md", is_flag=True, help="Print Markdown that shows the files.")(f)
    f = click.option(
        "--html-template",
        type=click.Path(dir_okay=False, exists=True),
        default=None,
        help="An HTML file with {plot_divs} where the plots go.",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["html", "svg", "png"]),
        default="html",
        show_default=True,
        help="One HTML page, or a file a plot.",
    )(f)
    f = click.option("--json", "as_json", is_flag=True, help="DVC's JSON: filled specs.")(f)
    f = click.option("--open", "open_it", is_flag=True, help="Open the page in a browser.")(f)
    return click.option(
        "-o", "--out", default=None, metavar="DIR", help="Where to write (default gitflowml_plots)."
    )(f)


def _finish(
    ctx: click.Context, report: api.PlotsReport, as_json: bool, md: bool, open_it: bool
) -> None:
    if as_json:
        click.echo(json.dumps(report.doc, indent=2, default=str))
    else:
        base = Path.cwd()
        if md:
            from gitflowml.plots.output import markdown

            click.echo(markdown(report.written, base))
        else:
            for path in report.written:
                shown = path.relative_to(base) if path.is_relative_to(base) else path
                echo(ctx, f"Wrote {shown}")
        if open_it and report.written:
            click.launch(str(report.written[0]))
    for line in report.errors:
        click.echo(f"error: {line}", err=True)
    if report.errors:
        ctx.exit(EXIT_ERROR)


@plots.command("show")
@click.argument("targets", nargs=-1)
@_options
@click.pass_context
def show(
    ctx: click.Context,
    targets: tuple[str, ...],
    out: str | None,
    open_it: bool,
    as_json: bool,
    fmt: str,
    html_template: str | None,
    md: bool,
) -> None:
    """Render every plot of the workspace (or those TARGETS name)."""
    report = api.plots_show(
        targets, out=out, fmt=fmt, as_json=as_json, html_template=html_template,
        project=project(ctx),
    )  # fmt: skip
    _finish(ctx, report, as_json, md, open_it)


@plots.command("diff")
@click.argument("revs", nargs=-1)
@click.option("--exp", "exps", multiple=True, metavar="NAME", help="An experiment (repeatable).")
@click.option("--targets", multiple=True, metavar="PATH", help="Only these plots (repeatable).")
@_options
@click.pass_context
def diff(
    ctx: click.Context,
    revs: tuple[str, ...],
    exps: tuple[str, ...],
    targets: tuple[str, ...],
    out: str | None,
    open_it: bool,
    as_json: bool,
    fmt: str,
    html_template: str | None,
    md: bool,
) -> None:
    """The plots with the data of each REV and --exp overlaid (default: HEAD and the
    workspace); nothing is checked out."""
    report = api.plots_diff(
        revs, targets=targets, exps=exps, out=out, fmt=fmt, as_json=as_json,
        html_template=html_template, project=project(ctx),
    )  # fmt: skip
    _finish(ctx, report, as_json, md, open_it)


@plots.command("templates")
@click.argument("name", required=False)
@click.pass_context
def templates(ctx: click.Context, name: str | None) -> None:
    """List the templates, or print one to start a custom template from."""
    found = api.plots_templates(name, project=project(ctx))
    click.echo(found if isinstance(found, str) else "\n".join(found))
