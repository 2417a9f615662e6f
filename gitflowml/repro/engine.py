"""`repro`: run the stale stages of the pipeline in dependency order, `jobs` at a time.

Each stage is judged once its upstream stages have finished, against what they left
behind, so a rerun that produces identical outputs leaves its downstream stages alone
(early cutoff). Where it can be, that is done while another stage's command still runs.
Everything that reads the state cache and the workspace happens in the calling thread;
worker threads only wait on commands. What only writes goes to the `Settler`'s background
thread, so the next command need not wait for it. The lock is rewritten once at the end,
after the background thread has finished.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from gitflowml import index, quick, repolock
from gitflowml.errors import (
    CheckoutError,
    GitflowmlError,
    ObjectMissingError,
    StageFailedError,
)
from gitflowml.executors.local import (
    LocalExecutor,
    OutputSink,
    RunOutcome,
    base_env,
    slots_needed,
    stage_commands,
)
from gitflowml.pipeline import lockfile, observe, plan, runcache
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.codedeps import CodeAnalyzer
from gitflowml.pipeline.graph import Graph
from gitflowml.pipeline.model import Pipeline, Stage
from gitflowml.project import Project
from gitflowml.repro import outs as stage_outs
from gitflowml.repro.events import Event, RunEvent, StageEvent
from gitflowml.repro.judge import Judge, Verdict
from gitflowml.repro.options import ReproOptions, ReproReport, StageResult, select
from gitflowml.repro.schedule import Scheduler, Started
from gitflowml.repro.settle import Settler
from gitflowml.storage import ignore
from gitflowml.storage.checkout import checkout_entries
from gitflowml.storage.odb import Later, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.workspace import Scanner

if TYPE_CHECKING:
    from gitflowml.executors.remote_run import RemoteRun


def run(
    project: Project,
    found: index.Loaded,
    options: ReproOptions,
    on_event: Event | None = None,
    on_output: OutputSink | None = None,
) -> ReproReport:
    say = on_event or (lambda _msg: None)
    pipeline, graph = found
    index.refuse_added_outs(project, pipeline)

    def waiting(pid: str) -> None:
        say(RunEvent("waiting", detail=pid))

    with repolock.hold(project.dot_dir, options.wait, waiting):
        if options.pull:
            from gitflowml.remote import fetch  # the remote layer: only with --pull

            lock = lockfile.load_current(*index.lock_paths(project))
            chosen = [pipeline.stages[n] for n in select(pipeline, graph, options)]
            moved = fetch.prefetch_for_repro(project, chosen, lock)
            say(RunEvent("fetched", moved))
        return _Run(project, pipeline, graph, options, say, on_output).go()


class _Run:
    """One `repro`: the scheduler's hooks (judge and start a stage, settle it when it ends)."""

    def __init__(
        self,
        project: Project,
        pipeline: Pipeline,
        graph: Graph,
        options: ReproOptions,
        say: Event,
        on_output: OutputSink | None,
    ) -> None:
        self.project, self.pipeline, self.graph, self.options = project, pipeline, graph, options
        self.say = say
        self.lock_path, self.journal = index.lock_paths(project)
        self.lock = lockfile.load_current(self.lock_path, self.journal)
        self.named = set(index.resolve_targets(pipeline, options.targets))
        self.executor = LocalExecutor(on_output if options.jobs > 1 else None)
        self.remote_run: RemoteRun | None = None
        if options.executor == "dask" and not options.dry:
            from gitflowml.executors.remote_run import RemoteRun  # dask and the remote layer

            workers = max(1, options.jobs)
            say(RunEvent("dask", workers, options.scheduler or ""))
            self.remote_run = RemoteRun(
                project,
                options.scheduler,
                workers,
                lambda stage, line: say(StageEvent("output", stage, message=line)),
            )
        self.report = ReproReport()
        self.results: dict[str, StageResult] = {}
        self.order = select(pipeline, graph, options)
        self.selection = set(self.order)
        self.pending: dict[str, tuple[plan.Reason, ...]] = {}  # reasons of running stages
        self.judged: dict[str, Verdict] = {}  # judged ahead, while a command ran
        self.scheduler: Scheduler[Verdict] = Scheduler(
            graph.upstream,
            self.selection,
            lambda n: self.results[n].outcome if n in self.results else None,
            self,
            options.jobs,
            options.keep_going,
        )
        self.base_env = base_env(project.root)  # before each stage's own `env`

    def go(self) -> ReproReport:
        state = open_state(self.project)
        self.scanner = Scanner(state, self.project.jobs)  # observes inputs, reads only
        self.odb = local_odb(self.project)
        self.storer = Scanner(state, self.project.jobs, store=self.odb)  # commits outs
        code = CodeAnalyzer(self.project.root, self.scanner, state)
        self.judge = Judge(
            self.project, self.scanner, code, self.options.force, self.options.run_cache
        )
        # writes off the critical path, in order: the next stage need not wait for them
        self.settler = Settler(self.odb, self.journal, self.project.dot_dir, time.time_ns())
        root = self.project.root
        outs = [root / o.path for n in self.order for o in self.pipeline.stages[n].outs]
        if not self.options.dry:  # before any out exists: no crash leaves one git would add
            cached = [
                root / o.path for n in self.order for o in self.pipeline.stages[n].outs if o.cache
            ]
            for parent in {p.parent for p in cached}:
                parent.mkdir(parents=True, exist_ok=True)  # as the stage's turn would
            ignore.ensure_all_ignored(cached)
        try:
            with state.hold():  # one write of the hash state at the end, not one per stage
                state.read_ahead(self._state_keys())
                self.scheduler.run(self.order)  # on Ctrl-C it ends the running stages itself
        finally:
            self.executor.close()
            failed = self.settler.close()
            if self.remote_run is not None:
                self.remote_run.close()
            self.scanner.remove_orphans()
            self.storer.remove_orphans([self.project.work_dir, root, *(o.parent for o in outs)])
            if self.journal.exists() and failed is None:
                lockfile.dump(self.lock, self.lock_path, self.journal.parent / lockfile.PARSED)
                self.journal.unlink()
            # else the journal holds exactly the stages whose objects were written
            state.close()
            if failed is not None and sys.exc_info()[1] is None:  # Ctrl-C keeps its own exit
                raise failed
        self.report.results = [self.results[n] for n in self.order if n in self.results]
        return self.report

    def _state_keys(self) -> list[str]:
        """The hash-state keys of the selected stages' local deps and outs (as observed)."""
        root = self.project.root
        stages = [self.pipeline.stages[n] for n in self.order]
        paths = {p for s in stages for p in s.deps} | {o.path for s in stages for o in s.outs}
        local = (p for p in paths if "://" not in p)
        return [str(observe.workspace_path(root, p)) for p in local]

    # -- the scheduler's hooks -------------------------------------------------------------
    def start(self, pool: ThreadPoolExecutor, name: str, room: int) -> Started[Verdict]:
        stage = self.pipeline.stages[name]
        if stage.frozen and not (self.options.force and name in self.named):
            self._done(StageResult(name, "frozen"))
            return False
        if self.options.dry and any(
            self.results.get(up, StageResult(up, "up to date")).outcome == "would run"
            for up in self.graph.upstream[name]
        ):
            self._done(StageResult(name, "would run", message="after upstream changes"))
            return False
        cost = min(slots_needed(stage), max(1, self.options.jobs))
        if cost > room and not self.options.dry:
            return None  # judged once there is room: upstream outputs may still change
        verdict = self.judged.pop(name, None) or self.judge(stage, self.lock.stages.get(name))
        now, reasons = verdict.now, verdict.reasons
        if not reasons:
            self._done(StageResult(name, "up to date"))
            return False
        if self.options.dry:
            self._done(StageResult(name, "would run", reasons))
            return False
        missing = [d for d in stage.deps if "://" not in d and now.paths.get(d) is None]
        if missing:
            self._done(
                StageResult(name, "failed", reasons, message=f"dep '{missing[0]}' does not exist")
            )
            return False
        if self._restore_locked(stage, reasons) or self._restore(stage, verdict):
            return False
        self.say(StageEvent("running", name, reasons))
        stage_outs.prepare(self.project.root, stage, self.settler)
        self.pending[name] = reasons
        if self.remote_run is not None:  # inputs go up in this thread: the state is not shared
            try:
                spec, resources = self.remote_run.prepare(stage, now, self.storer)
            except StageFailedError as exc:  # fits no worker: fails like a stage, not the run
                self.pending.pop(name, None)
                self._done(StageResult(name, "failed", reasons, message=str(exc)))
                return False
            future = pool.submit(self.remote_run.run, stage, spec, resources)
            return future, verdict, cost
        args = (
            name,
            stage_commands(stage),
            self.project.root / stage.wdir,
            self._env(stage),
            stage.timeout,
            stage.retries,
        )
        if self.options.jobs <= 1:  # waited for in this thread: no hand-over per stage
            return self.executor.start_stage(*args), verdict, cost
        started = self.executor.start_stage(*args)  # its first command runs from here on
        return pool.submit(started.result), verdict, cost

    def ahead(self, waiting: list[str]) -> None:
        """While a command runs, judge the first waiting stage whose upstream stages have
        all finished: nothing it reads can change before its turn (no running stage is
        upstream of it, and outs never overlap), so when the running command ends the
        next one starts at once. Judging has no effect on the workspace, so a stage judged
        here that never runs (an earlier failure stops the run) has changed nothing."""
        for name in waiting:
            if name in self.judged:
                return
            blocked = self.scheduler.blocked_by(name)
            if blocked == "wait":
                continue
            stage = self.pipeline.stages[name]
            if blocked or stage.frozen or any("://" in d for d in stage.deps):
                return  # settled at its turn (a URL dep is asked for then, not now)
            with contextlib.suppress(GitflowmlError):  # judged again, and said, at its turn
                self.judged[name] = self.judge(stage, self.lock.stages.get(name))
            return

    def _restore_locked(self, stage: Stage, reasons: tuple[plan.Reason, ...]) -> bool:
        """A stage stale only by its outs ran with the inputs it has now: put back the outs
        its lock entry records, from the cache, rather than run it (a `persist` out would
        otherwise be run on again). The lock entry stays as it is."""
        entry = self.lock.stages.get(stage.name)
        if entry is None or not plan.outs_only(reasons):
            return False
        tracked = [index.as_tracked(e) for e in entry.outs]
        try:
            checkout_entries(self.project, tracked, True, self.scanner)
        except (ObjectMissingError, CheckoutError):
            return False  # not in the cache (gc, or never fetched): run the stage instead
        self.say(StageEvent("restored", stage.name, reasons, message="lock"))
        self._done(StageResult(stage.name, "restored", reasons))
        return True

    def _restore(self, stage: Stage, verdict: Verdict) -> bool:
        """Restore the outs of an earlier run with the same inputs, if the cache has them."""
        key, outs, now, reasons = verdict.run_key, verdict.cached, verdict.now, verdict.reasons
        if key is None or outs is None or {e.path for e in outs} != {o.path for o in stage.outs}:
            return False
        tracked = [index.as_tracked(e) for e in outs]
        if self.options.pull:  # the entry came from the remote: so may its objects
            from gitflowml.remote import fetch, needs  # the remote layer: only with --pull

            remote = needs.remote_of(self.project, None, None)
            fetch.fetch_entries(self.project, remote, tracked, lenient=True)
        try:
            stage_outs.prepare(self.project.root, stage, self.settler)
            checkout_entries(self.project, tracked, True, self.scanner)
        except (ObjectMissingError, CheckoutError):
            return False  # objects gone (gc): run the stage instead
        self._record(stage, now, outs)
        self._run_record(stage, key, time.time_ns(), 0.0, 0, restored=True)
        self.settler.hand_over()
        self.say(StageEvent("restored", stage.name, reasons))
        self._done(StageResult(stage.name, "restored", reasons))
        return True

    def _record(
        self,
        stage: Stage,
        before: plan.Observed,
        outs: tuple[lockfile.Entry, ...],
        later: Later | None = None,
    ) -> None:
        entry = plan.lock_entry(stage, before, outs)
        self.lock = self.lock.with_stage(stage.name, entry)
        self.settler.entry(stage.name, entry, later or [])

    def _run_record(
        self,
        stage: Stage,
        key: str,
        started_ns: int,
        duration_s: float,
        attempts: int,
        restored: bool,
    ) -> None:
        """The run record lineage keeps, made on the background thread."""
        # imported when the first stage ends, not before: the first command starts sooner
        from gitflowml.lineage import record

        make = functools.partial(
            record.new_record,
            stage=stage.name,
            key=key,
            entry=self.lock.stages[stage.name],
            started_ns=started_ns,
            duration_s=duration_s,
            attempts=attempts,
            restored=restored,
        )
        self.settler.record(make)

    def _env(self, stage: Stage) -> dict[str, str]:
        env = {**self.base_env, **dict(stage.env)} if stage.env else self.base_env
        scratch = self.project.dot_dir / "tmp" / "params"
        found = params_mod.effective_file(self.project.root / stage.wdir, scratch, stage.name)
        return env if found is None else {**env, "GITFLOWML_PARAMS_FILE": str(found)}

    # -- finishing ---------------------------------------------------------------------------
    def finish(self, name: str, outcome: RunOutcome, verdict: Verdict) -> bool:
        stage = self.pipeline.stages[name]
        reasons = self.pending.pop(name, ())
        if outcome.exit_code != 0:
            why = (
                f"timed out after {stage.timeout:g} s"
                if outcome.timed_out
                else f"exited with code {outcome.exit_code}"
            )
            self._done(
                StageResult(name, "failed", reasons, outcome.attempts, outcome.duration_s, why)
            )
            return False
        now = self.remote_run is not None
        committed = stage_outs.store(self.project.root, stage, self.storer, self.odb, now)
        if isinstance(committed, str):
            self._done(
                StageResult(
                    name,
                    "failed",
                    reasons,
                    outcome.attempts,
                    outcome.duration_s,
                    f"declared out '{committed}' was not produced",
                )
            )
            return False
        entries, later = committed
        self._record(stage, verdict.now, entries, later)
        started_ns = time.time_ns() - int(outcome.duration_s * 1e9)
        key = verdict.run_key or runcache.key(stage, verdict.now)
        self._run_record(stage, key, started_ns, outcome.duration_s, outcome.attempts, False)
        if self.options.run_cache and runcache.usable(stage):
            self.settler.later(runcache.put, self.project.cache_dir, key, entries)
        self.settler.hand_over()
        self._done(StageResult(name, "ran", reasons, outcome.attempts, outcome.duration_s))
        return True

    def not_run(self, name: str, message: str) -> None:
        self._done(StageResult(name, "not run", message=message))

    def stopping(self) -> bool:
        return self.settler.write_failed

    def kill_all(self) -> None:
        self.executor.kill_all()
        if self.remote_run is not None:
            self.remote_run.cancel_all()

    def _done(self, result: StageResult) -> None:
        self.results[result.name] = result
        if result.outcome not in ("up to date", "frozen"):
            quick.spoil()  # stage output went straight to the terminal; nothing to replay
        if result.outcome == "up to date":
            self.say(StageEvent("up to date", result.name))
        elif result.outcome == "failed":
            self.say(StageEvent("failed", result.name, result.reasons, result.message))
