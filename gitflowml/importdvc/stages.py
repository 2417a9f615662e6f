"""Stages checked against `dvc.lock`: a stage whose command, deps, params and outs are what
DVC recorded (DVC's md5 of the workspace, each path hashed once) is locked as it is, so
nothing reruns after the switch. An out that is missing is restored from DVC's cache or
remote first. A stage that does not match is left stale, with the reason."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflowml import index
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.model import Stage
from gitflowml.storage import dvc

Readers = Callable[[], list[dvc.Reader]]  # opened when first needed


@dataclass
class Checked:
    matching: list[str] = field(default_factory=list)
    stale: list[tuple[str, str]] = field(default_factory=list)  # stage, why
    restored: list[str] = field(default_factory=list)  # outs written from DVC's storage


class _Workspace:
    """DVC's hashes of workspace paths and the params files' values, each read once."""

    def __init__(self, root: Path, readers: Readers) -> None:
        self.root, self._readers = root, readers
        self._md5: dict[tuple[str, bool], str | None] = {}
        self._params: dict[str, dict[str, Any] | None] = {}
        self._opened: list[dvc.Reader] | None = None

    def md5(self, entry: dvc.Locked) -> str | None:
        key = (entry.path, entry.legacy)
        if key not in self._md5:
            self._md5[key] = dvc.md5_of(self.root / entry.path, entry.legacy)
        return self._md5[key]

    def restore(self, entry: dvc.Locked) -> bool:
        if self._opened is None:
            self._opened = self._readers()
        if not dvc.restore(self.root, entry, self._opened):
            return False
        self._md5.pop((entry.path, entry.legacy), None)
        return True

    def params(self, file: str) -> dict[str, Any] | None:
        if file not in self._params:
            path = self.root / file
            self._params[file] = params_mod.load(path, file) if path.is_file() else None
        return self._params[file]


def check(
    root: Path,
    found: index.Loaded,
    locked: Mapping[str, dvc.LockedStage],
    skip: set[str],
    readers: Readers,
) -> Checked:
    """Check every stage not in `skip`, upstream first (an out restored for one stage is
    a dep of the next)."""
    pipeline, graph = found
    ws = _Workspace(root, readers)
    result = Checked()
    for name in graph.order():
        if name in skip:
            continue
        stage = pipeline.stages[name]
        entry = locked.get(name)
        why = (
            "not in dvc.lock (DVC never ran it)"
            if entry is None
            else _inputs_differ(stage, entry, ws) or _outs_differ(stage, entry, ws, result)
        )
        if why:
            result.stale.append((name, why))
        else:
            result.matching.append(name)
    return result


def _inputs_differ(stage: Stage, entry: dvc.LockedStage, ws: _Workspace) -> str | None:
    if stage.cmd is None or stage.cmd != entry.cmd:
        return "its command is not the one in dvc.lock"
    deps = {e.path: e for e in entry.deps}
    for dep in stage.deps:
        if "://" in dep:
            return f"dep {dep} is a URL, which cannot be compared with dvc.lock"
        locked = deps.get(dep)
        if locked is None:
            return f"dep {dep} is not in dvc.lock"
        now = ws.md5(locked)
        if now is None:
            return f"dep {dep} is not in the workspace"
        if now != locked.md5:
            return f"dep {dep} has changed since dvc.lock"
    for ref in stage.params:
        data = ws.params(ref.file)
        recorded = entry.params.get(ref.file, {})
        for key in ref.keys if ref.keys is not None else tuple(recorded):
            if key not in recorded:
                continue  # a key DVC did not track: the command (compared above) shows it
            try:
                value = params_mod.lookup(data, key) if data is not None else None
            except KeyError:
                value = None
            if value != recorded[key]:
                return f"param {ref.file}:{key} is {value!r}, dvc.lock has {recorded[key]!r}"
    return None


def _outs_differ(
    stage: Stage, entry: dvc.LockedStage, ws: _Workspace, result: Checked
) -> str | None:
    outs = {e.path: e for e in entry.outs}
    for out in stage.outs:
        locked = outs.get(out.path)
        if locked is None:
            return f"out {out.path} is not in dvc.lock"
        now = ws.md5(locked)
        if now is None:
            if not ws.restore(locked):
                return f"out {out.path} is missing, and neither DVC's cache nor its remote has it"
            result.restored.append(out.path)
            now = ws.md5(locked)
        if now != locked.md5:
            return f"out {out.path} is not the one dvc.lock records"
    return None
