"""Owns `pipeline.lock` (SPEC section 4) and its journal.

The lock is deterministic YAML: stages sorted by name, keys in a fixed order, list entries
sorted by path, each entry on one line, so two branches that ran different stages merge
without conflict. It is only ever replaced whole and atomically.

While `repro` runs, each finished stage's entry is appended to a journal (one JSON line,
checksummed), which costs the same for the 1st and the 1,000th stage; the lock is then
rewritten once. A run killed half-way leaves the journal behind, and `load_current`
replays it, so finished stages keep their entries. A torn last line is ignored.

`lock.parsed` beside the journal keeps the lock's parsed YAML (marshal), valid while the
lock's inode, size, mtime and ctime are those it was parsed with. It is written by `load`
only when the lock was last modified more than 50 ms earlier, and by `dump` for the lock
it has just written. Deleting it costs one parse.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gitflowml import quick
from gitflowml.errors import PipelineError
from gitflowml.storage import hashing
from gitflowml.util import fsutil, yamlio

SCHEMA = 1
LOCK_FILE = "pipeline.lock"
JOURNAL = "lock.journal"
PARSED = "lock.parsed"  # beside the journal: the lock's parsed YAML, keyed by its stat data
RACY_NS = quick.RACY_NS
_STAGE_KEYS = ("cmd", "python", "args", "env", "deps", "params", "code", "outs")


@dataclass(frozen=True, slots=True)
class Entry:
    """A hashed path. `oid` is a content hash, or for a URL dep what its file system
    reports (e.g. `etag:…`)."""

    path: str
    oid: str
    size: int | None = None
    nfiles: int | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "hash": self.oid}
        if self.size is not None:
            doc["size"] = self.size
        if self.nfiles is not None:
            doc["nfiles"] = self.nfiles
        return doc


@dataclass(frozen=True, slots=True)
class StageLock:
    cmd: tuple[str, ...] | None = None
    python: str | None = None
    args: tuple[tuple[str, Any], ...] = ()
    deps: tuple[Entry, ...] = ()
    params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # file -> key -> value
    code: tuple[Entry, ...] = ()
    outs: tuple[Entry, ...] = ()
    env: str | None = None  # the environment (`--env`) whose params overlays it ran with

    def __post_init__(self) -> None:
        """Canonical order whatever the caller gave, so equal locks compare equal."""
        for key in ("deps", "code", "outs"):
            object.__setattr__(self, key, tuple(sorted(getattr(self, key), key=_by_path)))
        object.__setattr__(self, "args", tuple(sorted(self.args)))
        object.__setattr__(
            self, "params", tuple(sorted((f, tuple(sorted(kv))) for f, kv in self.params))
        )

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.cmd is not None:
            doc["cmd"] = self.cmd[0] if len(self.cmd) == 1 else list(self.cmd)
        if self.python is not None:
            doc["python"] = self.python
        if self.args:
            doc["args"] = dict(sorted(self.args))
        if self.env is not None:
            doc["env"] = self.env
        for key in ("deps", "params", "code", "outs"):
            value = getattr(self, key)
            if not value:
                continue
            if key == "params":
                doc[key] = {f: dict(sorted(kv)) for f, kv in sorted(value)}
            else:
                doc[key] = [e.to_dict() for e in value]
        return doc

    @property
    def param_values(self) -> dict[str, dict[str, Any]]:
        return {f: dict(kv) for f, kv in self.params}


@dataclass(frozen=True, slots=True)
class Lock:
    stages: Mapping[str, StageLock] = field(default_factory=dict)

    def with_stage(self, name: str, entry: StageLock | None) -> Lock:
        stages = dict(self.stages)
        if entry is None:
            stages.pop(name, None)
        else:
            stages[name] = entry
        return replace(self, stages=stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "stages": {name: self.stages[name].to_dict() for name in sorted(self.stages)},
        }


def dumps(lock: Lock) -> str:
    return yamlio.dumps(lock.to_dict(), flow_leaves=True)


def dump(lock: Lock, path: Path, parsed: Path | None = None) -> None:
    """Write the lock atomically; with `parsed`, also keep its parsed form for `load`, keyed
    by the new file's stat data (what we wrote is what a parse would give)."""
    fsutil.atomic_write_text(path, dumps(lock))
    if parsed is not None:
        st = os.stat(path)
        fsutil.keep(parsed, fsutil.stat_key(path, st), _doc(lock))


def _doc(lock: Lock) -> Any:
    """`lock.to_dict()` as YAML reads it back: lists, not tuples."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(lock.to_dict())


def loads(text: str, shown: str = LOCK_FILE) -> Lock:
    doc = _parse(text, shown)
    return Lock() if doc is None else _lock_from(doc, shown)


def _parse(text: str, shown: str) -> Any:
    try:
        return yamlio.loads(text)
    except yamlio.YamlError as exc:
        raise PipelineError(
            f"{exc.where(shown)}; restore it with 'git checkout {shown}' or delete it and run "
            "'gitflowml repro'"
        ) from exc


def load(path: Path, shown: str = LOCK_FILE, parsed: Path | None = None) -> Lock:
    """The lock at `path`. With `parsed`, the parsed YAML is kept in that file, keyed by
    the lock's stat data, and reused while the lock is unchanged: YAML parsing is most of
    the cost of a no-op `status` on a lock with many code entries."""
    quick.note(path)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            key = fsutil.stat_key(path, st)
            doc = fsutil.kept(parsed, key) if parsed else None
            if doc is None:
                doc = _parse(f.read().decode("utf-8"), shown)
                if parsed and max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS < time.time_ns():
                    fsutil.keep(parsed, key, doc)
    except FileNotFoundError:
        return Lock()
    return Lock() if doc is None else _lock_from(doc, shown)


def _lock_from(doc: Any, shown: str) -> Lock:
    def bad(problem: str) -> PipelineError:
        return PipelineError(
            f"{shown}: {problem}; restore it with 'git checkout {shown}'"
            " or delete it and run 'gitflowml repro'"
        )

    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise bad(f"not a schema {SCHEMA} lock file")
    stages = doc.get("stages")
    stages = {} if stages is None else stages
    if not isinstance(stages, dict):
        raise bad("'stages' must be a mapping")
    out: dict[str, StageLock] = {}
    for name, body in stages.items():
        try:
            out[str(name)] = stage_from_dict(body)
        except (TypeError, ValueError, KeyError) as exc:
            raise bad(f"stage '{name}' is malformed ({exc})") from None
    return Lock(out)


def stage_from_dict(body: Any) -> StageLock:
    if not isinstance(body, dict) or set(body) - set(_STAGE_KEYS):
        raise ValueError("unexpected keys")
    cmd = body.get("cmd")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("'params' must be a mapping")
    return StageLock(
        cmd=None
        if cmd is None
        else tuple(str(c) for c in (cmd if isinstance(cmd, list) else [cmd])),
        python=body.get("python"),
        args=tuple(sorted((body.get("args") or {}).items())),
        deps=_entries(body.get("deps")),
        params=tuple(
            sorted((str(f), tuple(sorted((kv or {}).items()))) for f, kv in params.items())
        ),
        code=_entries(body.get("code")),
        outs=_entries(body.get("outs")),
        env=None if body.get("env") is None else str(body["env"]),
    )


def _entries(value: Any) -> tuple[Entry, ...]:
    out = []
    for row in value or []:
        path, oid = row["path"], row["hash"]
        if not isinstance(path, str) or not isinstance(oid, str) or not oid:
            raise ValueError(f"bad entry {row!r}")
        if "://" not in path and not hashing.is_oid(oid):
            raise ValueError(f"bad hash for {path}")
        out.append(Entry(path, oid, row.get("size"), row.get("nfiles")))
    return tuple(out)


def _by_path(entry: Entry) -> str:
    return entry.path


# -- the journal -----------------------------------------------------------------------------
class JournalWriter:
    """Appends finished stages to the journal, one write of one line each, through one
    descriptor opened at the first line and kept for the run."""

    def __init__(self, journal: Path) -> None:
        self.path = journal
        self._fd: int | None = None

    def append(self, name: str, entry: StageLock | None) -> None:
        """Record one finished stage (None: forget its entry)."""
        payload = json.dumps(
            {"stage": name, "lock": entry.to_dict() if entry else None},
            sort_keys=True,
            separators=(",", ":"),
        )
        line = f"{hashing.hash_bytes(payload.encode())} {payload}\n".encode()
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(self._fd, line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _journal_records(journal: Path) -> Iterable[tuple[str, StageLock | None]]:
    quick.note(journal)
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return
    for raw in data.split(b"\n"):
        digest, _, payload = raw.partition(b" ")
        if not payload or hashing.hash_bytes(payload) != digest.decode(errors="replace"):
            continue  # torn by a crash mid-write: that stage simply did not finish
        record = json.loads(payload)
        lock = record["lock"]
        yield record["stage"], None if lock is None else stage_from_dict(lock)


def load_current(lock_path: Path, journal: Path, durable: bool = True) -> Lock:
    """The lock with any journal left by an interrupted run applied; with `durable`, the
    result is written to the lock and the journal removed (read-only commands pass False)."""
    lock = load(lock_path, parsed=journal.parent / PARSED)
    records = list(_journal_records(journal))
    for name, entry in records:
        lock = lock.with_stage(name, entry)
    if not durable or (not records and not journal.exists()):
        return lock
    if records:
        dump(lock, lock_path, journal.parent / PARSED)
    journal.unlink(missing_ok=True)
    return lock


# -- three-way merge (the git merge driver) --------------------------------------------------
def merge(base: Lock, ours: Lock, theirs: Lock) -> tuple[Lock, list[str]]:
    """Merge per stage: a stage changed on one side only takes that side; one changed
    differently on both sides is dropped, so `status` shows it stale and `repro` recomputes
    it. Returns the merged lock and the dropped stages."""
    merged: dict[str, StageLock] = {}
    dropped = []
    for name in sorted(set(base.stages) | set(ours.stages) | set(theirs.stages)):
        b, o, t = base.stages.get(name), ours.stages.get(name), theirs.stages.get(name)
        if o == t:
            chosen = o
        elif o == b:
            chosen = t
        elif t == b:
            chosen = o
        else:
            dropped.append(name)
            continue
        if chosen is not None:
            merged[name] = chosen
    return Lock(merged), dropped


def merge_files(base: Path, ours: Path, theirs: Path) -> list[str]:
    """The merge driver: merge the three versions and write the result over `ours`."""
    result, dropped = merge(
        load(base, "the merge base's pipeline.lock"),
        load(ours, "our pipeline.lock"),
        load(theirs, "their pipeline.lock"),
    )
    dump(result, ours)
    return dropped
