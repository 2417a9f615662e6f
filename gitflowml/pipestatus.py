"""The pipeline side of `status`: load pipeline.yaml and the lock, observe the workspace,
and say which stages are stale and why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitflowml import graph, lockfile, observe, pipeline, repro
from gitflowml.cache import open_state
from gitflowml.errors import PathError
from gitflowml.project import Project
from gitflowml.workspace import Scanner

JOURNAL_DIR = "tmp"


def lock_paths(project: Project) -> tuple[Path, Path]:
    return project.root / lockfile.LOCK_FILE, project.dot_dir / JOURNAL_DIR / lockfile.JOURNAL


def load(project: Project) -> tuple[pipeline.Pipeline, graph.Graph] | None:
    path = project.root / pipeline.PIPELINE_FILE
    if not path.exists():
        return None
    loaded = pipeline.load(path, project.root)
    return loaded, graph.build(loaded)


def resolve_targets(loaded: pipeline.Pipeline, targets: Sequence[str]) -> list[str]:
    """Stage names from targets that are stage names or foreach/matrix group names."""
    names: list[str] = []
    for target in targets:
        if target in loaded.stages:
            names.append(target)
        elif target in loaded.groups:
            names.extend(loaded.groups[target])
        else:
            raise PathError(f"'{target}' is not a stage of {pipeline.PIPELINE_FILE}")
    return list(dict.fromkeys(names))


def is_stage_target(loaded: pipeline.Pipeline | None, target: str) -> bool:
    return loaded is not None and (target in loaded.stages or target in loaded.groups)


def status(project: Project, targets: Sequence[str] = ()) -> list[repro.StageStatus]:
    found = load(project)
    if found is None:
        return []
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
    return repro.status(loaded, lock, now, names)
