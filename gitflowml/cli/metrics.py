"""Comparing revisions: metrics show/diff, params diff, diff."""

from __future__ import annotations

import json
from typing import Any

import click

from gitflowml import api
from gitflowml.cli import render_metrics
from gitflowml.cli.base import project


# -- metrics, params, data diff ------------------------------------------------------------------
def _format_options(f: Any) -> Any:
    f = _json_format(f)
    f = click.option("--md", is_flag=True, help="A Markdown table (for a pull request).")(f)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def _json_format(f: Any) -> Any:
    return click.option(
        "--json-format",
        type=click.Choice(["gitflowml", "dvc"]),
        default=None,
        help="The shape of --json: gitflowml's (the default) or DVC's, for scripts written "
        "against DVC. Implies --json.",
    )(f)


@click.group()
def metrics() -> None:
    """Show and compare metrics at any revision, without checking out."""


@metrics.command("show")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--env",
    "env_name",
    metavar="NAME",
    help="Warn when the workspace's metrics were made in another environment.",
)
@click.option("-a", "--all-branches", is_flag=True, help="Also every branch.")
@click.option("--rev", "revs", multiple=True, help="A revision (repeat for several).")
@click.option("--precision", type=click.IntRange(min=0), default=5, show_default=True)
@_format_options
@click.pass_context
def metrics_show(
    ctx: click.Context,
    paths: tuple[str, ...],
    env_name: str | None,
    all_branches: bool,
    revs: tuple[str, ...],
    precision: int,
    md: bool,
    as_json: bool,
    json_format: str | None,
) -> None:
    """Metrics of the workspace (or of --rev REV…, or every branch with -a)."""
    dvc = json_format == "dvc"
    values = api.metrics_show(
        paths,
        revs or (None,),
        all_branches=all_branches,
        hide_same_workspace=dvc,
        project=project(ctx),
    )
    if as_json or json_format:
        click.echo(render_metrics.metrics_json(values, dvc))
    else:
        click.echo(render_metrics.metrics_show(values, md, precision))
    if env_name is not None and None in (revs or (None,)):
        _warn_env(ctx, env_name)


def _warn_env(ctx: click.Context, env: str) -> None:
    """`--env` with the workspace's metrics: say which were made in another environment."""
    for path, made_in in api.metrics_env(env, project=project(ctx)):
        click.echo(
            f"warning: {path} was made with env {made_in}, not {env} (pipeline.lock); "
            f"'gitflowml repro --env {env}' remakes it",
            err=True,
        )


def _diff_command(kind: str) -> Any:
    @click.option(
        "--env",
        "envs",
        multiple=True,
        metavar="NAME",
        help="Params of environment NAME (twice: compare two environments)."
        if kind == "params"
        else "Warn when the workspace's metrics were made in another environment.",
    )
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
        json_format: str | None,
        envs: tuple[str, ...],
    ) -> None:
        if kind == "metrics":
            if len(envs) > 1:
                raise click.UsageError("metrics diff takes one --env")
            rows = api.metrics_diff(a, b, all_rows=all_rows, project=project(ctx))
            if envs and b is None:
                _warn_env(ctx, envs[0])
        else:
            rows = api.params_diff(a, b, all_rows=all_rows, envs=envs, project=project(ctx))
            if len(envs) == 2 and a is None and b is None:
                a, b = envs  # the columns are the two environments
        if as_json or json_format:
            click.echo(render_metrics.diff_json(rows, json_format == "dvc"))
        else:
            click.echo(
                render_metrics.diff_table(
                    rows, a or "HEAD", b or "workspace", precision, pct, md, kind
                )
            )

    command.__doc__ = (
        f"Compare {kind} between revisions A (default HEAD) and B (default the workspace)."
    )
    return command


metrics.command("diff")(_diff_command("metrics"))


@click.group()
def params() -> None:
    """Compare params at any revision, without checking out."""


@click.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_json_format
@click.pass_context
def diff_cmd(
    ctx: click.Context, a: str | None, b: str | None, as_json: bool, json_format: str | None
) -> None:
    """Data paths added, modified or deleted between A (default HEAD) and B (workspace)."""
    dvc = json_format == "dvc"
    result = api.diff(a, b, git_stored=not dvc, project=project(ctx))
    if as_json or json_format:
        click.echo(render_metrics.data_diff_json(result, dvc))
    else:
        click.echo(render_metrics.data_diff(result))


params.command("diff")(_diff_command("params"))


@params.command("show")
@click.option("--env", "env_name", metavar="NAME", help="As environment NAME sees them.")
@click.option("--show-origin", is_flag=True, help="Say which file each value comes from.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {file: {key: value}}.")
@click.pass_context
def params_show(ctx: click.Context, env_name: str | None, show_origin: bool, as_json: bool) -> None:
    """Every params key the pipeline reads, with the value its stages see (after the
    environment's overlay, P.NAME.yaml over P.yaml).

    \b
    Examples:
      gitflowml params show
      gitflowml params show --env prod --show-origin
    """
    rows = api.params_show(env_name, project=project(ctx))
    if as_json:
        doc: dict[str, dict[str, Any]] = {}
        for file, key, value, origin in rows:
            doc.setdefault(file, {})[key] = (
                {"value": value, "origin": origin} if show_origin else value
            )
        click.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))
        return
    for file, key, value, origin in rows:
        shown = json.dumps(value) if not isinstance(value, str) else value
        click.echo(f"{origin}\t{file}:{key}={shown}" if show_origin else f"{file}:{key}={shown}")
