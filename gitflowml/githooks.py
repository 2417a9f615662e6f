"""`install`: git hooks that keep the cache, the workspace and lineage in step with git, and
the fetch refspec that brings `refs/notes/gitflowml` from `origin`.

A hook that is already there and is not ours is kept: it is renamed to
`<hook>.pre-gitflowml` and ours runs it first (stopping if it fails). Installing twice
changes nothing.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field

from gitflowml import lineage, scm
from gitflowml.errors import ConfigError
from gitflowml.project import Project

MARK = "# installed by gitflowml"
HOOKS = {
    "pre-commit": "status --check",
    "post-checkout": "-q checkout",
    "post-commit": "-q record",
    "pre-push": "-q push",
}
CHAINED = ".pre-gitflowml"


@dataclass
class InstallReport:
    installed: list[str] = field(default_factory=list)
    chained: list[str] = field(default_factory=list)  # hooks that were there and now run first
    unchanged: list[str] = field(default_factory=list)
    refspec_added: bool = False


def _script(name: str, args: str) -> str:
    python = shlex.quote(sys.executable)
    return (
        "#!/bin/sh\n"
        f"{MARK}: `gitflowml install`; a hook that was here before is {name}{CHAINED}\n"
        'hook_dir=$(dirname "$0")\n'
        f'if [ -x "$hook_dir/{name}{CHAINED}" ]; then\n'
        f'    "$hook_dir/{name}{CHAINED}" "$@" || exit $?\n'
        "fi\n"
        f"exec {python} -m gitflowml {args}\n"
    )


def install(project: Project) -> InstallReport:
    report = InstallReport()
    directory = scm.hooks_dir(project.root)
    directory.mkdir(parents=True, exist_ok=True)
    for name, args in HOOKS.items():
        path = directory / name
        if path.exists():
            text = path.read_text(errors="replace")
            if MARK in text:
                report.unchanged.append(name)
                continue
            saved = directory / f"{name}{CHAINED}"
            if saved.exists():
                raise ConfigError(
                    f"{path} is not gitflowml's and {saved} exists too; merge them by hand, "
                    "then run 'gitflowml install' again"
                )
            os.replace(path, saved)
            saved.chmod(saved.stat().st_mode | 0o111)
            report.chained.append(name)
        path.write_text(_script(name, args))
        path.chmod(0o755)
        report.installed.append(name)
    if scm.has_remote(project.root, "origin"):
        ref = lineage.NOTES_REF
        report.refspec_added = scm.ensure_fetch_refspec(
            project.root, "origin", f"+{ref}:{ref}-origin"
        )
    return report
