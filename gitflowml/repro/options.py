"""What `repro` is asked to do and what it reports: options, per-stage results (the typed
events `render` words), and the choice of stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gitflowml import index
from gitflowml.pipeline.graph import Graph
from gitflowml.pipeline.model import Pipeline
from gitflowml.pipeline.plan import Reason

Outcome = Literal["ran", "restored", "up to date", "failed", "not run", "frozen", "would run"]


@dataclass(frozen=True, slots=True)
class ReproOptions:
    targets: tuple[str, ...] = ()
    force: bool = False
    single_stage: bool = False
    downstream: bool = False
    dry: bool = False
    jobs: int = 1
    keep_going: bool = False
    wait: float | None = None
    run_cache: bool = True
    pull: bool = False  # fetch what the stages need, and outs of skipped stages, first
    executor: str = "local"  # or "dask"
    scheduler: str | None = None  # a Dask scheduler address; None: a local cluster


@dataclass(frozen=True, slots=True)
class StageResult:
    name: str
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    attempts: int = 0
    duration_s: float = 0.0
    message: str = ""


@dataclass(slots=True)
class ReproReport:
    results: list[StageResult] = field(default_factory=list)
    commit: str | None = None  # with repro --commit: the commit made

    @property
    def failed(self) -> list[StageResult]:
        return [r for r in self.results if r.outcome == "failed"]


def select(pipeline: Pipeline, graph: Graph, options: ReproOptions) -> list[str]:
    """The stages a run covers, in run order."""
    names = index.resolve_targets(pipeline, options.targets) if options.targets else []
    if not names:
        chosen = set(pipeline.stages)
    elif options.single_stage:
        chosen = set(names)
    elif options.downstream:
        chosen = graph.downstream(names)
    else:
        chosen = graph.upstream_of(names)
    return graph.order(chosen)
