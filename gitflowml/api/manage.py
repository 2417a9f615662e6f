"""The API over everyday changes: remove, move, commit, unprotect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitflowml.api.base import _project
from gitflowml.project import Project

if TYPE_CHECKING:
    from gitflowml.repro.commit_outs import CommitReport


@dataclass(frozen=True, slots=True)
class RemoveReport:
    data: list[str] = field(default_factory=list)  # tracked paths no longer tracked
    stages: list[str] = field(default_factory=list)  # stages taken out of pipeline.yaml
    outs: bool = False  # whether their data was deleted too


def remove(
    targets: Sequence[str], outs: bool = False, *, project: Project | None = None
) -> RemoveReport:
    """Stop tracking: each target is a tracked path, its pointer file or a stage name. The
    pointer file (or the stage and its lock entry) and the `.gitignore` entry go; with
    `outs`, the data too. Cache objects stay until `gc`."""
    from gitflowml import index
    from gitflowml.repro import remove as remove_mod
    from gitflowml.storage import manage
    from gitflowml.storage.tracked import select

    proj = _project(project)
    found = index.load(proj)
    stage_names = [t for t in targets if index.is_stage_target(found[0] if found else None, t)]
    paths = [t for t in targets if t not in stage_names]
    entries = select(proj, paths) if paths else []
    data = manage.remove(proj, entries, outs)
    stages = (
        remove_mod.remove_stages(proj, found, stage_names, outs) if found and stage_names else []
    )
    return RemoveReport(data, stages, outs)


def move(src: str, dst: str, *, project: Project | None = None) -> tuple[str, str]:
    """Move tracked data with its pointer file and `.gitignore` entry; (old, new) paths."""
    from gitflowml.storage import manage

    return manage.move(_project(project), src, dst)


def commit(
    targets: Sequence[str] = (), force: bool = False, *, project: Project | None = None
) -> CommitReport:
    """Record the workspace as it is: stages locked with their outs as they are now, tracked
    data re-added. Stages whose inputs changed need `force`."""
    from gitflowml.repro.commit_outs import commit as commit_outs

    return commit_outs(_project(project), targets, force)


def unprotect(targets: Sequence[str], *, project: Project | None = None) -> list[str]:
    """Give hard- or symbolically linked tracked files (pointer-tracked data and stage outs)
    a private copy, so that editing them cannot touch the cache; the files copied."""
    from gitflowml import index
    from gitflowml.storage import manage

    proj = _project(project)
    return manage.unprotect(proj, index.workspace_entries(proj, targets))
