"""What a run tells as it goes: typed events, which `cli.render` words. Light to import
(the CLI needs the types before any pipeline module is loaded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gitflowml.pipeline.plan import Reason


@dataclass(frozen=True, slots=True)
class StageEvent:
    """A stage's news during a run: it starts (`running`, with why), was `restored` from
    the run-cache (`message` "lock": its outs from the cache, as the lock records them),
    is `up to date`, `failed` (`message` says how), or printed a line of `output` (on a
    Dask worker; locally it prints straight to the terminal)."""

    kind: Literal["running", "restored", "up to date", "failed", "output"]
    stage: str
    reasons: tuple[Reason, ...] = ()
    message: str = ""


@dataclass(frozen=True, slots=True)
class RunEvent:
    """The run's news: `waiting` for another command's repository lock (`detail`: its
    pid), `fetched` `count` objects first (--pull), starting `dask` (`detail`: the
    scheduler's address, empty for a local cluster of `count` workers), a `cache: false`
    out that git ignores (`ignored`, `detail`: its path; a warning)."""

    kind: Literal["waiting", "fetched", "dask", "ignored"]
    count: int = 0
    detail: str = ""


ReproEvent = StageEvent | RunEvent
Event = Callable[[ReproEvent], None]
