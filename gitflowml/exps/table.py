"""The rows of `exp show`: each baseline, then its experiments (from refs) and queue
entries, with their params, metrics and deps read from git objects.

Its cost does not grow with history: the refs come from one `for-each-ref`, every file of
every commit from one `git cat-file --batch`, and what a commit holds is parsed once and
kept (commits never change) in `.gitflowml/tmp/exps-table.cache`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitflowml import metrics, quick
from gitflowml.errors import GitflowmlError
from gitflowml.exps import queue
from gitflowml.pipeline import lockfile
from gitflowml.project import Project
from gitflowml.revision import Revision
from gitflowml.scm import exprefs, plumbing
from gitflowml.storage import hashing
from gitflowml.util import fsutil

Values = dict[str, dict[str, Any]]  # file -> flattened key -> value
_CACHE_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class Parts:
    params: Values
    metrics: Values
    deps: dict[str, str]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    rev: str  # short sha
    baseline: str | None  # the baseline's full sha; None for a baseline row
    created: str  # ISO-8601 UTC
    state: str  # success, failed, queued, running
    params: Values = field(default_factory=dict)
    metrics: Values = field(default_factory=dict)
    deps: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rev": self.rev,
            "baseline": self.baseline,
            "created": self.created,
            "state": self.state,
            "params": self.params,
            "metrics": self.metrics,
            "deps": self.deps,
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    commit: str
    label: str  # a branch name, or a short sha


def iso(seconds: float) -> str:
    return (
        datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def rows(
    project: Project,
    baselines: Sequence[Baseline],
    refs: Sequence[exprefs.ExpRef],
    entries: Sequence[queue.Entry],
    params_files: Sequence[str],
    metrics_files: Sequence[str],
) -> list[Row]:
    """A baseline row and then its experiments (oldest first), for each baseline."""
    commits = [b.commit for b in baselines] + [r.commit for r in refs]
    commits += [e.start for e in entries]
    parts = read(project, commits, params_files, metrics_files)
    dates = {
        c.commit: c.created for c in plumbing.commits(project.root, [b.commit for b in baselines])
    }
    out: list[Row] = []
    for base in baselines:
        got = parts[base.commit]
        created = iso(dates.get(base.commit, 0))
        out.append(Row(base.label, base.commit[:7], None, created, "success", *_fields(got)))
        for ref in refs:
            if ref.baseline == base.commit:
                got = parts[ref.commit]
                when = iso(ref.created)
                out.append(
                    Row(ref.name, ref.commit[:7], base.commit, when, "success", *_fields(got))
                )
        for entry in entries:
            if entry.baseline == base.commit:
                got = parts[entry.start]
                when = iso(entry.created)
                state, error = entry.state, entry.error
                out.append(
                    Row(
                        entry.name,
                        entry.start[:7],
                        base.commit,
                        when,
                        state,
                        got.params,
                        {},
                        got.deps,
                        error,
                    )
                )
    return out


def _fields(parts: Parts) -> tuple[Values, Values, dict[str, str]]:
    return parts.params, parts.metrics, parts.deps


def read(
    project: Project,
    commits: Sequence[str],
    params_files: Sequence[str],
    metrics_files: Sequence[str],
) -> dict[str, Parts]:
    """What each commit holds of the params and metrics files and its lock's deps."""
    signature = hashing.hash_bytes(json.dumps([params_files, metrics_files]).encode())
    store = project.dot_dir / "tmp" / "exps-table.cache"
    cached = _load(store, signature)
    wanted = sorted({c for c in commits if c not in cached})
    if wanted:
        files = [*params_files, *metrics_files, lockfile.LOCK_FILE]
        blobs = plumbing.blobs(project.root, [f"{c}:{f}" for c in wanted for f in files])
        for i, commit in enumerate(wanted):
            found = dict(zip(files, blobs[i * len(files) : (i + 1) * len(files)], strict=True))
            cached[commit] = _parse(project, commit, found, params_files, metrics_files)
        _save(store, signature, cached)
    return cached


def _parse(
    project: Project,
    commit: str,
    found: Mapping[str, bytes | None],
    params_files: Sequence[str],
    metrics_files: Sequence[str],
) -> Parts:
    lock_data = found.get(lockfile.LOCK_FILE)
    lock = lockfile.Lock()
    if lock_data is not None:
        with contextlib.suppress(GitflowmlError):  # a broken lock: no deps shown
            lock = lockfile.loads(lock_data.decode("utf-8", "replace"), f"{commit[:8]}:lock")
    params = {f: metrics.parse(f, found[f] or b"") for f in params_files if found[f] is not None}
    values: Values = {}
    outs = {o.path for s in lock.stages.values() for o in s.outs}
    for path in metrics_files:
        data = found[path]
        if data is None and path in outs:  # a cached metrics file: from the cache
            quick.spoil()  # the cache may lack it now and have it later
            try:
                data = Revision(project, commit).read(path)
            except GitflowmlError:
                data = None
        if data is not None:
            values[path] = metrics.parse(path, data)
    deps = {d.path: d.oid for s in lock.stages.values() for d in s.deps}
    return Parts(params, values, dict(sorted(deps.items())))


def _load(store: Any, signature: str) -> dict[str, Parts]:
    try:
        doc = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("schema") != _CACHE_SCHEMA:
        return {}
    if doc.get("signature") != signature:
        return {}
    return {
        sha: Parts(v["params"], v["metrics"], v["deps"])
        for sha, v in (doc.get("commits") or {}).items()
        if isinstance(v, dict)
    }


def _save(store: Any, signature: str, cached: Mapping[str, Parts]) -> None:
    doc = {
        "schema": _CACHE_SCHEMA,
        "signature": signature,
        "commits": {
            sha: {"params": p.params, "metrics": p.metrics, "deps": p.deps}
            for sha, p in cached.items()
        },
    }
    store.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_text(store, json.dumps(doc, separators=(",", ":"), default=str))
