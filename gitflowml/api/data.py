"""The API over tracked data: init, add, status, checkout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitflowml import config, scm
from gitflowml.api.base import _project
from gitflowml.errors import PathError
from gitflowml.project import DOT_DIR, Project
from gitflowml.storage import ignore
from gitflowml.storage.add import AddReport
from gitflowml.storage.checkout import CheckoutReport
from gitflowml.storage.status import DataStatus

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.pipeline.plan import StageStatus


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    created: bool  # False when the project was already initialised


@dataclass(frozen=True, slots=True)
class StatusReport:
    data: tuple[DataStatus, ...]
    stages: tuple[StageStatus, ...] = ()
    pipeline: bool = True  # False: there is no pipeline.yaml, so only data was checked
    # what brings the stale stages up to date: "repro", or "checkout" / "pull" when their
    # inputs are those they ran with and only the outs the lock records are to be restored
    remedy: str = "repro"

    @property
    def clean(self) -> bool:
        return not self.data and not any(s.stale for s in self.stages)


def init(path: str | Path | None = None) -> InitResult:
    """Set up `.gitflowml/` at the top of the git repository containing `path` (or cwd)."""
    root = scm.toplevel(Path(path) if path is not None else Path.cwd())
    dot_dir = root / DOT_DIR
    existed = dot_dir.is_dir()
    dot_dir.mkdir(exist_ok=True)
    config.write_default(dot_dir)
    ignore.write_dot_dir_ignore(dot_dir)
    return InitResult(root=root, created=not existed)


def add(
    paths: Sequence[str],
    *,
    recursive: bool = False,
    glob: bool = False,
    out: str | None = None,
    commit: bool = True,
    project: Project | None = None,
) -> AddReport:
    """Hash and cache `paths`, write their `.gfml` pointers and gitignore them.

    `glob`: each path is a pattern; `recursive`: each file under a directory is tracked on
    its own; `out`: the one path (which may be outside the repository) is copied to `out`
    and tracked there; `commit=False`: pointers only, contents not cached yet."""
    from gitflowml import index
    from gitflowml.storage import add as add_mod

    proj = _project(project)
    if out is not None:
        if len(paths) != 1 or recursive or glob:
            raise PathError("--out takes exactly one path, without -R or --glob")
        paths = [add_mod.copy_in(proj, paths[0], out)]
    elif recursive or glob:
        paths = add_mod.expand(proj, paths, recursive, glob)
    return add_mod.add(
        proj, paths, refuse=lambda rels: index.refuse_stage_outs(proj, rels), commit=commit
    )


def status(targets: Sequence[str] = (), *, project: Project | None = None) -> StatusReport:
    """Stale stages with their reasons, and tracked data that differs from its pointer file.
    Targets are stage (or foreach/matrix group) names and tracked paths; default: all."""
    from gitflowml import index
    from gitflowml.repro import judge
    from gitflowml.storage import status as data_status

    proj = _project(project)
    found = index.load(proj)
    if found is None:
        return StatusReport(tuple(data_status.status(proj, targets)), pipeline=False)
    stage_targets = [t for t in targets if index.is_stage_target(found[0], t)]
    data_targets = [t for t in targets if t not in stage_targets]
    stages, outs = (
        judge.status(proj, found, stage_targets) if stage_targets or not targets else ([], [])
    )
    data = data_status.status(proj, data_targets) if data_targets or not targets else []
    if not targets:  # cached stage outs that the lock names but the cache lacks
        data += data_status.not_in_cache(proj, outs)
    remedy = "repro"
    if any(s.stale for s in stages) and judge.restorable(proj, stages):
        produced = {t.target for t in outs}
        absent = any(d.change == "not in cache" and d.path in produced for d in data)
        remedy = "pull" if absent else "checkout"
    return StatusReport(tuple(data), tuple(stages), remedy=remedy)


def checkout(
    targets: Sequence[str] = (), *, force: bool = False, project: Project | None = None
) -> CheckoutReport:
    """Make the workspace match the pointer files, restoring data from the cache."""
    from gitflowml import index
    from gitflowml.storage import checkout as checkout_mod

    proj = _project(project)
    return checkout_mod.checkout(proj, index.workspace_entries(proj, targets), force=force)
