"""The data registry's commands: ls."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from gitflowml import api


@click.command("ls")
@click.argument("url")
@click.argument("path", required=False, default="")
@click.option("--rev", default=None, help="A branch, tag or commit of the source.")
@click.option("-R", "--recursive", is_flag=True, help="Everything under PATH, not one level.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ls_cmd(url: str, path: str, rev: str | None, recursive: bool, as_json: bool) -> None:
    """List what repository URL holds (under PATH): files in git and tracked data, with
    sizes and hashes, read without a checkout. URL is anything 'git clone' accepts.

    \b
    Examples:
      gitflowml ls https://github.com/org/registry
      gitflowml ls ../registry datasets -R --rev v2
    """
    listing = api.ls(url, path, rev=rev, recursive=recursive)
    if as_json:
        click.echo(json.dumps([asdict(i) for i in listing.items], indent=2))
        return
    for item in listing.items:
        size = "-" if item.size is None else str(item.size)
        what = f"data ({item.nfiles} files)" if item.nfiles is not None else item.kind
        click.echo(f"{item.path}\t{what}\t{size}\t{item.hash}")
