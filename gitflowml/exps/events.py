"""What experiment commands tell as they go; `cli.render_exps` words them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class ExpEvent:
    """An experiment was `queued`, `started` (in its worktree; `detail`: the log), `saved`
    (`detail`: its commit) or `failed` (`detail`: why)."""

    kind: Literal["queued", "started", "saved", "failed"]
    name: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one experiment ended: `success` (with its commit), `failed` (with why), or
    `queued` (not run yet)."""

    name: str
    state: Literal["success", "failed", "queued"]
    baseline: str
    commit: str | None = None
    error: str = ""
