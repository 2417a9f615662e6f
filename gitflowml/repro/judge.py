"""The pipeline side of `status`: observe the workspace and say which stages are stale, and
why."""

from __future__ import annotations

from collections.abc import Sequence

from gitflowml import index
from gitflowml.pipeline import observe, plan
from gitflowml.project import Project
from gitflowml.storage.state import open_state
from gitflowml.storage.tracked import Tracked
from gitflowml.storage.workspace import Scanner


def status(
    project: Project, found: index.Loaded, targets: Sequence[str] = ()
) -> tuple[list[plan.StageStatus], list[Tracked]]:
    """The named stages' status (default: all), and every stage's cached outs per the lock."""
    loaded, g = found
    names = g.order(g.upstream_of(index.resolve_targets(loaded, targets)) if targets else None)
    lock = index.load_lock(project)
    state = open_state(project)
    try:
        now = observe.observe(
            project.root, [loaded.stages[n] for n in names], Scanner(state, project.jobs)
        )
    finally:
        state.close()
    outs = [t for ts in index.outs_of(loaded, lock).values() for t in ts]
    return plan.status(loaded, lock, now, names), outs
