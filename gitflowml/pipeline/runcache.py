"""Owns run-cache entries (SPEC section 4): what a stage produced for a given set of inputs.

The key is the hash of everything that determines a run: the command (or function and
arguments), the working directory, each dep's hash, the tracked param values, the stage's
own environment and the paths of its outs. An entry, stored at `<cache>/runs/ab/cdef…`,
lists the outs that run produced. When a stale stage's key has an entry whose objects are
all in the cache, `repro` restores those outs instead of running the stage.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from gitflowml.pipeline.lockfile import Entry
from gitflowml.pipeline.model import Stage
from gitflowml.pipeline.plan import Observed, param_values
from gitflowml.storage import hashing, layout
from gitflowml.util import fsutil

SCHEMA = 1


def usable(stage: Stage) -> bool:
    """Stages whose outputs do not depend on more than their inputs."""
    return not stage.always_changed and not any(o.persist for o in stage.outs) and bool(stage.outs)


def key(stage: Stage, now: Observed) -> str:
    deps = []
    for dep in stage.deps:
        entry = now.paths.get(dep)
        deps.append([dep, entry.oid if entry else None])
    doc: dict[str, Any] = {
        "cmd": list(stage.cmd) if stage.cmd else None,
        "python": stage.python,
        "args": dict(stage.args),
        "wdir": stage.wdir,
        "deps": deps,
        "params": {f: dict(kv) for f, kv in param_values(stage, now)},
        "code": [[e.path, e.oid] for e in now.code.get(stage.name, ())],
        "env": dict(stage.env),
        "outs": sorted(o.path for o in stage.outs),
    }
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashing.hash_bytes(canonical.encode())


def _path(cache_dir: Path, run_key: str) -> str:
    return f"{cache_dir}/{layout.run_key(run_key)}"


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def get(cache_dir: Path, run_key: str) -> tuple[Entry, ...] | None:
    try:
        doc = json.loads(_read(_path(cache_dir, run_key)))
        if doc.get("schema") != SCHEMA:
            return None
        return tuple(
            Entry(o["path"], o["hash"], o.get("size"), o.get("nfiles")) for o in doc["outs"]
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None  # absent or unreadable: the stage simply runs


def put(cache_dir: Path, run_key: str, outs: tuple[Entry, ...]) -> None:
    doc = {"schema": SCHEMA, "outs": [o.to_dict() for o in outs]}
    _write(_path(cache_dir, run_key), json.dumps(doc, sort_keys=True).encode())


def _write(path: str, data: bytes) -> None:
    try:
        fsutil.atomic_write_bytes(path, data)
    except FileNotFoundError:  # the first entry in its fan-out directory
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fsutil.atomic_write_bytes(path, data)


# -- moving entries to and from remotes ------------------------------------------------------
def keys(cache_dir: Path) -> list[str]:
    """Every run-cache entry's key in this cache."""
    base = cache_dir / layout.RUNS_DIR
    out: list[str] = []
    try:
        fans = os.listdir(base)
    except FileNotFoundError:
        return []
    for fan in fans:
        with contextlib.suppress(NotADirectoryError, FileNotFoundError):
            out.extend(fan + rest for rest in os.listdir(base / fan) if not rest.startswith("."))
    return sorted(k for k in out if hashing.is_oid(k))


def raw(cache_dir: Path, run_key: str) -> bytes:
    return _read(_path(cache_dir, run_key))


def put_raw(cache_dir: Path, run_key: str, data: bytes) -> bool:
    """Store an entry fetched from a remote; False (and nothing stored) if it is not one."""
    try:
        doc = json.loads(data)
        ok = doc.get("schema") == SCHEMA and all(hashing.is_oid(o["hash"]) for o in doc["outs"])
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok or not hashing.is_oid(run_key):
        return False
    _write(_path(cache_dir, run_key), data)
    return True
