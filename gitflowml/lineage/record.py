"""Owns the run record (SPEC section 6): one per stage that ran or was restored from the
run-cache, as one line of JSON (so that `git notes merge -s cat_sort_uniq` merges two
clones' notes without loss)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitflowml import __version__
from gitflowml.pipeline import lockfile

SCHEMA = 1


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
    env: str | None = None  # the environment (`--env`) whose params overlays it ran with

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
        } | ({"env": self.env} if self.env is not None else {})

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
            env=None if doc.get("env") is None else str(doc["env"]),
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
        env=entry.env,
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


def parse_lines(data: bytes | str) -> list[RunRecord]:
    """The records of a note or a pending file, one per line (a single-record `.json` file
    is one line too). Torn lines and lines another tool or version wrote are skipped, never
    fatal (in a note they are kept, just not read here)."""
    records = []
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            records.append(RunRecord.from_dict(json.loads(raw)))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return records
