"""`repro`: run the stale stages of the pipeline in dependency order, `jobs` at a time.

Each stage is judged once its upstream stages have finished, against what they left
behind, so a rerun that produces identical outputs leaves its downstream stages alone
(early cutoff). Where it can be, that is done while another stage's command still runs.
Everything that reads the state cache and the workspace happens in the calling thread;
worker threads only wait on commands. What only writes (the objects of small outs, the
stage's line in the lock journal, its run-cache entry and run record) is handed, in that
order, to one background thread, so the next command need not wait for it: a journal line
is written only once its objects are in the cache. The lock is rewritten once at the end,
after the background thread has finished.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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
    StageRun,
    python_command,
)
from gitflowml.pipeline import lockfile, observe, plan, runcache
from gitflowml.pipeline.codedeps import CodeAnalyzer
from gitflowml.pipeline.graph import Graph
from gitflowml.pipeline.model import Pipeline, Stage
from gitflowml.project import Project
from gitflowml.storage import ignore
from gitflowml.storage.checkout import checkout_entries
from gitflowml.storage.odb import Later, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.workspace import DirInfo, FileInfo, Scanner
from gitflowml.util import fsutil

if TYPE_CHECKING:
    from gitflowml.lineage.store import PendingLog

Running = Future[RunOutcome] | StageRun  # a stage whose commands were started
Outcome = Literal["ran", "restored", "up to date", "failed", "not run", "frozen", "would run"]
Event = Callable[[str], None]


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
    reasons: tuple[plan.Reason, ...] = ()
    attempts: int = 0
    duration_s: float = 0.0
    message: str = ""


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What judging a stage found: its inputs now, why it is stale (nothing: up to date),
    and, where the run-cache may serve it, its key and the entry found under it."""

    now: plan.Observed
    reasons: tuple[plan.Reason, ...]
    run_key: str | None = None
    cached: tuple[lockfile.Entry, ...] | None = None


@dataclass(slots=True)
class ReproReport:
    results: list[StageResult] = field(default_factory=list)
    commit: str | None = None  # with repro --commit: the commit made

    @property
    def failed(self) -> list[StageResult]:
        return [r for r in self.results if r.outcome == "failed"]


def select(pipeline: Pipeline, graph: Graph, options: ReproOptions) -> list[str]:
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


def run(
    project: Project,
    options: ReproOptions,
    on_event: Event | None = None,
    on_output: OutputSink | None = None,
) -> ReproReport:
    say = on_event or (lambda _msg: None)
    found = index.load(project)
    if found is None:
        from gitflowml.errors import PipelineError

        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    pipeline, graph = found
    index.refuse_added_outs(project, pipeline)
    with repolock.hold(project.dot_dir, options.wait, say):
        if options.pull:
            from gitflowml.remote import fetch

            lock = lockfile.load_current(*index.lock_paths(project))
            chosen = [pipeline.stages[n] for n in select(pipeline, graph, options)]
            moved = fetch.prefetch_for_repro(project, chosen, lock)
            say(f"Fetched {moved} objects from the remote")
        return _Run(project, pipeline, graph, options, say, on_output).go()


TRASH_DIR = "trash"  # in .gitflowml/tmp


class _Run:
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
            self.remote_run = RemoteRun(project, options.scheduler, max(1, options.jobs), say)
        self.report = ReproReport()
        self.results: dict[str, StageResult] = {}
        self.order = select(pipeline, graph, options)
        self.selection = set(self.order)
        self.pending: dict[str, tuple[plan.Reason, ...]] = {}  # reasons of running stages
        self.judged: dict[str, _Verdict] = {}  # judged ahead, while a command ran
        self.to_ignore: list[Path] = []  # cached outs, gitignored once the run ends
        root = str(project.root)
        python_path = os.environ.get("PYTHONPATH")
        self.base_env = {  # what every stage's command sees, before its own `env`
            **os.environ,
            "GITFLOWML_ROOT": root,
            "PYTHONPATH": root + (os.pathsep + python_path if python_path else ""),
        }

    def go(self) -> ReproReport:
        state = open_state(self.project)
        self.scanner = Scanner(state, self.project.jobs)  # observes inputs, reads only
        self.odb = local_odb(self.project)
        self.storer = Scanner(state, self.project.jobs, store=self.odb)  # commits outs
        self.code = CodeAnalyzer(self.project.root, self.scanner, state)
        # writes off the critical path, in order: the next stage need not wait for them
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gitflowml-write")
        self.trash = str(self.journal.parent / TRASH_DIR)  # old outs, until deleted
        if os.path.isdir(self.trash):  # left by a run that was killed
            self.background.submit(_empty_trash, self.trash)
        self.writes: list[Future[object]] = []
        self.queued: list[tuple[Callable[..., object], tuple[Any, ...]]] = []  # one stage's
        self.write_failed = False
        self.records: PendingLog | None = None  # made with the first record
        self.started_ns = time.time_ns()
        self.journal_writer = lockfile.JournalWriter(self.journal)
        try:
            with state.hold():  # one write of the hash state at the end, not one per stage
                state.read_ahead(self._state_keys())
                self._schedule(self.order)  # on Ctrl-C it ends the running stages itself
        finally:
            self.executor.close()
            self._hand_over()  # anything a stage left queued when the run stopped
            self.background.shutdown(wait=True)  # each write is atomic
            with contextlib.suppress(OSError):
                os.rmdir(self.trash)  # empty by now, unless a deletion failed
            if self.records is not None:
                self.records.close()
            self.journal_writer.close()
            failed = next((e for f in self.writes if (e := f.exception()) is not None), None)
            if self.remote_run is not None:
                self.remote_run.close()
            ignore.ensure_all_ignored(self.to_ignore)  # one write per directory, at the end
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

    # -- scheduling ------------------------------------------------------------------------
    def _schedule(self, order: list[str]) -> None:
        budget = max(1, self.options.jobs)
        waiting = list(order)
        running: dict[Running, tuple[str, _Verdict, int]] = {}
        stop = False
        pool = ThreadPoolExecutor(max_workers=budget)
        try:
            while waiting or running:
                if not stop:
                    self._launch(pool, budget, waiting, running)
                if stop and not running:
                    for name in waiting:
                        self._done(StageResult(name, "not run", message="an earlier stage failed"))
                    return
                if not running:
                    continue
                if not stop:
                    self._judge_ahead(waiting)
                finished = _wait_any(running)
                done = [(future, *running.pop(future)) for future in finished]
                stop = stop or self.write_failed  # start nothing more
                if not stop and all(_succeeded(f) for f, *_ in done):
                    # start what does not depend on them first: their outs are hashed and
                    # stored while the next command already runs
                    self._launch(pool, budget, waiting, running)
                for future, name, verdict, _cost in done:
                    ok = self._finish(name, future.result(), verdict)
                    stop = stop or (not ok and not self.options.keep_going)
        except BaseException:  # Ctrl-C: end the running stages before waiting for them
            self.executor.kill_all()
            if self.remote_run is not None:
                self.remote_run.cancel_all()
            raise
        finally:
            pool.shutdown(wait=True)

    def _launch(
        self,
        pool: ThreadPoolExecutor,
        budget: int,
        waiting: list[str],
        running: dict[Running, tuple[str, _Verdict, int]],
    ) -> None:
        """Start every waiting stage whose upstream stages are done, while there is room."""
        used = sum(cost for _, _, cost in running.values())
        for name in list(waiting):
            blocked = self._blocked_by(name)
            if blocked == "wait":
                continue
            if blocked:
                waiting.remove(name)
                self._done(StageResult(name, "not run", message=blocked))
                continue
            started = self._start(pool, name, budget - used)
            if started is None:
                break  # stale, but no room until a running stage finishes
            waiting.remove(name)
            if started is not False:
                future, verdict, cost = started
                running[future] = (name, verdict, cost)
                used += cost

    def _blocked_by(self, name: str) -> str:
        """'' when every upstream stage in this run is done, 'wait' while one is not, or why
        the stage cannot run (an upstream stage failed)."""
        for up in self.graph.upstream[name]:
            result = self.results.get(up)
            if result is None:
                if up in self.selection:
                    return "wait"
                continue
            if result.outcome in ("failed", "not run"):
                return f"upstream stage '{up}' did not finish"
        return ""

    def _start(
        self, pool: ThreadPoolExecutor, name: str, room: int
    ) -> tuple[Running, _Verdict, int] | Literal[False] | None:
        """Judge the stage; start it if stale and there is room. False: nothing to run;
        None: stale, but it must wait for room."""
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
        cost = min(room_needed(stage), max(1, self.options.jobs))
        if cost > room and not self.options.dry:
            return None  # judged once there is room: upstream outputs may still change
        verdict = self.judged.pop(name, None) or self._judge(stage)
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
        if self._restore(stage, verdict):
            return False
        self.say(f"Running stage '{name}': {'; '.join(r.describe() for r in reasons)}")
        self._prepare_outs(stage)
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
            _commands(stage),
            self.project.root / stage.wdir,
            self._env(stage),
            stage.timeout,
            stage.retries,
        )
        if self.options.jobs <= 1:  # waited for in this thread: no hand-over per stage
            return self.executor.start_stage(*args), verdict, cost
        started = self.executor.start_stage(*args)  # its first command runs from here on
        return pool.submit(started.result), verdict, cost

    def _judge(self, stage: Stage) -> _Verdict:
        """Observe the stage's inputs and outs, and say why it is stale, if it is. Reads
        only (the hash state aside), so it can be done ahead of the stage's turn."""
        now = observe.observe(self.project.root, [stage], self.scanner, self.code)
        reasons = plan.reasons(stage, self.lock.stages.get(stage.name), now)
        if self.options.force and not reasons:
            reasons = (plan.Reason("forced"),)
        if not reasons or not self.options.run_cache or not runcache.usable(stage):
            return _Verdict(now, reasons)
        key = runcache.key(stage, now)
        cached = None if self.options.force else runcache.get(self.project.cache_dir, key)
        return _Verdict(now, reasons, key, cached)

    def _judge_ahead(self, waiting: list[str]) -> None:
        """While a command runs, judge the first waiting stage whose upstream stages have
        all finished: nothing it reads can change before its turn (no running stage is
        upstream of it, and outs never overlap), so when the running command ends the
        next one starts at once. Judging has no effect on the workspace, so a stage judged
        here that never runs (an earlier failure stops the run) has changed nothing."""
        for name in waiting:
            if name in self.judged:
                return
            blocked = self._blocked_by(name)
            if blocked == "wait":
                continue
            stage = self.pipeline.stages[name]
            if blocked or stage.frozen or any("://" in d for d in stage.deps):
                return  # settled at its turn (a URL dep is asked for then, not now)
            with contextlib.suppress(GitflowmlError):  # judged again, and said, at its turn
                self.judged[name] = self._judge(stage)
            return

    def _restore(self, stage: Stage, verdict: _Verdict) -> bool:
        """Restore the outs of an earlier run with the same inputs, if the cache has them."""
        key, outs, now, reasons = verdict.run_key, verdict.cached, verdict.now, verdict.reasons
        if key is None or outs is None or {e.path for e in outs} != {o.path for o in stage.outs}:
            return False
        tracked = [index.as_tracked(e) for e in outs]
        if self.options.pull:  # the entry came from the remote: so may its objects
            from gitflowml.remote import fetch, needs

            remote = needs.remote_of(self.project, None, None)
            fetch.fetch_entries(self.project, remote, tracked, lenient=True)
        try:
            self._prepare_outs(stage)
            checkout_entries(self.project, tracked, True, self.scanner)
        except (ObjectMissingError, CheckoutError):
            return False  # objects gone (gc): run the stage instead
        self.to_ignore.extend(self.project.root / o.path for o in stage.outs if o.cache)
        self._record(stage, now, outs)
        self._run_record(stage, key, time.time_ns(), 0.0, 0, restored=True)
        self._hand_over()
        self.say(
            f"Restored stage '{stage.name}' from the run-cache "
            f"({'; '.join(r.describe() for r in reasons)})"
        )
        self._done(StageResult(stage.name, "restored", reasons))
        return True

    def _later(self, fn: Callable[..., object], *args: Any) -> None:
        """Queue a write of the stage being settled; `_hand_over` sends the stage's writes."""
        self.queued.append((fn, args))

    def _hand_over(self) -> None:
        """The queued writes of one stage go to the background thread as one task, run in
        order: if one fails (its objects could not be stored), the rest are not done."""
        if self.queued:
            writes, self.queued = self.queued, []
            self.writes.append(self.background.submit(_in_order, writes))

    def _record(
        self,
        stage: Stage,
        before: plan.Observed,
        outs: tuple[lockfile.Entry, ...],
        later: Later | None = None,
    ) -> None:
        entry = lockfile.StageLock(
            cmd=stage.cmd,
            python=stage.python,
            args=stage.args,
            deps=tuple(e for d in stage.deps if (e := before.paths.get(d)) is not None),
            params=plan.param_values(stage, before),
            code=before.code.get(stage.name, ()),
            outs=outs,
        )
        self.lock = self.lock.with_stage(stage.name, entry)
        self._later(self._settle, later or [], stage.name, entry)

    def _settle(self, later: Later, name: str, entry: lockfile.StageLock) -> None:
        """The background half of `_record`: objects first, then the journal line."""
        try:
            self.odb.write_later(later)
        except OSError as exc:
            self.write_failed = True
            raise StageFailedError(
                f"stage '{name}' ran, but its outs could not be stored in the cache "
                f"({exc.strerror or exc}: {exc.filename or self.odb.root}); fix that and "
                "run repro again: the stage will run again"
            ) from exc
        self.journal_writer.append(name, entry)

    def _run_record(
        self,
        stage: Stage,
        key: str,
        started_ns: int,
        duration_s: float,
        attempts: int,
        restored: bool,
    ) -> None:
        """The run record lineage keeps (pending until `record` attaches it to a commit).
        Made and written on the background thread, like run-cache entries: the run waits
        for it at the end, not the next stage."""
        from gitflowml.lineage import record  # not before the first stage ends: its start is sooner

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
        self._later(lambda: self._pending_log().append(make()))

    def _pending_log(self) -> PendingLog:
        if self.records is None:
            from gitflowml.lineage import store

            self.records = store.PendingLog(self.project.dot_dir, self.started_ns)
        return self.records

    def _prepare_outs(self, stage: Stage) -> None:
        root = self.project.root
        for out in stage.outs:
            path = f"{root}/{out.path}"
            if not out.persist:  # renamed aside now, deleted on the background thread
                trashed = fsutil.move_aside(path, self.trash)
                if trashed is not None:
                    self._later(_discard, trashed)  # with the next writes handed over
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):  # a stat: cheaper than mkdir's FileExistsError
                os.makedirs(parent, exist_ok=True)

    def _env(self, stage: Stage) -> dict[str, str]:
        return {**self.base_env, **dict(stage.env)} if stage.env else self.base_env

    # -- finishing ---------------------------------------------------------------------------
    def _finish(self, name: str, outcome: RunOutcome, verdict: _Verdict) -> bool:
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
        committed = self._commit_outs(stage)
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
        outs, later = committed
        self._record(stage, verdict.now, outs, later)
        started_ns = time.time_ns() - int(outcome.duration_s * 1e9)
        key = verdict.run_key or runcache.key(stage, verdict.now)
        self._run_record(stage, key, started_ns, outcome.duration_s, outcome.attempts, False)
        if self.options.run_cache and runcache.usable(stage):
            self._later(runcache.put, self.project.cache_dir, key, outs)
        self._hand_over()
        self._done(StageResult(name, "ran", reasons, outcome.attempts, outcome.duration_s))
        return True

    def _commit_outs(self, stage: Stage) -> tuple[tuple[lockfile.Entry, ...], Later | None] | str:
        """Hash the outs; large files are stored now, small ones are returned for
        `_settle` (on Dask, everything is in the cache already: the next stage uploads
        from it). The path of an out that is not there, if one is not."""
        entries = []
        later: Later | None = [] if self.remote_run is None else None
        # every out is stored, cache: false ones too (they are small, and the run-cache
        # restores them); only cached outs are gitignored, the others stay in git
        infos = self.storer.scan_many([self.project.root / o.path for o in stage.outs], later=later)
        paths = (o.path for o, info in zip(stage.outs, infos, strict=True) if info is None)
        absent = next(paths, None)
        if absent is not None:
            return absent
        for out, info in zip(stage.outs, infos, strict=True):
            if isinstance(info, DirInfo):
                self.odb.add_manifest(info.files, later)
                entries.append(
                    lockfile.Entry(out.path, info.oid, info.files.size, info.files.nfiles)
                )
            elif isinstance(info, FileInfo):
                entries.append(lockfile.Entry(out.path, info.oid, info.size))
            if out.cache:
                self.to_ignore.append(self.project.root / out.path)
        return tuple(entries), later

    def _done(self, result: StageResult) -> None:
        self.results[result.name] = result
        if result.outcome not in ("up to date", "frozen"):
            quick.spoil()  # stage output went straight to the terminal; nothing to replay
        if result.outcome == "up to date":
            self.say(f"Stage '{result.name}' is up to date")
        elif result.outcome == "failed":
            self.say(f"Stage '{result.name}' failed: {result.message}")


class RemoteRun:
    """The client side of `--executor dask`: inputs up to the remote, the stage to a
    worker, outs back into the cache and the workspace."""

    def __init__(self, project: Project, scheduler: str | None, workers: int, say: Event) -> None:
        from gitflowml.executors.dask import DaskExecutor
        from gitflowml.remote.fs import open_remote

        self.project = project
        self.config = project.config.remote(None)
        self.remote = open_remote(self.config, project.root, 4 * project.jobs)
        self.odb = local_odb(project)
        say(f"Starting Dask ({scheduler or f'a local cluster of {workers} workers'})")
        self.dask = DaskExecutor(self.config, scheduler, workers)
        self.say = say

    def close(self) -> None:
        self.dask.close()

    def cancel_all(self) -> None:
        self.dask.kill_all()

    def prepare(
        self, stage: Stage, now: plan.Observed, storer: Scanner
    ) -> tuple[dict[str, Any], dict[str, float]]:
        from dataclasses import asdict

        from gitflowml.remote.fs import object_key

        root = self.project.root
        inputs: list[tuple[str, str, bool]] = []
        files: dict[str, Path] = {}  # object key -> local object
        local = [d for d in stage.deps if "://" not in d and now.paths.get(d) is not None]
        extra = sorted(
            {e.path for e in now.code.get(stage.name, ())} | {p.file for p in stage.params}
        )
        extra = [p for p in extra if (root / p).is_file() and p not in local]
        for path, info in zip(
            local + extra, storer.scan_many([root / p for p in local + extra]), strict=True
        ):
            # the hash state may know a file no command ever stored (a script in git)
            if isinstance(info, DirInfo):
                assert info.manifest is not None
                oid = self.odb.add_manifest(info.manifest)
                files[object_key(oid, True)] = self.odb.path(oid, True)
                for row in info.manifest.entries:
                    self._store(root / path / row.relpath, row.oid)
                    files[object_key(row.oid)] = self.odb.path(row.oid)
                inputs.append((path, oid, True))
            elif isinstance(info, FileInfo):
                self._store(root / path, info.oid)
                files[object_key(info.oid)] = self.odb.path(info.oid)
                inputs.append((path, info.oid, False))
        there = self.remote.has(sorted(files))
        todo = sorted(k for k in files if k not in there and not k.endswith(".dir"))
        self.remote.upload([(files[k], k) for k in todo])
        manifests = sorted(k for k in files if k not in there and k.endswith(".dir"))
        self.remote.upload([(files[k], k) for k in manifests])  # after their files
        spec = {
            "name": stage.name,
            "cmd": list(stage.cmd or ()),
            "python": stage.python,
            "args_json": json.dumps(stage.kwargs),
            "wdir": stage.wdir,
            "env": dict(stage.env),
            "timeout": stage.timeout,
            "retries": stage.retries,
            "inputs": inputs,
            "outs": [o.path for o in stage.outs],
            "remote": asdict(self.config),
        }
        res = stage.resources
        resources = self.dask.check_fits(res.cpus, res.memory, res.gpus)
        return spec, resources

    def _store(self, path: Path, oid: str) -> None:
        if not self.odb.exists(oid):
            stored, _ = self.odb.add_file(str(path))
            if stored != oid:
                raise StageFailedError(f"{path} changed while the stage was being sent; retry")

    def run(self, stage: Stage, spec: dict[str, Any], resources: dict[str, float]) -> RunOutcome:
        from gitflowml.remote import fetch

        try:
            result = self.dask.run(spec, resources, stage.retries)
        except Exception as exc:
            raise StageFailedError(
                f"stage '{stage.name}' could not finish on the Dask cluster "
                f"({type(exc).__name__}: {exc}); it was tried {stage.retries + 1} time(s); "
                "raise 'retries' or check the workers"
            ) from exc
        for line in result.get("output", []) if result["exit_code"] else []:
            self.say(f"[{stage.name}] {line}")
        outs = [lockfile.Entry(p, oid, size, nfiles) for p, oid, size, nfiles in result["outs"]]
        if outs:
            tracked = [index.as_tracked(e) for e in outs]
            fetch.fetch_entries(self.project, self.remote, tracked)
            for entry in outs:
                self._put(entry)
        return RunOutcome(
            result["exit_code"], result["attempts"], result["duration_s"], result["timed_out"]
        )

    def _put(self, entry: lockfile.Entry) -> None:
        """An out, fetched into the cache, into the workspace (no hash state: any thread)."""
        types = self.project.config.cache_types
        dest = self.project.root / entry.path
        fsutil.remove(dest)
        if entry.nfiles is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.odb.materialise(entry.oid, dest, types, False, True)
            return
        for row in self.odb.read_manifest(entry.oid).entries:
            target = dest / row.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            self.odb.materialise(row.oid, target, types, row.isexec, True)


def _discard(trashed: str) -> None:
    """Delete an old out moved aside; one left behind (an error, a crash) goes with the
    next run's `_empty_trash`."""
    with contextlib.suppress(OSError):
        fsutil.remove(trashed)


def _empty_trash(trash: str) -> None:
    with contextlib.suppress(OSError):
        for name in os.listdir(trash):
            _discard(os.path.join(trash, name))


def _in_order(writes: list[tuple[Callable[..., object], tuple[Any, ...]]]) -> None:
    for fn, args in writes:
        fn(*args)


def _wait_any(running: dict[Running, Any]) -> set[Running]:
    """The runs that have ended, at least one: a stage started in this thread (one at a
    time, with -j 1) is waited for here; futures of worker threads as they finish."""
    inline = [r for r in running if isinstance(r, StageRun)]
    if inline:
        inline[0].exception()  # blocks until it ends; never raises
        return {inline[0]}
    futures = [r for r in running if isinstance(r, Future)]
    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    return set(done)


def _succeeded(future: Running) -> bool:
    return future.exception() is None and future.result().exit_code == 0


def room_needed(stage: Stage) -> int:
    return max(1, math.ceil(stage.resources.cpus))


def _commands(stage: Stage) -> list[list[str] | str]:
    if stage.python is not None:
        return [python_command(stage.python, json.dumps(stage.kwargs))]
    return list(stage.cmd or ())
