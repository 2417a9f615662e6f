"""Owns the experiment queue: plain files under `.gitflowml/tmp/exps/`, no broker.

One `NAME.json` an entry (queued, running or failed), `NAME.log` for what its run printed,
and `wt/NAME/` for the worktree it runs in. A queued entry's starting commit (its baseline
plus the workspace's changes and its overrides) is kept alive by a ref under
`refs/gitflowml/queue/`. A running entry names the pid of the process that runs it; when
that process is gone (kill -9, a reboot), the next look marks the entry failed and removes
its worktree.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from gitflowml.errors import ExperimentError
from gitflowml.project import Project
from gitflowml.scm import exprefs, plumbing
from gitflowml.util import fsutil, tmpfiles

SCHEMA = 1
State = Literal["queued", "running", "failed"]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    baseline: str  # full sha
    start: str  # the commit the run starts from
    created: float  # unix seconds
    targets: tuple[str, ...] = ()
    repro: dict[str, object] = field(default_factory=dict)  # `repro` options by name
    message: str | None = None
    state: State = "queued"
    pid: int | None = None
    error: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["schema"] = SCHEMA
        return json.dumps(data, indent=1, sort_keys=True)


def directory(project: Project) -> Path:
    return project.dot_dir / "tmp" / "exps"


def worktree(project: Project, name: str) -> Path:
    return directory(project) / "wt" / name


def log_path(project: Project, name: str) -> Path:
    return directory(project) / f"{name}.log"


def _path(project: Project, name: str) -> Path:
    return directory(project) / f"{name}.json"


def write(project: Project, entry: Entry) -> None:
    directory(project).mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_text(_path(project, entry.name), entry.to_json())


def add(project: Project, entry: Entry) -> None:
    """Queue `entry`: its starting commit gets a ref, then its file is written."""
    plumbing.update_ref(project.root, exprefs.QUEUE + entry.name, entry.start)
    write(project, entry)


def _read(path: Path) -> Entry | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.pop("schema", None) != SCHEMA:
        return None
    try:
        data["targets"] = tuple(data.get("targets") or ())
        return Entry(**data)
    except TypeError:
        return None


def entries(project: Project) -> list[Entry]:
    """Every entry, oldest first; a running one whose process is gone is marked failed
    (and its worktree removed) on the way."""
    found = []
    try:
        names = sorted(os.listdir(directory(project)))
    except FileNotFoundError:
        return []
    for name in names:
        if not name.endswith(".json") or tmpfiles.is_tmp(name):
            continue
        entry = _read(directory(project) / name)
        if entry is None:
            continue
        if entry.state == "running" and (entry.pid is None or not tmpfiles.alive(entry.pid)):
            entry = replace(entry, state="failed", error="its process died before it finished")
            write(project, entry)
            remove_worktree(project, entry.name)
        found.append(entry)
    found.sort(key=lambda e: (e.created, e.name))
    return found


def get(project: Project, name: str) -> Entry:
    for entry in entries(project):
        if entry.name == name:
            return entry
    raise ExperimentError(
        f"'{name}' is not in the queue; 'gitflowml exp queue status' lists what is"
    )


def claim(project: Project, entry: Entry, pid: int) -> Entry:
    running = replace(entry, state="running", pid=pid, error="")
    write(project, running)
    return running


def fail(project: Project, entry: Entry, error: str) -> Entry:
    failed = replace(entry, state="failed", pid=None, error=error)
    write(project, failed)
    remove_worktree(project, entry.name)
    return failed


def requeue(project: Project, entry: Entry) -> Entry:
    queued = replace(entry, state="queued", pid=None, error="")
    write(project, queued)
    return queued


def done(project: Project, name: str) -> None:
    """The entry became an experiment: its file, log, ref and worktree go."""
    remove(project, [name])


def remove(project: Project, names: Sequence[str]) -> None:
    for name in names:
        remove_worktree(project, name)
        for path in (_path(project, name), log_path(project, name)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if plumbing.refs(project.root, exprefs.QUEUE + name):
            plumbing.delete_ref(project.root, exprefs.QUEUE + name)


def remove_worktree(project: Project, name: str) -> None:
    where = worktree(project, name)
    if where.exists():
        plumbing.worktree_remove(project.root, where)
    if where.exists():  # not a worktree git knows (a crash before it was made)
        import shutil

        shutil.rmtree(where, ignore_errors=True)


def taken(project: Project, baseline: str, name: str) -> bool:
    """Whether `name` is used by an experiment of `baseline`, or by any queue entry."""
    if any(e.baseline == baseline for e in exprefs.find(project.root, name)):
        return True
    return _path(project, name).exists()


def now() -> float:
    return time.time()
