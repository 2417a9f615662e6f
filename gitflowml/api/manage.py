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


@dataclass(frozen=True, slots=True)
class MoveReport:
    old: str
    new: str
    stages: list[str] = field(default_factory=list)  # whose deps in pipeline.yaml now say `new`
    in_cmd: list[str] = field(default_factory=list)  # whose cmd still names `old`: edit them


def move(src: str, dst: str, *, project: Project | None = None) -> MoveReport:
    """Move tracked data with its pointer file and `.gitignore` entry; stages whose deps
    name it (or a path under it) are changed to the new path in pipeline.yaml."""
    from gitflowml import index
    from gitflowml.pipeline import edit
    from gitflowml.storage import manage

    proj = _project(project)
    old, new = manage.move(proj, src, dst)
    if not index.has_pipeline(proj):
        return MoveReport(old, new)
    found = index.load(proj)
    assert found is not None
    stages = edit.rename_deps(found[0].path, old, new)
    in_cmd = sorted(
        n for n, stage in found[0].stages.items() if any(old in c for c in stage.cmd or ())
    )
    return MoveReport(old, new, stages, in_cmd)


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
