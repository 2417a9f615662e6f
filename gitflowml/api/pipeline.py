"""The API over the pipeline: repro, dag."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitflowml.api.base import _project
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.repro.events import ReproEvent
    from gitflowml.repro.options import ReproReport


def repro(
    targets: Sequence[str] = (),
    *,
    force: bool = False,
    single_stage: bool = False,
    downstream: bool = False,
    dry: bool = False,
    jobs: int = 1,
    keep_going: bool = False,
    wait: float | None = None,
    run_cache: bool = True,
    pull: bool = False,
    commit: bool = False,
    message: str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    on_event: Callable[[ReproEvent], None] | None = None,
    on_output: Callable[[str, str], None] | None = None,
    project: Project | None = None,
) -> ReproReport:
    """Run the stale stages of pipeline.yaml (and what they need), `jobs` at a time.
    Raises StageFailedError naming the stages that failed; finished stages keep their
    lock entries either way. `on_event` gets each `StageEvent` and `RunEvent` (in
    `gitflowml.repro.events`) as it happens; `on_output` gets each line a stage prints
    when several run at once (else they print straight to our stdout).
    `commit`: then commit the results (lock, pointers, `cache: false` outs, .gitignore)
    with `message` and attach the run records as a note; refused up front when unrelated
    files are staged."""
    from gitflowml import index
    from gitflowml.errors import PipelineError, StageFailedError
    from gitflowml.repro import commit as commit_mod
    from gitflowml.repro import engine
    from gitflowml.repro.events import RunEvent
    from gitflowml.repro.options import ReproOptions

    proj = _project(project)
    found = index.load(proj)  # once, for the whole command
    if found is None:
        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    if commit:
        commit_mod.check_nothing_unrelated_staged(proj, found[0])
        commit_mod.refuse_ignored_git_outs(proj, found[0])
    elif on_event is not None and not dry:
        for path in commit_mod.ignored_git_outs(proj, found[0]):
            on_event(RunEvent("ignored", detail=path))
    options = ReproOptions(
        tuple(targets),
        force,
        single_stage,
        downstream,
        dry,
        max(1, jobs),
        keep_going,
        wait,
        run_cache,
        pull,
        executor or proj.config.executor,
        scheduler or proj.config.scheduler,
    )
    report = engine.run(proj, found, options, on_event, on_output)
    if report.failed:
        shown = "; ".join(f"stage '{r.name}' {r.message}" for r in report.failed)
        raise StageFailedError(
            f"{shown}; fix it and run 'gitflowml repro' again (finished stages are kept)"
        )
    if commit and not dry:
        ran = [r.name for r in report.results if r.outcome in ("ran", "restored")]
        report.commit = commit_mod.commit_results(proj, found[0], ran, message)
    return report


@dataclass(frozen=True, slots=True)
class Dag:
    nodes: tuple[str, ...]  # in run order
    edges: tuple[tuple[str, str], ...]  # (upstream, downstream)


def dag(target: str | None = None, *, outs: bool = False, project: Project | None = None) -> Dag:
    """The stage graph of pipeline.yaml, or the part of it `target` needs; with `outs`, the
    graph of the stages' outs instead (an edge: a stage reads an upstream stage's out)."""
    from gitflowml import index
    from gitflowml.errors import PipelineError

    found = index.load(_project(project))
    if found is None:
        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    loaded, g = found
    names = g.order(g.upstream_of(index.resolve_targets(loaded, [target])) if target else None)
    if outs:
        nodes, out_edges = g.outs_view(names)
        return Dag(tuple(nodes), tuple(out_edges))
    chosen = set(names)
    edges = tuple(
        (u, n) for n in names for u in sorted(g.upstream[n], key=names.index) if u in chosen
    )
    return Dag(tuple(names), edges)
