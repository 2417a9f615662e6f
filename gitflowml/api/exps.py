"""`exp run`: in the workspace, or queued (and with `--temp`, `--run` or `-j` run at once
through `exps_queue`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitflowml import config
from gitflowml.api.base import _project
from gitflowml.api.exps_queue import ExpSink, ReproFlags, exec_here, repro_kwargs, run_queue
from gitflowml.api.pipeline import repro
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.exps.events import Outcome
    from gitflowml.pipeline.model import Pipeline
    from gitflowml.repro.events import ReproEvent
    from gitflowml.repro.options import ReproReport


_DEFAULT_FLAGS = ReproFlags()


@dataclass(slots=True)
class ExpRunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    repro: ReproReport | None = None  # of a run in the workspace

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state == "failed"]


def exp_run(
    targets: Sequence[str] = (),
    *,
    set_params: Sequence[str] = (),
    name: str | None = None,
    message: str | None = None,
    queue: bool = False,
    temp: bool = False,
    run: bool = False,
    jobs: int | None = None,
    flags: ReproFlags = _DEFAULT_FLAGS,
    on_exp: ExpSink | None = None,
    on_event: Callable[[ReproEvent], None] | None = None,
    on_output: Callable[[str, str], None] | None = None,
    project: Project | None = None,
) -> ExpRunReport:
    """Run the pipeline with `set_params` applied and keep the result as an experiment.
    In the workspace by default (the results stay there); with `temp` in a private
    worktree; with `queue` (or a sweep) it is queued, and run at once, `jobs` at a time,
    with `run` or `jobs`. Raises ExperimentError for bad overrides or names before anything
    changes, StageFailedError when a workspace run fails (kept as a failed entry)."""
    from gitflowml import index, scm
    from gitflowml.errors import ExperimentError, PipelineError
    from gitflowml.exps import overrides, save

    proj = _project(project)
    if flags.env is None:  # the environment of this command travels with queued runs
        flags = dataclasses.replace(flags, env=config.active_env())
    baseline = scm.rev_parse(proj.root, "HEAD")
    if baseline is None:
        raise ExperimentError("this repository has no commit yet; commit first, then run")
    found = index.load(proj)
    if found is None:
        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    combos = overrides.expand([overrides.parse(text) for text in set_params])
    texts = [overrides.rendered(proj.root, combo) for combo in combos]  # errors first
    if name is not None:
        save.check_name(name)
    if len(combos) > 1 or queue or temp:
        names = _names(proj, baseline, name, len(combos), flags.force)
        _refuse_missing_deps(proj, found[0])
        for each, params in zip(names, texts, strict=True):
            _enqueue(
                proj, baseline, each, params, targets, message, flags, None if temp else on_exp
            )
        report = ExpRunReport()
        if temp:  # one after another, here, each in its own worktree
            report.outcomes += [exec_here(proj, n, on_event, on_output, on_exp) for n in names]
        elif run or jobs is not None:
            report.outcomes += run_queue(names, jobs=jobs or 1, on_exp=on_exp, project=proj)
        else:
            report.outcomes += [_queued(proj, n) for n in names]
        return report
    return _run_here(
        proj, found[0], baseline, name, texts[0], targets, message, flags, on_event, on_output
    )


def _run_here(
    proj: Project,
    loaded: Pipeline,
    baseline: str,
    name: str | None,
    params: dict[str, str],
    targets: Sequence[str],
    message: str | None,
    flags: ReproFlags,
    on_event: Callable[[ReproEvent], None] | None,
    on_output: Callable[[str, str], None] | None,
) -> ExpRunReport:
    from gitflowml.errors import StageFailedError
    from gitflowml.exps import overrides, queue, save
    from gitflowml.exps.events import Outcome

    chosen = _names(proj, baseline, name, 1, flags.force)[0]
    overrides.write(proj.root, params)
    try:
        report = repro(
            targets, **repro_kwargs(flags), on_event=on_event, on_output=on_output, project=proj
        )
    except StageFailedError as exc:
        start = save.start_commit(proj, baseline, params, chosen, message)
        entry = queue.Entry(
            chosen, baseline, start, queue.now(), tuple(targets), dataclasses.asdict(flags), message
        )
        queue.add(proj, dataclasses.replace(entry, state="failed", error=str(exc)))
        raise
    exp = save.save(proj, loaded, baseline, chosen, message, list(params), flags.force)
    queue.remove(proj, [chosen])  # a failed run of that name, now replaced (-f)
    return ExpRunReport([Outcome(chosen, "success", baseline, exp.commit)], report)


def _names(proj: Project, baseline: str, name: str | None, count: int, force: bool) -> list[str]:
    """`count` names free for `baseline`: `name` (`name-1`, `name-2`… for a sweep) or
    generated ones. A taken name is an error unless `force`."""
    from gitflowml.errors import ExperimentError
    from gitflowml.exps import queue, save
    from gitflowml.scm import exprefs

    if name is not None:
        names = [name] if count == 1 else [f"{name}-{i + 1}" for i in range(count)]
        for each in names:
            if queue.taken(proj, baseline, each) and not force:
                raise ExperimentError(
                    f"experiment '{each}' exists already; choose another name with -n, "
                    "or replace it with -f"
                )
        return names
    used = {e.name for e in exprefs.every(proj.root)} | {e.name for e in queue.entries(proj)}
    out: list[str] = []
    for _ in range(count):
        out.append(save.new_name(used))
        used.add(out[-1])
    return out


def _refuse_missing_deps(proj: Project, loaded: Pipeline) -> None:
    """Deps a worktree would lack: neither in git, nor tracked data, nor made by a stage.
    Named before anything runs (a queued run starts from a commit, not the workspace)."""
    from gitflowml import index, scm
    from gitflowml.errors import ExperimentError
    from gitflowml.storage.tracked import is_under

    produced = [o.path for s in loaded.stages.values() for o in s.outs]
    data = [t.target for t in index.workspace_entries(proj, (), False, None)]
    covered = [*produced, *data]
    local = sorted({d for s in loaded.stages.values() for d in s.deps if "://" not in d})
    local = [d for d in local if not any(d == c or is_under(d, c) for c in covered)]
    in_git = set(scm.tracked(proj.root, local))
    missing = [d for d in local if d not in in_git]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise ExperimentError(
            f"deps not in git and not tracked by gitflowml: {shown}; a queued or --temp "
            "experiment starts from a commit and would not have them. 'git add' them (or "
            "'gitflowml add' data), or run the experiment in the workspace"
        )


def _enqueue(
    proj: Project,
    baseline: str,
    name: str,
    params: dict[str, str],
    targets: Sequence[str],
    message: str | None,
    flags: ReproFlags,
    on_exp: ExpSink | None,
) -> None:
    from gitflowml.exps import queue, save
    from gitflowml.exps.events import ExpEvent

    queue.remove(proj, [name])  # a failed entry of that name, replaced (-f)
    start = save.start_commit(proj, baseline, params, name, message)
    entry = queue.Entry(
        name, baseline, start, queue.now(), tuple(targets), dataclasses.asdict(flags), message
    )
    queue.add(proj, entry)
    if on_exp is not None:
        on_exp(ExpEvent("queued", name))


def _queued(proj: Project, name: str) -> Outcome:
    from gitflowml.exps import queue
    from gitflowml.exps.events import Outcome

    entry = queue.get(proj, name)
    return Outcome(name, "queued", entry.baseline)
