"""`lineage PATH`: the run that produced a path and, recursively, how each of its inputs
came to be, down to data added with `add` and files in git."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflowml import index, scm
from gitflowml.errors import PipelineError
from gitflowml.lineage.notes import Attached, history, index_by_out
from gitflowml.pipeline import lockfile
from gitflowml.pipeline.params import flatten
from gitflowml.scm import exprefs
from gitflowml.storage.pointer import SUFFIX
from gitflowml.storage.tracked import is_under


def _producer(lock: lockfile.Lock, path: str, oid: str) -> tuple[str, lockfile.StageLock] | None:
    for name, entry in lock.stages.items():
        if any(e.path == path and e.oid == oid for e in entry.outs):
            return name, entry
    return None


# -- lineage -------------------------------------------------------------------------------------
@dataclass
class Node:
    """How `path` (with content `oid`) came to be. kind: 'stage' (a stage made it: a run
    record says so, or with `recorded` False only the committed pipeline.lock), 'added'
    (tracked with `gitflowml add`), 'code' (a stage's code, in git), 'git' (a file git
    stores), 'unknown'. `within`: the tracked directory a file was looked up through."""

    path: str
    oid: str
    kind: str
    stage: str = ""
    commit: str = ""
    author: str = ""
    date: str = ""
    started: str = ""
    duration_s: float = 0.0
    user: str = ""
    cmd: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    restored: bool = False
    recorded: bool = True
    within: str = ""
    env: str = ""  # the environment (`--env`) the stage ran in, if any
    inputs: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "hash": self.oid, "kind": self.kind}
        for name in (
            "stage",
            "commit",
            "author",
            "date",
            "started",
            "user",
            "cmd",
            "within",
            "env",
        ):
            if getattr(self, name):
                doc[name] = getattr(self, name)
        if self.kind == "stage":
            doc["duration_s"] = self.duration_s
            doc["params"] = self.params
            doc["restored"] = self.restored
            doc["recorded"] = self.recorded
        doc["inputs"] = [n.to_dict() for n in self.inputs]
        return doc


def trace(root: Path, path: str, rev: str = "HEAD") -> Node:
    """The lineage of `path` as of `rev`: the run that produced it and, recursively, how
    each of its inputs came to be, down to data added with `add` and files in git."""
    commit = exprefs.commit_of(root, rev)
    if commit is None:
        raise PipelineError(f"'{rev}' is not a commit or experiment of this repository")
    oid, within = index.oid_at(root, commit, path), ""
    if oid is None:
        within, oid = _directory_of(root, commit, path)
    if oid is None:
        raise PipelineError(
            f"{path} is neither a stage out in {rev}'s pipeline.lock nor tracked by a pointer "
            "file there; name an output or added data"
        )
    by_out = index_by_out(history(root, commit))
    node = _Tracer(root, commit, by_out).node(within or path, oid, set())
    if within:
        node.path, node.within = path, within
    return node


def _directory_of(root: Path, commit: str, path: str) -> tuple[str, str | None]:
    """The tracked directory `path` is inside at `commit`, and its hash."""
    for entry in index.entries_at(root, [commit]):
        if entry.pointer.is_dir and is_under(path, entry.target):
            return entry.target, entry.pointer.oid
    return "", None


def _flat_params(params: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{"params.yaml": {"train": {"lr": 1}}} -> {"params.yaml:train.lr": 1}."""
    out: dict[str, Any] = {}
    for file, values in params.items():
        for key, value in values.items():
            if isinstance(value, dict):
                out.update((f"{file}:{k}", v) for k, v in flatten(value, key + ".").items())
            else:
                out[f"{file}:{key}"] = value
    return out


class _Tracer:
    def __init__(self, root: Path, commit: str, by_out: dict[tuple[str, str], Attached]) -> None:
        self.root, self.commit, self.by_out = root, commit, by_out

    def node(self, path: str, oid: str, seen: set[tuple[str, str]], code: bool = False) -> Node:
        key = (path, oid)
        item = self.by_out.get(key)
        if item is not None and key not in seen:
            rec = item.record
            node = Node(
                path,
                oid,
                "stage",
                stage=rec.stage,
                commit=item.commit,
                author=item.author,
                date=item.date,
                started=rec.started,
                duration_s=rec.duration_s,
                user=rec.user,
                cmd=" && ".join(rec.cmd) if rec.cmd else f"python: {rec.python}",
                params=_flat_params(rec.params),
                restored=rec.restored,
                env=rec.env or "",
            )
            node.inputs = self._inputs(rec.deps, rec.code, seen | {key})
            return node
        locked = self._locked(path, oid) if key not in seen else None
        if locked is not None:
            node, entry = locked
            deps = {e.path: e.oid for e in entry.deps}
            node.inputs = self._inputs(deps, {e.path: e.oid for e in entry.code}, seen | {key})
            return node
        added = self._added(path, oid)
        if added is not None:
            return added
        touched = scm.commits_touching(self.root, self.commit, path)
        if touched:
            info = scm.commit_info(self.root, touched[:1]).get(touched[0], ("", ""))
            kind = "code" if code else "git"
            return Node(path, oid, kind, commit=touched[0], author=info[0], date=info[1])
        return Node(path, oid, "code" if code else "unknown")

    def _inputs(
        self, deps: Mapping[str, str], code: Mapping[str, str], seen: set[tuple[str, str]]
    ) -> list[Node]:
        """A stage's deps, then its code files that are not deps; a dep that is code is
        labelled as code, like the others."""
        nodes = [self.node(d, h, seen, code=d in code) for d, h in sorted(deps.items())]
        return nodes + [
            self.node(c, h, seen, code=True) for c, h in sorted(code.items()) if c not in deps
        ]

    def _locked(self, path: str, oid: str) -> tuple[Node, lockfile.StageLock] | None:
        """With no run record: the stage whose entry in the committed pipeline.lock has
        this out, from the oldest commit of the latest run of commits whose lock has it
        (a plain `git commit` of the results, as after `dvc repro`)."""
        found: tuple[str, str, lockfile.StageLock] | None = None
        for commit in scm.commits_touching(self.root, self.commit, lockfile.LOCK_FILE):
            hit = _producer(index.lock_at(self.root, commit), path, oid)
            if hit is None:
                if found is not None:
                    break
                continue
            found = (commit, *hit)
        if found is None:
            return None
        commit, stage, entry = found
        author, date = scm.commit_info(self.root, [commit]).get(commit, ("", ""))
        cmd = " && ".join(entry.cmd) if entry.cmd else f"python: {entry.python}"
        node = Node(path, oid, "stage", stage=stage, commit=commit, author=author, date=date)
        node.cmd, node.params, node.recorded = cmd, _flat_params(entry.param_values), False
        return node, entry

    def _added(self, path: str, oid: str) -> Node | None:
        """The oldest commit, in the latest run of commits whose pointer has `oid`."""

        found = None
        for commit in scm.commits_touching(self.root, self.commit, path + SUFFIX):
            if index.pointer_oid_at(self.root, commit, path) == oid:
                found = commit
            elif found is not None:
                break
        if found is None:
            return None
        author, date = scm.commit_info(self.root, [found]).get(found, ("", ""))
        return Node(path, oid, "added", commit=found, author=author, date=date)
