"""Which stages are stale, and why: pure functions over the pipeline, the lock and what the
workspace holds now (`Observed`, measured by `observe.py`).

Reasons follow SPEC section 4 and dud's run reasons: `new` (never ran), `cmd` (command,
python function or args changed), `dep`, `param`, `out` (missing or not what the lock
says) and `always` (always_changed). A frozen stage is never stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.lockfile import Entry, Lock, StageLock
from gitflowml.pipeline.model import ParamRef, Pipeline, Stage

ReasonKind = Literal["new", "cmd", "dep", "param", "code", "out", "always", "forced"]
MISSING: Any = "<missing>"  # shown as the old or new value of something absent


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    what: str = ""  # the path or params key
    old: Any = None
    new: Any = None


@dataclass(frozen=True, slots=True)
class StageStatus:
    name: str
    frozen: bool = False
    reasons: tuple[Reason, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True, slots=True)
class Observed:
    """What the workspace holds now. `paths`: each dep and out path -> its entry, or None
    when absent. `params`: params file -> its parsed content (None: file absent). `code`:
    stage name -> its code files and their hashes."""

    paths: Mapping[str, Entry | None] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    code: Mapping[str, tuple[Entry, ...]] = field(default_factory=dict)
    env: str | None = None  # the environment whose params overlays were read

    def param_values(self, ref: ParamRef) -> dict[str, Any]:
        """The tracked values of `ref` now: listed keys (a key may name a whole group), or
        every leaf of the file; absent keys are left out."""
        data = self.params.get(ref.file)
        if data is None:
            return {}
        if ref.keys is None:
            return params_mod.flatten(data)
        out = {}
        for key in ref.keys:
            try:
                out[key] = params_mod.lookup(data, key)
            except KeyError:
                continue
        return out


def reasons(stage: Stage, locked: StageLock | None, now: Observed) -> tuple[Reason, ...]:
    if stage.frozen:
        return ()
    if locked is None:
        return (Reason("new"),)
    found: list[Reason] = []
    if stage.always_changed:
        found.append(Reason("always"))
    if (locked.cmd, locked.python) != (stage.cmd, stage.python):
        what = "cmd" if stage.cmd is not None else "python"
        found.append(
            Reason("cmd", what, _one(locked.cmd) or locked.python, _one(stage.cmd) or stage.python)
        )
    elif dict(locked.args) != dict(stage.args):
        found.append(Reason("cmd", "args", dict(locked.args), dict(stage.args)))
    found.extend(_path_changes("dep", stage.deps, locked.deps, now))
    found.extend(_param_changes(stage, locked, now))
    found.extend(_code_changes(locked.code, now.code.get(stage.name, ())))
    found.extend(
        _path_changes(
            "out", tuple(o.path for o in stage.outs), locked.outs, now, report_missing=True
        )
    )
    return tuple(found)


def _one(cmd: tuple[str, ...] | None) -> str | None:
    return None if cmd is None else " && ".join(cmd)


def _path_changes(
    kind: ReasonKind,
    paths: tuple[str, ...],
    locked: tuple[Entry, ...],
    now: Observed,
    report_missing: bool = False,
) -> list[Reason]:
    before = {e.path: e for e in locked}
    found = []
    for path in paths:
        old = before.pop(path, None)
        new = now.paths.get(path)
        if old is None:
            found.append(Reason(kind, path, MISSING, "added"))
        elif new is None:
            found.append(Reason(kind, path, "present", "missing" if report_missing else MISSING))
        elif new.oid != old.oid:
            found.append(Reason(kind, path, _short(old.oid), _short(new.oid)))
    found.extend(Reason(kind, path, "listed", "removed") for path in sorted(before))
    return found


def _code_changes(locked: tuple[Entry, ...], now: tuple[Entry, ...]) -> list[Reason]:
    """A changed file is named without hashes (they are syntax-tree hashes, not content)."""
    before = {e.path: e.oid for e in locked}
    found = []
    for entry in now:
        old = before.pop(entry.path, None)
        if old is None:
            found.append(Reason("code", entry.path, MISSING, "added"))
        elif old != entry.oid:
            found.append(Reason("code", entry.path))
    found.extend(Reason("code", path, "listed", "removed") for path in sorted(before))
    return found


def _short(oid: str) -> str:
    return oid[:8] if "://" not in oid and len(oid) == 32 else oid


def _param_changes(stage: Stage, locked: StageLock, now: Observed) -> list[Reason]:
    before = locked.param_values
    found = []
    for ref in stage.params:
        current = now.param_values(ref)
        old_values = before.pop(ref.file, {})
        keys = ref.keys if ref.keys is not None else sorted(set(current) | set(old_values))
        for key in keys:
            old = old_values.get(key, MISSING)
            new = current.get(key, MISSING)
            if isinstance(old, dict) and isinstance(new, dict):  # a group: name the leaves
                flat_old = params_mod.flatten(old, key + ".")
                flat_new = params_mod.flatten(new, key + ".")
                for leaf in sorted(set(flat_old) | set(flat_new)):
                    a, b = flat_old.get(leaf, MISSING), flat_new.get(leaf, MISSING)
                    if a != b or type(a) is not type(b):
                        found.append(Reason("param", f"{ref.file}:{leaf}", a, b))
            elif old != new or type(old) is not type(new):
                found.append(Reason("param", f"{ref.file}:{key}", old, new))
    found.extend(Reason("param", f"{file}", "listed", "removed") for file in sorted(before))
    return found


def param_values(
    stage: Stage, now: Observed
) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """The `params` part of a lock entry for `stage`, from what the files hold now."""
    return tuple((ref.file, tuple(now.param_values(ref).items())) for ref in stage.params)


def lock_entry(stage: Stage, before: Observed, outs: tuple[Entry, ...]) -> StageLock:
    """The lock entry of `stage` run with the inputs `before`, having produced `outs`."""
    return StageLock(
        cmd=stage.cmd,
        python=stage.python,
        args=stage.args,
        deps=tuple(e for d in stage.deps if (e := before.paths.get(d)) is not None),
        params=param_values(stage, before),
        code=before.code.get(stage.name, ()),
        outs=outs,
        env=before.env,
    )


def outs_only(reasons: tuple[Reason, ...]) -> bool:
    """Whether a stage is stale only because outs the lock records differ or are missing:
    its inputs are those it ran with, so restoring the locked outs brings it up to date."""
    return bool(reasons) and all(r.kind == "out" and r.old is not MISSING for r in reasons)


def restorable(lock: Lock, statuses: list[StageStatus]) -> bool:
    """Whether restoring the outs the lock records (`checkout`) would bring every stale stage
    up to date: each is stale only by its outs, or by deps that are other stages' outs
    locked with the hash it ran with (after a `git checkout`, say)."""
    produced = {e.path: e.oid for s in lock.stages.values() for e in s.outs}
    stale = [s for s in statuses if s.stale]
    for status in stale:
        entry = lock.stages.get(status.name)
        if entry is None:
            return False
        ran_with = {e.path: e.oid for e in entry.deps}
        for r in status.reasons:
            if outs_only((r,)):
                continue
            if r.kind == "dep" and r.what in produced and ran_with.get(r.what) == produced[r.what]:
                continue
            return False
    return bool(stale)


def status(
    pipeline: Pipeline, lock: Lock, now: Observed, names: list[str] | None = None
) -> list[StageStatus]:
    """Every named stage (default: all) with its reasons, in the order given."""
    chosen = list(pipeline.stages) if names is None else names
    return [
        StageStatus(
            n, pipeline.stages[n].frozen, reasons(pipeline.stages[n], lock.stages.get(n), now)
        )
        for n in chosen
    ]
