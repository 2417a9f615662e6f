"""`gitflowml doctor` (and `version`, the same): the installation and the repository."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from gitflowml import api
from gitflowml.errors import EXIT_ERROR


@click.command()
@click.option("--verify", is_flag=True, help="Re-hash every cache object (reads the cache).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def doctor(ctx: click.Context, verify: bool, as_json: bool) -> None:
    """Versions (gitflowml, Python, git, the libraries), the platform, the cache's file
    system and which link types work there, whether each remote answers, and anything
    wrong in the repository. Exits with 1 when something is wrong.

    \b
    Examples:
      gitflowml doctor
      gitflowml doctor --verify --json
    """
    report = api.doctor(verify)
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2, sort_keys=True))
    else:
        lines = [f"{name:<12} {version}" for name, version in report.versions.items()]
        lines.append(f"{'platform':<12} {report.platform}")
        if report.cache:
            works = ", ".join(k for k, ok in report.link_types.items() if ok)
            lacking = ", ".join(k for k, ok in report.link_types.items() if not ok)
            lines.append(f"{'cache':<12} {report.cache} ({report.cache_fs})")
            lines.append(f"{'link types':<12} {works}" + (f" (not: {lacking})" if lacking else ""))
            for name, state in report.remotes.items():
                lines.append(f"{'remote':<12} {name}: {state}")
            lines.append(f"{'pipeline':<12} {report.pipeline}")
            if verify:
                lines.append(
                    f"{'objects':<12} {report.objects_checked} checked, "
                    f"{len(report.corrupt)} corrupt"
                )
        for problem in report.problems:
            lines.append(f"problem: {problem}")
        if not report.problems:
            lines.append("No problems found.")
        click.echo("\n".join(lines))
    if report.problems:
        ctx.exit(EXIT_ERROR)
