"""Judging stages: observe the workspace and say which stages are stale, and why; for
`status` (all at once) and for `repro` (one stage at a time, with its run-cache entry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitflowml import index
from gitflowml.pipeline import lockfile, observe, plan, runcache
from gitflowml.pipeline.codedeps import CodeAnalyzer
from gitflowml.pipeline.model import Stage
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


def restorable(project: Project, statuses: list[plan.StageStatus]) -> bool:
    """Whether `checkout` of the locked outs, not `repro`, brings the stale stages up to date."""
    return plan.restorable(index.load_lock(project), statuses)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What judging a stage found: its inputs now, why it is stale (nothing: up to date),
    and, where the run-cache may serve it, its key and the entry found under it."""

    now: plan.Observed
    reasons: tuple[plan.Reason, ...]
    run_key: str | None = None
    cached: tuple[lockfile.Entry, ...] | None = None


class Judge:
    """Observes a stage's inputs and outs and says why it is stale, if it is. Reads only
    (the hash state aside), so it can be done ahead of the stage's turn."""

    def __init__(
        self,
        project: Project,
        scanner: Scanner,
        code: CodeAnalyzer,
        force: bool = False,
        run_cache: bool = True,
    ) -> None:
        self.project, self.scanner, self.code = project, scanner, code
        self.force, self.run_cache = force, run_cache

    def __call__(self, stage: Stage, entry: lockfile.StageLock | None) -> Verdict:
        """`entry`: the stage's lock entry as the run has it now."""
        now = observe.observe(self.project.root, [stage], self.scanner, self.code)
        reasons = plan.reasons(stage, entry, now)
        if self.force and not reasons:
            reasons = (plan.Reason("forced"),)
        if not reasons or not self.run_cache or not runcache.usable(stage):
            return Verdict(now, reasons)
        key = runcache.key(stage, now)
        cached = None if self.force else runcache.get(self.project.cache_dir, key)
        return Verdict(now, reasons, key, cached)
