"""The generic DAG scheduler on its own: fake hooks whose "commands" are futures, so order,
room, blocking and stopping can be checked without any stage or process."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from gitflowml.executors.local import RunOutcome
from gitflowml.repro.schedule import Scheduler, Started


@dataclass
class FakeHooks:
    """Every stage 'runs' in the pool: exit code from `codes` (default 0), cost from `costs`."""

    codes: dict[str, int] = field(default_factory=dict)
    costs: dict[str, int] = field(default_factory=dict)
    up_to_date: set[str] = field(default_factory=set)
    fail_writes_after: str | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    running_now: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    killed: bool = False
    write_failed: bool = False

    def start(self, pool: ThreadPoolExecutor, name: str, room: int) -> Started[str]:
        if name in self.up_to_date:
            self.outcomes[name] = "up to date"
            return False
        cost = self.costs.get(name, 1)
        if cost > room:
            return None
        self.started.append(name)
        code = self.codes.get(name, 0)

        def command() -> RunOutcome:  # overlaps with the others the scheduler started
            with self.lock:
                self.running_now += cost
                self.peak = max(self.peak, self.running_now)
            time.sleep(0.05)
            with self.lock:
                self.running_now -= cost
            if name == self.fail_writes_after:
                self.write_failed = True  # as a background write that failed would
            return RunOutcome(code, 1, 0.0, False)

        future: Future[RunOutcome] = pool.submit(command)
        return future, f"payload-{name}", cost

    def finish(self, name: str, outcome: RunOutcome, payload: str) -> bool:
        assert payload == f"payload-{name}"
        self.finished.append(name)
        self.outcomes[name] = "ran" if outcome.exit_code == 0 else "failed"
        return outcome.exit_code == 0

    def not_run(self, name: str, message: str) -> None:
        self.outcomes[name] = "not run"
        self.events.append((name, message))

    def ahead(self, waiting: list[str]) -> None:
        pass

    def stopping(self) -> bool:
        return self.write_failed

    def kill_all(self) -> None:
        self.killed = True


def scheduler(
    upstream: dict[str, list[str]], hooks: FakeHooks, budget: int = 1, keep_going: bool = False
) -> Scheduler[str]:
    return Scheduler(
        upstream, set(upstream), hooks.outcomes.get, hooks, budget, keep_going=keep_going
    )


CHAIN = {"a": [], "b": ["a"], "c": ["b"]}
FAN = {"root": [], "x": ["root"], "y": ["root"], "z": ["root"], "join": ["x", "y", "z"]}


def test_stages_start_after_their_upstream_stages() -> None:
    hooks = FakeHooks()
    scheduler(CHAIN, hooks).run(["a", "b", "c"])
    assert hooks.started == ["a", "b", "c"]
    assert hooks.outcomes == {"a": "ran", "b": "ran", "c": "ran"}


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_no_more_than_the_budget_runs_at_once(budget: int) -> None:
    hooks = FakeHooks()
    scheduler(FAN, hooks, budget).run(["root", "x", "y", "z", "join"])
    assert hooks.peak <= budget
    assert hooks.peak == budget  # and it does use the room it has
    assert hooks.started[0] == "root"
    assert hooks.started[-1] == "join"
    assert set(hooks.outcomes.values()) == {"ran"}


def test_a_stage_that_costs_more_than_the_room_waits() -> None:
    hooks = FakeHooks(costs={"x": 2})
    scheduler(FAN, hooks, budget=2).run(["root", "x", "y", "z", "join"])
    assert hooks.peak <= 2
    assert set(hooks.outcomes.values()) == {"ran"}


def test_a_failure_blocks_what_is_downstream_and_stops_the_rest() -> None:
    hooks = FakeHooks(codes={"a": 1})
    scheduler(CHAIN, hooks).run(["a", "b", "c"])
    assert hooks.outcomes["a"] == "failed"
    assert hooks.outcomes["b"] == hooks.outcomes["c"] == "not run"
    assert hooks.started == ["a"]


def test_keep_going_runs_what_does_not_depend_on_the_failure() -> None:
    upstream: dict[str, list[str]] = {"bad": [], "after_bad": ["bad"], "good": []}
    hooks = FakeHooks(codes={"bad": 3})
    scheduler(upstream, hooks, keep_going=True).run(["bad", "after_bad", "good"])
    assert hooks.outcomes == {"bad": "failed", "good": "ran", "after_bad": "not run"}
    assert ("after_bad", "upstream stage 'bad' did not finish") in hooks.events


def test_without_keep_going_the_waiting_stages_are_not_run() -> None:
    upstream: dict[str, list[str]] = {"bad": [], "good": []}
    hooks = FakeHooks(codes={"bad": 3})
    scheduler(upstream, hooks).run(["bad", "good"])
    assert hooks.outcomes == {"bad": "failed", "good": "not run"}
    assert ("good", "an earlier stage failed") in hooks.events


def test_stopping_starts_nothing_more() -> None:
    hooks = FakeHooks(fail_writes_after="a")
    scheduler(CHAIN, hooks).run(["a", "b", "c"])
    assert hooks.started == ["a"]
    assert hooks.outcomes["b"] == "not run"


def test_up_to_date_stages_do_not_block() -> None:
    hooks = FakeHooks(up_to_date={"a"})
    scheduler(CHAIN, hooks).run(["a", "b", "c"])
    assert hooks.started == ["b", "c"]
    assert hooks.outcomes["a"] == "up to date"


def test_an_upstream_stage_outside_the_selection_does_not_wait() -> None:
    hooks = FakeHooks()
    Scheduler(CHAIN, {"b", "c"}, hooks.outcomes.get, hooks, 1).run(["b", "c"])
    assert hooks.started == ["b", "c"]


def test_an_interrupt_ends_the_running_commands() -> None:
    class Interrupted(FakeHooks):
        def finish(self, name: str, outcome: RunOutcome, payload: str) -> bool:
            raise KeyboardInterrupt

    hooks = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        scheduler(CHAIN, hooks).run(["a", "b", "c"])
    assert hooks.killed
