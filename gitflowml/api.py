"""The typed Python API. The CLI is a thin layer over these functions.

Every function finds the project from the current directory unless `project` is given,
returns plain data and raises `GitflowmlError` subclasses; none of them prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml import config, ignore, scm
from gitflowml.cache import AddReport, DataStatus
from gitflowml.checkout import CheckoutReport
from gitflowml.project import DOT_DIR, Project

__all__ = [
    "AddReport",
    "CheckoutReport",
    "DataStatus",
    "InitResult",
    "Project",
    "StatusReport",
    "add",
    "checkout",
    "init",
    "status",
]


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    created: bool  # False when the project was already initialised


@dataclass(frozen=True, slots=True)
class StatusReport:
    data: tuple[DataStatus, ...]

    @property
    def clean(self) -> bool:
        return not self.data


def _project(project: Project | None) -> Project:
    return project if project is not None else Project.find()


def init(path: str | Path | None = None) -> InitResult:
    """Set up `.gitflowml/` at the top of the git repository containing `path` (or cwd)."""
    root = scm.toplevel(Path(path) if path is not None else Path.cwd())
    dot_dir = root / DOT_DIR
    existed = dot_dir.is_dir()
    dot_dir.mkdir(exist_ok=True)
    config.write_default(dot_dir)
    ignore.write_dot_dir_ignore(dot_dir)
    return InitResult(root=root, created=not existed)


def add(paths: Sequence[str], *, project: Project | None = None) -> AddReport:
    """Hash and cache `paths`, write their `.gfml` pointers and gitignore them."""
    from gitflowml import cache

    return cache.add(_project(project), paths)


def status(targets: Sequence[str] = (), *, project: Project | None = None) -> StatusReport:
    """What differs between the workspace and the pointer files (empty when up to date)."""
    from gitflowml import cache

    return StatusReport(tuple(cache.status(_project(project), targets)))


def checkout(
    targets: Sequence[str] = (), *, force: bool = False, project: Project | None = None
) -> CheckoutReport:
    """Make the workspace match the pointer files, restoring data from the cache."""
    from gitflowml import checkout as checkout_mod

    return checkout_mod.checkout(_project(project), targets, force=force)
