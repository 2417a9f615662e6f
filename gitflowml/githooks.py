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

from gitflowml import scm
from gitflowml.errors import ConfigError
from gitflowml.lineage.notes import NOTES_REF
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
    merge_driver: bool = False  # newly registered for pipeline.lock


def _script(name: str, args: str) -> str:
    python = shlex.quote(sys.executable)
    return (
        "#!/bin/sh\n"
        f"{MARK}: `gitflowml install`; a hook that was here before is {name}{CHAINED}\n"
        'hook_dir=$(dirname "$0")\n'
        f'if [ -x "$hook_dir/{name}{CHAINED}" ]; then\n'
        f'    "$hook_dir/{name}{CHAINED}" "$@" || exit $?\n'
        "fi\n"
        + (
            # concluding a merge: dropped lock entries are expected until the next repro
            '[ -f "$(git rev-parse --git-path MERGE_HEAD)" ] && exit 0\n'
            if name == "pre-commit"
            else ""
        )
        + f"exec {python} -m gitflowml {args}\n"
    )


def _merge_driver(project: Project) -> bool:
    """Register `gitflowml merge-driver` for pipeline.lock in .git/config and
    .gitattributes; False when both were there already."""
    command = f"{shlex.quote(sys.executable)} -m gitflowml merge-driver %O %A %B"
    changed = scm.set_config(project.root, "merge.gitflowml-lock.name", "gitflowml pipeline.lock")
    changed = scm.set_config(project.root, "merge.gitflowml-lock.driver", command) or changed
    attributes = project.root / ".gitattributes"
    line = "pipeline.lock merge=gitflowml-lock"
    text = attributes.read_text() if attributes.exists() else ""
    if line not in text.splitlines():
        attributes.write_text(
            text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
        )
        changed = True
    return changed


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
    report.merge_driver = _merge_driver(project)
    if scm.has_remote(project.root, "origin"):
        ref = NOTES_REF
        report.refspec_added = scm.ensure_fetch_refspec(
            project.root, "origin", f"+{ref}:{ref}-origin"
        )
    return report
