"""Running queued experiments: each in its own worktree and process, N at a time (`exp run
--run-all`), or one here and now (`--temp`, and what each of those processes runs)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitflowml.api.base import _project
from gitflowml.api.data import checkout
from gitflowml.api.pipeline import repro
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.exps.events import ExpEvent, Outcome
    from gitflowml.exps.queue import Entry
    from gitflowml.repro.events import ReproEvent

ExpSink = Callable[["ExpEvent"], None]


@dataclass(frozen=True, slots=True)
class ReproFlags:
    """The `repro` options an experiment runs with."""

    force: bool = False
    single_stage: bool = False
    downstream: bool = False
    keep_going: bool = False
    run_cache: bool = True
    pull: bool = False
    executor: str | None = None
    scheduler: str | None = None
    env: str | None = None  # the environment (`--env`), kept for a queued run


def repro_kwargs(flags: ReproFlags) -> dict[str, Any]:
    return dict(
        force=flags.force,
        single_stage=flags.single_stage,
        downstream=flags.downstream,
        keep_going=flags.keep_going,
        run_cache=flags.run_cache,
        pull=flags.pull,
        executor=flags.executor,
        scheduler=flags.scheduler,
    )


def run_queue(
    names: Sequence[str] | None = None,
    *,
    jobs: int = 1,
    on_exp: ExpSink | None = None,
    project: Project | None = None,
) -> list[Outcome]:
    """Run the queued entries (or those of `names`), each in its own worktree and process,
    `jobs` at a time. Ctrl-C stops the running ones (kept as failed, with their logs) and
    leaves the rest queued."""
    from gitflowml.exps import queue
    from gitflowml.exps.events import ExpEvent

    proj = _project(project)
    wanted = None if names is None else set(names)
    pending = [
        e
        for e in queue.entries(proj)
        if e.state == "queued" and (wanted is None or e.name in wanted)
    ]
    running: dict[str, subprocess.Popen[bytes]] = {}
    outcomes: list[Outcome] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                entry = pending.pop(0)
                running[entry.name] = _spawn(proj, entry)
                if on_exp is not None:
                    log = queue.log_path(proj, entry.name)
                    on_exp(ExpEvent("started", entry.name, f"log: {log}"))
            time.sleep(0.05)
            for each, proc in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[each]
                outcomes.append(_outcome(proj, each))
                if on_exp is not None:
                    last = outcomes[-1]
                    if last.state == "success":
                        on_exp(ExpEvent("saved", each, last.commit or ""))
                    else:
                        on_exp(ExpEvent("failed", each, last.error))
    except KeyboardInterrupt:
        _stop(proj, running)
        raise
    return outcomes


def _spawn(proj: Project, entry: Entry) -> subprocess.Popen[bytes]:
    from gitflowml.exps import queue

    log = queue.log_path(proj, entry.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        argv = [sys.executable, "-m", "gitflowml", "-C", str(proj.root), "exp", "exec", entry.name]
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def _stop(proj: Project, running: dict[str, subprocess.Popen[bytes]]) -> None:
    from gitflowml.exps import queue

    for proc in running.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    for proc in running.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for each in running:
        entry = queue.get(proj, each)
        if entry.state != "failed":
            queue.fail(proj, entry, "interrupted")


def _outcome(proj: Project, name: str) -> Outcome:
    from gitflowml.exps import queue
    from gitflowml.exps.events import Outcome
    from gitflowml.scm import exprefs

    for entry in queue.entries(proj):
        if entry.name == name:
            if entry.state == "running":  # exited without saying: it died
                entry = queue.fail(proj, entry, "its process ended without saving it")
            return Outcome(name, "failed", entry.baseline, None, entry.error)
    found = exprefs.find(proj.root, name)
    if not found:
        return Outcome(name, "failed", "", None, "it ended without saving the experiment")
    return Outcome(name, "success", found[-1].baseline, found[-1].commit)


def exec_entry(
    name: str,
    *,
    on_event: Callable[[ReproEvent], None] | None = None,
    on_output: Callable[[str, str], None] | None = None,
    project: Project | None = None,
) -> Outcome:
    """Run one queued entry here and now, in its worktree (what a queue process does)."""
    return exec_here(_project(project), name, on_event, on_output, None)


def exec_here(
    proj: Project,
    name: str,
    on_event: Callable[[ReproEvent], None] | None,
    on_output: Callable[[str, str], None] | None,
    on_exp: ExpSink | None,
) -> Outcome:
    from gitflowml import config, index
    from gitflowml.errors import ExperimentError, GitflowmlError
    from gitflowml.exps import queue, save
    from gitflowml.exps.events import ExpEvent, Outcome
    from gitflowml.scm import plumbing

    entry = queue.get(proj, name)
    if entry.state != "queued":
        raise ExperimentError(f"experiment '{name}' is {entry.state}, not queued")
    entry = queue.claim(proj, entry, os.getpid())
    where = queue.worktree(proj, name)
    if on_exp is not None:
        on_exp(ExpEvent("started", name, f"in {where}"))
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        plumbing.worktree_add(proj.root, where, entry.start)
        (where / proj.dot_dir.name).mkdir(exist_ok=True)
        local = proj.dot_dir / config.LOCAL_CONFIG_NAME
        if local.exists():
            shutil.copy2(local, where / proj.dot_dir.name / config.LOCAL_CONFIG_NAME)
        sub = Project.at(where)
        sub = dataclasses.replace(
            sub, config=dataclasses.replace(sub.config, cache_dir=proj.cache_dir)
        )
        flags = ReproFlags(**entry.repro)  # type: ignore[arg-type]
        if flags.env is not None:  # this process runs this one entry: its environment
            os.environ[config.ENV_VARIABLE] = flags.env
        if flags.pull:  # what the worktree needs may be on the remote only
            from gitflowml.api.remote import fetch

            fetch(project=sub)
        checkout(force=True, project=sub)
        repro(
            entry.targets,
            **repro_kwargs(flags),
            on_event=on_event,
            on_output=on_output,
            project=sub,
        )
        loaded = index.load(sub)
        assert loaded is not None
        exp = save.save(sub, loaded[0], entry.baseline, name, entry.message, (), flags.force)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the clean-up is not interrupted
        queue.fail(proj, entry, "interrupted")
        raise
    except (GitflowmlError, OSError) as exc:
        queue.fail(proj, entry, str(exc))
        return Outcome(name, "failed", entry.baseline, None, str(exc))
    queue.done(proj, name)
    return Outcome(name, "success", entry.baseline, exp.commit)
