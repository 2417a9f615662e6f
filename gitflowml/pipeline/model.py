"""The frozen models of a pipeline (`Stage`, `Out`, `ParamRef`, `Pipeline`) and the keys
pipeline.yaml accepts. Built by `pipeline.load`; nothing else makes them from YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitflowml.errors import PipelineError
from gitflowml.pipeline.plotdefs import PlotDef
from gitflowml.util import yamlio

PIPELINE_FILE = "pipeline.yaml"
TOP_KEYS = {"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"}
STAGE_KEYS = {
    "cmd",
    "python",
    "args",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "env",
    "retries",
    "timeout",
    "resources",
    "frozen",
    "always_changed",
    "code_hash",
    "code",
    "desc",
    "meta",
    "vars",
}
OUT_KEYS = {"cache", "persist", "push", "desc", "remote", "type", "labels", "meta"}

OutKind = Literal["out", "metric", "plot"]


@dataclass(frozen=True, slots=True)
class Out:
    path: str  # relative to the repository root
    kind: OutKind = "out"
    cache: bool = True
    persist: bool = False
    push: bool = True
    plot: PlotDef | None = None  # a plot out's definition (x, y, template, …)


@dataclass(frozen=True, slots=True)
class ParamRef:
    file: str  # relative to the repository root
    keys: tuple[str, ...] | None  # None: the whole file


@dataclass(frozen=True, slots=True)
class Resources:
    cpus: float = 1.0
    memory: int | None = None  # bytes
    gpus: int = 0


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    line: int
    cmd: tuple[str, ...] | None = None
    python: str | None = None
    args: tuple[tuple[str, Any], ...] = ()
    wdir: str = "."
    deps: tuple[str, ...] = ()
    params: tuple[ParamRef, ...] = ()
    outs: tuple[Out, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    retries: int = 0
    timeout: float | None = None
    resources: Resources = field(default_factory=Resources)
    frozen: bool = False
    always_changed: bool = False
    code_hash: Literal["ast", "bytes"] = "ast"
    track_code: bool = True
    group: str | None = None  # the foreach/matrix stage this one was expanded from

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


@dataclass(frozen=True, slots=True)
class Pipeline:
    path: Path
    stages: Mapping[str, Stage]  # in file order
    groups: Mapping[str, tuple[str, ...]]  # foreach/matrix name -> expanded stage names
    plots: tuple[PlotDef, ...] = ()  # the top-level `plots:` list

    @property
    def plot_defs(self) -> list[PlotDef]:
        """Every plot: each stage's plot outs, then the top-level list."""
        outs = [o.plot for s in self.stages.values() for o in s.outs if o.plot is not None]
        return [*outs, *self.plots]


class Where:
    """Formats `file:line: stage 'x': problem` messages."""

    def __init__(self, shown: str, doc: yamlio.Located) -> None:
        self.shown = shown
        self.doc = doc

    def error(
        self, problem: str, line: int | None = None, stage: str | None = None
    ) -> PipelineError:
        at = f"{self.shown}:{line}" if line else self.shown
        who = f" stage '{stage}':" if stage else ""
        return PipelineError(f"{at}:{who} {problem}")
