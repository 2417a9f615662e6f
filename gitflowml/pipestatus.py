"""The pipeline side of `status`: load loader.yaml and the lock, observe the workspace,
and say which stages are stale and why."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from gitflowml import quick
from gitflowml.cache import Tracked, open_state
from gitflowml.errors import PathError
from gitflowml.pipeline import graph, loader, lockfile, observe, plan
from gitflowml.project import Project
from gitflowml.storage.pointer import Pointer
from gitflowml.storage.workspace import Scanner

JOURNAL_DIR = "tmp"


def lock_paths(project: Project) -> tuple[Path, Path]:
    return project.root / lockfile.LOCK_FILE, project.dot_dir / JOURNAL_DIR / lockfile.JOURNAL


def load(project: Project) -> tuple[loader.Pipeline, graph.Graph] | None:
    path = project.root / loader.PIPELINE_FILE
    quick.note(path)
    if not path.exists():
        return None
    loaded = loader.load(path, project.root, project.dot_dir / JOURNAL_DIR / loader.PARSED)
    return loaded, graph.build(loaded)


def resolve_targets(loaded: loader.Pipeline, targets: Sequence[str]) -> list[str]:
    """Stage names from targets that are stage names or foreach/matrix group names."""
    names: list[str] = []
    for target in targets:
        if target in loaded.stages:
            names.append(target)
        elif target in loaded.groups:
            names.extend(loaded.groups[target])
        else:
            raise PathError(f"'{target}' is not a stage of {loader.PIPELINE_FILE}")
    return list(dict.fromkeys(names))


def is_stage_target(loaded: loader.Pipeline | None, target: str) -> bool:
    return loaded is not None and (target in loaded.stages or target in loaded.groups)


def outs_by_stage(project: Project) -> dict[str, list[Tracked]]:
    found = load(project)
    if found is None:
        return {}
    return outs_of(found[0], lockfile.load_current(*lock_paths(project), durable=False))


def outs_of(loaded: loader.Pipeline, lock: lockfile.Lock) -> dict[str, list[Tracked]]:
    """Each stage's cached outs as `lock` records them."""
    out: dict[str, list[Tracked]] = {}
    for name, stage in loaded.stages.items():
        entry = lock.stages.get(name)
        if entry is None:
            continue
        recorded = {e.path: e for e in entry.outs}
        out[name] = [
            as_tracked(recorded[o.path]) for o in stage.outs if o.cache and o.path in recorded
        ]
    return out


def as_tracked(entry: lockfile.Entry) -> Tracked:
    ptr = Pointer(posixpath.basename(entry.path), entry.oid, entry.size or 0, entry.nfiles)
    return Tracked(lockfile.LOCK_FILE, entry.path, ptr)


def status(
    project: Project,
    targets: Sequence[str] = (),
    found: tuple[loader.Pipeline, graph.Graph] | None = None,
) -> tuple[list[plan.StageStatus], list[Tracked]]:
    """The named stages' status (default: all), and every stage's cached outs per the lock."""
    found = found or load(project)
    if found is None:
        return [], []
    loaded, g = found
    names = g.order(g.upstream_of(resolve_targets(loaded, targets)) if targets else None)
    lock = lockfile.load_current(*lock_paths(project), durable=False)
    state = open_state(project)
    try:
        now = observe.observe(
            project.root, [loaded.stages[n] for n in names], Scanner(state, project.jobs)
        )
    finally:
        state.close()
    outs = [t for ts in outs_of(loaded, lock).values() for t in ts]
    return plan.status(loaded, lock, now, names), outs
