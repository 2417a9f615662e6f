"""A generic DAG scheduler: start every stage whose upstream stages are done, while there is
room (a stage costs its share of the `budget`), and hand each finished one back.

The scheduler knows nothing of what a stage is: `Hooks` judge and start stages, settle
finished ones and say when to stop. Stages are started and settled in the calling thread;
worker threads (the pool handed to `start`) only wait on commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, Literal, Protocol, TypeVar

from gitflowml.executors.local import RunOutcome, StageRun

Running = Future[RunOutcome] | StageRun  # a stage whose commands were started
T = TypeVar("T")
Started = tuple[Running, T, int] | Literal[False] | None
UNFINISHED = ("failed", "not run")  # outcomes that block the stages downstream


class Hooks(Protocol[T]):
    def start(self, pool: ThreadPoolExecutor, name: str, room: int) -> Started[T]:
        """Judge the stage; start it if stale and there is room: (what runs, the payload
        `finish` gets, its cost). False: nothing to run; None: it must wait for room."""

    def finish(self, name: str, outcome: RunOutcome, payload: T) -> bool:
        """Settle a stage whose commands ended; False when it failed."""

    def not_run(self, name: str, message: str) -> None:
        """The stage will not run (an upstream stage did not finish)."""

    def ahead(self, waiting: list[str]) -> None:
        """A command runs: time to prepare the next stage."""

    def stopping(self) -> bool:
        """True once nothing more may start (a write failed)."""

    def kill_all(self) -> None:
        """End every running command (Ctrl-C)."""


class Scheduler(Generic[T]):
    def __init__(
        self,
        upstream: Mapping[str, Iterable[str]],
        selection: set[str],
        outcome: Callable[[str], str | None],
        hooks: Hooks[T],
        budget: int,
        keep_going: bool = False,
    ) -> None:
        """`outcome(name)`: how a stage of this run ended, None while it has not."""
        self.upstream, self.selection, self.outcome = upstream, selection, outcome
        self.hooks, self.budget, self.keep_going = hooks, max(1, budget), keep_going

    def blocked_by(self, name: str) -> str:
        """'' when every upstream stage in this run is done, 'wait' while one is not, or why
        the stage cannot run (an upstream stage failed)."""
        for up in self.upstream[name]:
            ended = self.outcome(up)
            if ended is None:
                if up in self.selection:
                    return "wait"
                continue
            if ended in UNFINISHED:
                return f"upstream stage '{up}' did not finish"
        return ""

    def run(self, order: list[str]) -> None:
        hooks = self.hooks
        waiting = list(order)
        running: dict[Running, tuple[str, T, int]] = {}
        stop = False
        pool = ThreadPoolExecutor(max_workers=self.budget)
        try:
            while waiting or running:
                if not stop:
                    self._launch(pool, waiting, running)
                if stop and not running:
                    for name in waiting:
                        hooks.not_run(name, "an earlier stage failed")
                    return
                if not running:
                    continue
                if not stop:
                    hooks.ahead(waiting)
                finished = _wait_any(running)
                done = [(future, *running.pop(future)) for future in finished]
                stop = stop or hooks.stopping()  # start nothing more
                if not stop and all(_succeeded(f) for f, *_ in done):
                    # start what does not depend on them first: their outs are hashed and
                    # stored while the next command already runs
                    self._launch(pool, waiting, running)
                for future, name, payload, _cost in done:
                    ok = hooks.finish(name, future.result(), payload)
                    stop = stop or (not ok and not self.keep_going)
        except BaseException:  # Ctrl-C: end the running stages before waiting for them
            hooks.kill_all()
            raise
        finally:
            pool.shutdown(wait=True)

    def _launch(
        self,
        pool: ThreadPoolExecutor,
        waiting: list[str],
        running: dict[Running, tuple[str, T, int]],
    ) -> None:
        """Start every waiting stage whose upstream stages are done, while there is room."""
        used = sum(cost for _, _, cost in running.values())
        for name in list(waiting):
            blocked = self.blocked_by(name)
            if blocked == "wait":
                continue
            if blocked:
                waiting.remove(name)
                self.hooks.not_run(name, blocked)
                continue
            started = self.hooks.start(pool, name, self.budget - used)
            if started is None:
                break  # stale, but no room until a running stage finishes
            waiting.remove(name)
            if started is not False:
                future, payload, cost = started
                running[future] = (name, payload, cost)
                used += cost


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
