"""`gitflowml config`: read and write settings at one of four levels."""

from __future__ import annotations

import json

import click

from gitflowml import api
from gitflowml.cli.base import echo


def _masked(key: str, value: object) -> object:
    """Credentials are listed as asterisks (`config KEY` names one to see it)."""
    from gitflowml.config import SECRET_OPTIONS

    if key.startswith("remote.") and key.rpartition(".")[2] in SECRET_OPTIONS:
        return "********"
    return value


def _shown(value: object) -> str:
    from gitflowml.config import keys

    return keys.shown(value)


@click.command("config")
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option("--local", "level", flag_value="local", help="config.local.yaml (not in git).")
@click.option("--repo", "level", flag_value="repo", help="config.yaml (in git; the default).")
@click.option("--global", "level", flag_value="global", help="Your user's settings.")
@click.option("--system", "level", flag_value="system", help="Every user's settings.")
@click.option("--unset", is_flag=True, help="Remove KEY from the level.")
@click.option("-l", "--list", "listing", is_flag=True, help="Every setting in effect.")
@click.option("--show-origin", is_flag=True, help="Say where each value comes from.")
@click.option("--json", "as_json", is_flag=True, help="--list as JSON: {key: {value, origin}}.")
@click.pass_context
def config(
    ctx: click.Context,
    key: str | None,
    value: str | None,
    level: str | None,
    unset: bool,
    listing: bool,
    show_origin: bool,
    as_json: bool,
) -> None:
    """Read (KEY) or set (KEY VALUE) a setting, remove it (--unset KEY) or list them all.

    Levels, highest first: --local, --repo (the default for writing), --global, --system.
    Reading without a level gives the value in effect; `-c KEY=VALUE` before any command
    overrides every level for that command. Names: cache.type, cache.dir, core.jobs,
    core.remote, core.executor, core.scheduler, core.allow_large_files,
    remote.NAME.OPTION. Credentials (remote.NAME.secret, …) go to --local or --global only.

    \b
    Examples:
      gitflowml config cache.type hardlink,copy
      gitflowml config --global core.jobs 4
      gitflowml config --local remote.s3.secret_access_key ...
      gitflowml config --list --show-origin
      gitflowml -c core.jobs=1 repro
    """
    if listing:
        if key is not None or unset:
            raise click.UsageError("--list takes no KEY and no --unset")
        rows = api.config_list(level)
        if as_json:
            doc = {s.key: {"value": _masked(s.key, s.value), "origin": s.origin} for s in rows}
            click.echo(json.dumps(doc, indent=2, sort_keys=True))
            return
        for s in rows:
            line = f"{s.key}={_shown(_masked(s.key, s.value))}"
            click.echo(f"{s.origin}\t{line}" if show_origin else line)
        return
    if key is None:
        raise click.UsageError("name a KEY, or use --list")
    if as_json:
        raise click.UsageError("--json goes with --list")
    if unset:
        if value is not None:
            raise click.UsageError("--unset takes a KEY and no VALUE")
        path = api.config_unset(key, level or "repo")
        echo(ctx, f"Removed {key} from {path}")
    elif value is not None:
        path = api.config_set(key, value, level or "repo")
        echo(ctx, f"Set {key} in {path}")
    else:
        setting = api.config_get(key, level)
        shown = _shown(setting.value)
        click.echo(f"{setting.origin}\t{shown}" if show_origin else shown)
