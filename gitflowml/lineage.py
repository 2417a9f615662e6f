"""Owns run records (SPEC section 6): pending ones in `.gitflowml/runs/`, attached ones in
git notes under `refs/notes/gitflowml` (JSON Lines, one record per line, so that
`git notes merge -s cat_sort_uniq` merges two clones' notes without loss).

A record is written, atomically, for every stage that ran or was restored from the
run-cache. `record(rev)` attaches the pending records whose outs match `rev`'s
pipeline.lock to `rev` as a note; the others stay pending. `history` reads every note
reachable from a revision in a few git calls, newest first, for `log` and `lineage`.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflowml import __version__, scm
from gitflowml.errors import PipelineError
from gitflowml.pipeline import lockfile
from gitflowml.storage import pointer
from gitflowml.util import fsutil

SCHEMA = 1
NOTES_REF = "refs/notes/gitflowml"
RUNS_DIR = "runs"  # in .gitflowml/


@dataclass(frozen=True)
class RunRecord:
    stage: str
    key: str  # run-cache key
    cmd: tuple[str, ...] | None
    python: str | None
    args: Mapping[str, Any]
    deps: Mapping[str, str]  # path -> hash
    params: Mapping[str, Mapping[str, Any]]  # file -> key -> value
    code: Mapping[str, str]
    outs: Mapping[str, str]
    started: str  # ISO-8601 UTC
    duration_s: float
    exit_code: int
    attempts: int
    restored: bool
    user: str
    host: str
    python_version: str
    platform: str
    gitflowml_version: str = __version__
    schema: int = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "stage": self.stage,
            "key": self.key,
            "cmd": list(self.cmd) if self.cmd is not None else None,
            "python": self.python,
            "args": dict(self.args),
            "deps": dict(sorted(self.deps.items())),
            "params": {f: dict(kv) for f, kv in sorted(self.params.items())},
            "code": dict(sorted(self.code.items())),
            "outs": dict(sorted(self.outs.items())),
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "exit_code": self.exit_code,
            "attempts": self.attempts,
            "restored": self.restored,
            "user": self.user,
            "host": self.host,
            "python_version": self.python_version,
            "platform": self.platform,
            "gitflowml_version": self.gitflowml_version,
        }

    def line(self) -> str:
        """The canonical one-line JSON of this record (what a note holds)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RunRecord:
        cmd = doc.get("cmd")
        return cls(
            stage=str(doc["stage"]),
            key=str(doc.get("key", "")),
            cmd=None if cmd is None else tuple(cmd),
            python=doc.get("python"),
            args=dict(doc.get("args") or {}),
            deps={str(k): str(v) for k, v in (doc.get("deps") or {}).items()},
            params={str(f): dict(kv) for f, kv in (doc.get("params") or {}).items()},
            code={str(k): str(v) for k, v in (doc.get("code") or {}).items()},
            outs={str(k): str(v) for k, v in (doc.get("outs") or {}).items()},
            started=str(doc.get("started", "")),
            duration_s=float(doc.get("duration_s", 0.0)),
            exit_code=int(doc.get("exit_code", 0)),
            attempts=int(doc.get("attempts", 1)),
            restored=bool(doc.get("restored", False)),
            user=str(doc.get("user", "")),
            host=str(doc.get("host", "")),
            python_version=str(doc.get("python_version", "")),
            platform=str(doc.get("platform", "")),
            gitflowml_version=str(doc.get("gitflowml_version", "")),
            schema=int(doc.get("schema", SCHEMA)),
        )


def new_record(
    *,
    stage: str,
    key: str,
    entry: lockfile.StageLock,
    started_ns: int,
    duration_s: float,
    attempts: int,
    restored: bool,
) -> RunRecord:
    """A record of a stage that just finished (or was restored), from its lock entry."""
    from datetime import datetime, timezone

    started = datetime.fromtimestamp(started_ns / 1e9, tz=timezone.utc)
    user, host, python_version = _machine()
    return RunRecord(
        stage=stage,
        key=key,
        cmd=entry.cmd,
        python=entry.python,
        args=dict(entry.args),
        deps={e.path: e.oid for e in entry.deps},
        params={f: dict(kv) for f, kv in entry.params},
        code={e.path: e.oid for e in entry.code},
        outs={e.path: e.oid for e in entry.outs},
        started=started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        duration_s=duration_s,
        exit_code=0,
        attempts=attempts,
        restored=restored,
        user=user,
        host=host,
        python_version=python_version,
        platform=sys.platform,
    )


@functools.cache
def _machine() -> tuple[str, str, str]:
    """(user, host, Python version): the same for every record this process makes."""
    import getpass
    import platform

    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = ""
    return user, platform.node(), platform.python_version()  # node(): no socket import


# -- pending records ---------------------------------------------------------------------------
class PendingLog:
    """One run's pending records: a JSON Lines file in `.gitflowml/runs/`, one line appended
    (one write) as each stage ends. The file is held locked (flock) while the run goes on,
    so `record` leaves it alone until the run is over; a crash releases the lock, and a line
    torn by it is skipped. Names sort by start time."""

    def __init__(self, dot_dir: Path, started_ns: int | None = None) -> None:
        started = time.time_ns() if started_ns is None else started_ns
        name = f"{started}-{os.urandom(4).hex()}{LOG_SUFFIX}"
        self.path = dot_dir / RUNS_DIR / name
        self._fd: int | None = None

    def append(self, record: RunRecord) -> None:
        if self._fd is None:
            self.path.parent.mkdir(exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
        os.write(self._fd, (record.line() + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # and with it the lock
            self._fd = None


LOG_SUFFIX = ".jsonl"


def pending(dot_dir: Path) -> list[tuple[Path, RunRecord]]:
    """Every pending record, oldest run first, with the file that holds it."""
    directory = dot_dir / RUNS_DIR
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith((".json", LOG_SUFFIX)))
    except FileNotFoundError:
        return []
    out: list[tuple[Path, RunRecord]] = []
    for name in names:
        path = directory / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        out.extend((path, rec) for rec in _parse_lines(data))
    return out


def _parse_lines(data: bytes) -> list[RunRecord]:
    """The records of a pending file (one per line; a single-record `.json` file is one
    line too); torn or foreign lines are skipped, never fatal."""
    records = []
    for raw in data.splitlines():
        try:
            records.append(RunRecord.from_dict(json.loads(raw)))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return records


def _settle_pending(path: Path, attached: set[str]) -> bool:
    """Drop the `attached` records (by line) from a pending file: unlink it when nothing
    else is left, else rewrite it atomically. False when a run still writes it (locked)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        keep = [r.line() for r in _parse_lines(path.read_bytes()) if r.line() not in attached]
        if keep:
            fsutil.atomic_write_text(path, "".join(line + "\n" for line in keep))
        else:
            path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


# -- notes -------------------------------------------------------------------------------------
def parse_note(text: str) -> list[RunRecord]:
    records = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        try:
            records.append(RunRecord.from_dict(json.loads(raw)))
        except (ValueError, KeyError, TypeError):
            continue  # a line another tool or version wrote: kept in the note, skipped here
    return records


@dataclass
class RecordResult:
    commit: str = ""
    attached: list[RunRecord] = field(default_factory=list)
    still_pending: int = 0


def record(root: Path, dot_dir: Path, rev: str = "HEAD") -> RecordResult:
    """Attach the pending records whose outs match `rev`'s pipeline.lock to `rev`."""
    commit = scm.rev_parse(root, rev)
    if commit is None:
        raise PipelineError(f"'{rev}' is not a commit of this repository")
    result = RecordResult(commit=commit)
    files = scm.files_at(root, [commit], lambda p: p == lockfile.LOCK_FILE)
    lock = lockfile.loads(files[0][2].decode(), f"{rev}:pipeline.lock") if files else None
    waiting = pending(dot_dir)
    if lock is None:
        result.still_pending = len(waiting)
        return result
    existing = scm.note_text(root, NOTES_REF, commit) or ""
    lines = [line for line in existing.splitlines() if line.strip()]
    present = set(lines)
    attach: list[tuple[Path, RunRecord]] = []
    for path, rec in waiting:
        entry = lock.stages.get(rec.stage)
        if entry is not None and {e.path: e.oid for e in entry.outs} == dict(rec.outs):
            attach.append((path, rec))
    for _path, rec in attach:
        if rec.line() not in present:
            lines.append(rec.line())
            present.add(rec.line())
            result.attached.append(rec)
    if result.attached:
        scm.note_write(root, NOTES_REF, commit, "\n".join(sorted(lines)) + "\n")
    done = {rec.line() for _path, rec in attach}
    busy = {path for path in {p for p, _rec in attach} if not _settle_pending(path, done)}
    # records in a file a running repro still writes are attached, and stay pending too
    result.still_pending = len(waiting) - sum(1 for p, _rec in attach if p not in busy)
    return result


@dataclass(frozen=True)
class Attached:
    """A record with the commit it is attached to."""

    record: RunRecord
    commit: str
    author: str
    date: str  # ISO-8601, the commit's


def history(root: Path, rev: str = "HEAD") -> list[Attached]:
    """Every record attached to `rev` or its ancestors, newest commit first."""
    commits = scm.rev_list(root, rev)
    if not commits:
        return []
    noted = scm.notes_of(root, NOTES_REF, set(commits))
    if not noted:
        return []
    info = scm.commit_info(root, list(noted))
    out: list[Attached] = []
    for commit in commits:
        text = noted.get(commit)
        if text is None:
            continue
        author, date = info.get(commit, ("", ""))
        recs = sorted(parse_note(text), key=lambda r: r.started, reverse=True)
        out.extend(Attached(r, commit, author, date) for r in recs)
    return out


def index_by_out(attached: Iterable[Attached]) -> dict[tuple[str, str], Attached]:
    """(out path, hash) -> the newest record that produced it."""
    found: dict[tuple[str, str], Attached] = {}
    for item in attached:
        for path, oid in item.record.outs.items():
            found.setdefault((path, oid), item)
    return found


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
    oid = _current_oid(root, commit, path)
    if oid is None:
        raise PipelineError(
            f"{path} is neither a stage out in {rev}'s pipeline.lock nor tracked by a pointer "
            "file there; name an output or added data"
        )
    by_out = index_by_out(history(root, commit))
    return _Tracer(root, commit, by_out).node(path, oid, set())


def _current_oid(root: Path, commit: str, path: str) -> str | None:
    data = scm.file_at(root, commit, lockfile.LOCK_FILE)
    if data is not None:
        lock = lockfile.loads(data.decode(), f"{commit[:8]}:{lockfile.LOCK_FILE}")
        for entry in lock.stages.values():
            for out in entry.outs:
                if out.path == path:
                    return out.oid
    return _pointer_oid(root, commit, path)


def _pointer_oid(root: Path, commit: str, path: str) -> str | None:
    data = scm.file_at(root, commit, path + pointer.SUFFIX)
    if data is None:
        return None
    try:
        return pointer.loads(data.decode(), path + pointer.SUFFIX).oid
    except Exception:
        return None


def _flat_params(params: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{"params.yaml": {"train": {"lr": 1}}} -> {"params.yaml:train.lr": 1}."""
    from gitflowml.pipeline.params import flatten

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
        for commit in scm.commits_touching(self.root, self.commit, path + pointer.SUFFIX):
            if _pointer_oid(self.root, commit, path) == oid:
                found = commit
            elif found is not None:
                break
        if found is None:
            return None
        author, date = scm.commit_info(self.root, [found]).get(found, ("", ""))
        return Node(path, oid, "added", commit=found, author=author, date=date)
