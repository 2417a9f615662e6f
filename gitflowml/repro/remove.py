"""`remove STAGE`: a stage leaves the pipeline file, its lock entries the lock and, with
`--outs`, its outs the workspace (with their `.gitignore` entries either way)."""

from __future__ import annotations

from collections.abc import Sequence

from gitflowml import index, repolock
from gitflowml.errors import PipelineError
from gitflowml.pipeline import edit, lockfile
from gitflowml.project import Project
from gitflowml.storage import ignore
from gitflowml.util import fsutil


def remove_stages(
    project: Project, found: index.Loaded, names: Sequence[str], outs: bool
) -> list[str]:
    """Remove the stages (or foreach/matrix groups) `names`; returns the names removed."""
    loaded, _ = found
    members: list[str] = []
    for name in names:
        if name in loaded.groups:
            members.extend(loaded.groups[name])
        elif any(name in group for group in loaded.groups.values()):
            group = next(g for g, ms in loaded.groups.items() if name in ms)
            raise PipelineError(
                f"stage '{name}' is made by '{group}' (foreach/matrix); remove '{group}', or "
                "drop the value that makes it"
            )
        else:
            members.append(name)
    lock_path, journal = index.lock_paths(project)
    with repolock.hold(project.dot_dir):
        edit.remove_stage_blocks(loaded.path, list(dict.fromkeys(names)))
        lock = lockfile.load_current(lock_path, journal)
        for name in members:
            lock = lock.with_stage(name, None)
        lockfile.dump(lock, lock_path, journal.parent / lockfile.PARSED)
        journal.unlink(missing_ok=True)
    for name in members:
        for out in loaded.stages[name].outs:
            target = project.abspath(out.path)
            if outs:
                fsutil.remove(target)
            ignore.unignore(target)
    return list(dict.fromkeys(names))
