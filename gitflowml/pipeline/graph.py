"""The pure stage graph: who depends on whom, in what order, and cycles.

Stage B depends on stage A when one of B's deps is one of A's outs, lies inside one, or
contains one (a dep on `data/` waits for the stage that writes `data/x`).
"""

from __future__ import annotations

import bisect
import graphlib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gitflowml.errors import PipelineError
from gitflowml.pipeline.model import Pipeline, Stage


@dataclass(frozen=True, slots=True)
class Graph:
    stages: Mapping[str, Stage]
    upstream: Mapping[str, frozenset[str]]  # stage -> the stages it needs

    def downstream(self, names: Iterable[str]) -> set[str]:
        """`names` and every stage that needs them, directly or not."""
        needed_by: dict[str, set[str]] = {n: set() for n in self.stages}
        for name, ups in self.upstream.items():
            for up in ups:
                needed_by[up].add(name)
        return _closure(names, needed_by)

    def upstream_of(self, names: Iterable[str]) -> set[str]:
        """`names` and every stage they need, directly or not."""
        return _closure(names, self.upstream)

    def outs_view(self, names: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """The graph of outs instead of stages (DVC's `dag --outs`): each out of `names`,
        and an edge from an upstream stage's out to every out of a stage that reads it."""
        nodes = [o.path for n in names for o in self.stages[n].outs]
        chosen = set(names)
        edges: dict[tuple[str, str], None] = {}
        for name in names:
            stage = self.stages[name]
            for up in (u for u in names if u in self.upstream[name] and u in chosen):
                read = [
                    o.path
                    for o in self.stages[up].outs
                    if any(_overlap(d, o.path) for d in stage.deps)
                ]
                edges.update(((a, b.path), None) for a in read for b in stage.outs)
        return nodes, list(edges)

    def order(self, names: Iterable[str] | None = None) -> list[str]:
        """A topological order of `names` (default: all), ties in pipeline file order."""
        chosen = set(self.stages if names is None else names)
        position = {n: i for i, n in enumerate(self.stages)}
        sorter = graphlib.TopologicalSorter(
            {n: [u for u in self.upstream[n] if u in chosen] for n in chosen}
        )
        sorter.prepare()
        out: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=position.__getitem__)
            out.extend(ready)
            sorter.done(*ready)
        return out


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _closure(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def build(pipeline: Pipeline) -> Graph:
    """The graph of `pipeline`; a PipelineError prints any cycle as `a -> b -> a`."""
    producer: dict[str, str] = {}
    for stage in pipeline.stages.values():
        for out in stage.outs:
            producer[out.path] = stage.name
    sorted_outs = sorted(producer)
    upstream: dict[str, frozenset[str]] = {}
    for stage in pipeline.stages.values():
        ups: set[str] = set()
        for dep in stage.deps:
            ups.update(_producers_of(dep, producer, sorted_outs))
        upstream[stage.name] = frozenset(ups)
    graph = Graph(stages=pipeline.stages, upstream=upstream)
    try:
        graphlib.TopologicalSorter(upstream).prepare()
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))  # graphlib lists it against the arrows
        shown = posixpath.basename(str(pipeline.path))
        raise PipelineError(
            f"{shown}: stages form a cycle: {' -> '.join(cycle)}; a stage cannot depend, "
            "directly or not, on its own outputs"
        ) from None
    return graph


def _producers_of(dep: str, producer: Mapping[str, str], sorted_outs: list[str]) -> set[str]:
    found = set()
    parent = dep
    while parent and parent != ".":  # the dep itself, or a directory containing it
        if parent in producer:
            found.add(producer[parent])
        parent = posixpath.dirname(parent)
    prefix = dep.rstrip("/") + "/"  # outs inside the dep
    i = bisect.bisect_left(sorted_outs, prefix)
    while i < len(sorted_outs) and sorted_outs[i].startswith(prefix):
        found.add(producer[sorted_outs[i]])
        i += 1
    return found
