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
from gitflowml.pipeline.params import flatten
from gitflowml.storage.pointer import SUFFIX


# -- lineage -------------------------------------------------------------------------------------
@dataclass
class Node:
    """How `path` (with content `oid`) came to be. kind: 'stage' (a recorded run made it),
    'added' (tracked with `gitflowml add`), 'git' (a file git stores), 'unknown'."""

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
    inputs: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "hash": self.oid, "kind": self.kind}
        for name in ("stage", "commit", "author", "date", "started", "user", "cmd"):
            if getattr(self, name):
                doc[name] = getattr(self, name)
        if self.kind == "stage":
            doc["duration_s"] = self.duration_s
            doc["params"] = self.params
            doc["restored"] = self.restored
        doc["inputs"] = [n.to_dict() for n in self.inputs]
        return doc


def trace(root: Path, path: str, rev: str = "HEAD") -> Node:
    """The lineage of `path` as of `rev`: the run that produced it and, recursively, how
    each of its inputs came to be, down to data added with `add` and files in git."""
    commit = scm.rev_parse(root, rev)
    if commit is None:
        raise PipelineError(f"'{rev}' is not a commit of this repository")
    oid = index.oid_at(root, commit, path)
    if oid is None:
        raise PipelineError(
            f"{path} is neither a stage out in {rev}'s pipeline.lock nor tracked by a pointer "
            "file there; name an output or added data"
        )
    by_out = index_by_out(history(root, commit))
    return _Tracer(root, commit, by_out).node(path, oid, set())


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

    def node(self, path: str, oid: str, seen: set[tuple[str, str]]) -> Node:
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
            )
            inner = seen | {key}
            node.inputs = [self.node(d, h, inner) for d, h in sorted(rec.deps.items())]
            node.inputs += [
                Node(c, h, "code") for c, h in sorted(rec.code.items()) if c not in rec.deps
            ]
            return node
        added = self._added(path, oid)
        if added is not None:
            return added
        touched = scm.commits_touching(self.root, self.commit, path)
        if touched:
            info = scm.commit_info(self.root, touched[:1]).get(touched[0], ("", ""))
            return Node(path, oid, "git", commit=touched[0], author=info[0], date=info[1])
        return Node(path, oid, "unknown")

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
