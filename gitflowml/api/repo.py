"""The API over the repository's set-up: git hooks, the large-file check, importing DVC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitflowml.api.base import _project
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.doctor import Report as DoctorReport
    from gitflowml.githooks import InstallReport
    from gitflowml.importdvc import ImportReport


def check_large_files(
    files: Sequence[str] = (), max_kb: int = 500, *, project: Project | None = None
) -> list[tuple[str, int]]:
    """Staged files (or `files`) over `max_kb` KiB that git would store."""
    from gitflowml import hooks

    return hooks.large_files(_project(project), files, max_kb)


def import_dvc(*, project: Project | None = None) -> ImportReport:
    """Convert dvc.yaml, *.dvc files and .dvc/config remotes in place; idempotent."""
    from gitflowml import importdvc

    return importdvc.import_dvc(_project(project))


def install(*, project: Project | None = None) -> InstallReport:
    """Install the git hooks and the notes fetch refspec."""
    from gitflowml import githooks

    return githooks.install(_project(project))


def doctor(verify: bool = False) -> DoctorReport:
    """Versions, the cache's file system and link types, remotes, leftovers, the pipeline;
    with `verify`, every cache object re-hashed. Works outside a repository (versions only)
    and reports broken settings instead of failing on them."""
    from gitflowml import doctor as doctor_mod
    from gitflowml.errors import GitflowmlError

    root = Project.find_root()
    if root is None:
        return doctor_mod.check(None)
    try:
        proj = Project.at(root)
    except GitflowmlError as exc:
        report = doctor_mod.check(None)
        report.problems.append(f"settings: {exc}")
        return report
    return doctor_mod.check(proj, verify)


def names(kind: str) -> list[str]:
    """For shell completion: the repository's "stages" (and foreach/matrix groups),
    "remotes" or "exps"; empty outside a repository or when they cannot be read."""
    from gitflowml import index
    from gitflowml.errors import GitflowmlError
    from gitflowml.scm import exprefs

    root = Project.find_root()
    if root is None:
        return []
    try:
        if kind == "exps":
            return sorted({e.name for e in exprefs.every(root)})
        proj = Project.at(root)
        if kind == "remotes":
            return [r.name for r in proj.config.remotes]
        found = index.load(proj)
        return [] if found is None else [*found[0].groups, *found[0].stages]
    except GitflowmlError:
        return []
