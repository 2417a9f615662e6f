"""Runs stages as tasks on a Dask cluster, with the remote cache as the data plane
(SPEC section 10).

The client stores a stage's inputs (its deps, code files and params files) as objects
and uploads what the remote lacks. A task ships only hashes: the worker materialises the
inputs from the remote into a scratch directory of its own, runs the stage there (shell
commands, or a Python function with the worker's interpreter), hashes the outs, uploads
them, and returns their hashes. Back on the client, the outs are downloaded into the
cache (verified) and put in the workspace; the runner then writes the lock entry and the
run record as for a local run. Workers share no file system with the client.

`dask[distributed]` is the `dask` extra; it is imported only here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitflowml.config import RemoteConfig
from gitflowml.errors import ConfigError, RemoteError, StageFailedError
from gitflowml.executors.local import LocalExecutor, python_command
from gitflowml.remote.store import open_remote
from gitflowml.storage import hashing
from gitflowml.storage.layout import object_key

Input = tuple[str, str, bool]  # (path relative to the root, oid, is a directory)


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--executor dask needs Dask: pip install 'gitflowml[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout=30), None  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise RemoteError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        resources={"cpus": 1},
        dashboard_address="127.0.0.1:0",  # any free port: two clusters never collide
        host="127.0.0.1",
    )
    return Client(cluster), cluster  # type: ignore[no-untyped-call]


class DaskExecutor:
    """One client for a whole `repro`; `close()` shuts a local cluster down."""

    def __init__(self, remote: RemoteConfig, scheduler: str | None, workers: int) -> None:
        if remote.url.startswith("memory://"):
            raise ConfigError(
                f"remote '{remote.name}' is memory://, which Dask workers cannot reach; use "
                "S3 or a path the workers share"
            )
        self.remote = remote
        self.client, self.cluster = _client(scheduler, workers)
        self._futures: set[Any] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def kill_all(self) -> None:
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    def check_fits(self, cpus: float, memory: int | None, gpus: int) -> dict[str, float]:
        """The Dask resources a stage asks for; a clear error when no worker has them."""
        wanted: dict[str, float] = {"cpus": cpus}
        if memory:
            wanted["memory"] = float(memory)
        if gpus:
            wanted["gpus"] = float(gpus)
        workers = self.client.scheduler_info().get("workers", {}).values()
        declared = [w.get("resources") or {} for w in workers]
        if not any(declared):
            return {}  # the cluster does not account resources: nothing to ask for
        if not any(all(res.get(k, 0) >= v for k, v in wanted.items()) for res in declared):
            have = ", ".join(sorted({f"{k}={v:g}" for res in declared for k, v in res.items()}))
            raise StageFailedError(
                f"needs {', '.join(f'{k}={v:g}' for k, v in wanted.items())} but no Dask "
                f"worker has that (workers have: {have or 'nothing declared'})"
            )
        return wanted

    def run(
        self, spec: dict[str, Any], resources: dict[str, float], retries: int
    ) -> dict[str, Any]:
        """Submit one stage and wait for it (in one of the runner's threads)."""
        future = self.client.submit(
            run_task, spec, resources=resources or None, retries=retries, pure=False
        )
        with self._lock:
            self._futures.add(future)
        try:
            result: dict[str, Any] = future.result()
            return result
        finally:
            with self._lock:
                self._futures.discard(future)


# -- on the worker ---------------------------------------------------------------------------
def run_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Materialise the inputs by hash, run the stage, upload the outs; in a worker."""
    scratch = Path(tempfile.mkdtemp(prefix="gitflowml-task-"))
    started = time.monotonic()
    try:
        remote = open_remote(RemoteConfig(**spec["remote"]), scratch, 8)
        for path, oid, is_dir in spec["inputs"]:
            _materialise(remote, scratch, path, oid, is_dir)
        cwd = scratch / spec["wdir"]
        cwd.mkdir(parents=True, exist_ok=True)
        for out in spec["outs"]:
            (scratch / out).parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        executor = LocalExecutor(lambda _name, line: lines.append(line))
        commands: list[Sequence[str] | str] = (
            [python_command(spec["python"], spec["args_json"])]
            if spec["python"]
            else list(spec["cmd"])
        )
        env = {
            **os.environ,
            **spec["env"],
            "GITFLOWML_ROOT": str(scratch),
            "PYTHONPATH": str(scratch),
        }
        if spec.get("params_yaml") is not None:  # the stage's params as it sees them
            params_file = scratch.with_name(scratch.name + "-params.yaml")  # beside it
            params_file.write_text(spec["params_yaml"], encoding="utf-8")
            env["GITFLOWML_PARAMS_FILE"] = str(params_file)
        outcome = executor.start_stage(
            spec["name"], commands, cwd, env, spec["timeout"], spec["retries"]
        ).result()
        result: dict[str, Any] = {
            "exit_code": outcome.exit_code,
            "attempts": outcome.attempts,
            "timed_out": outcome.timed_out,
            "output": lines[-40:],
            "outs": [],
        }
        if outcome.exit_code == 0:
            for out in spec["outs"]:
                if not (scratch / out).exists():
                    result["missing"] = out
                    break
                result["outs"].append(_upload(remote, scratch, out))
        result["duration_s"] = time.monotonic() - started
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.with_name(scratch.name + "-params.yaml").unlink(missing_ok=True)


def _verified(remote: Any, oid: str, is_dir: bool) -> bytes:
    data: bytes = remote.read(object_key(oid, is_dir))
    if hashing.hash_bytes(data) != oid:
        raise RemoteError(f"object {oid} on remote '{remote.name}' is corrupt")
    return data


def _materialise(remote: Any, root: Path, path: str, oid: str, is_dir: bool) -> None:
    target = root / path
    if not is_dir:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_verified(remote, oid, False))
        return
    manifest = hashing.Manifest.from_bytes(_verified(remote, oid, True))
    for row in manifest.entries:
        dest = target / row.relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_verified(remote, row.oid, False))
        if row.isexec:
            dest.chmod(0o755)


def _upload(remote: Any, root: Path, out: str) -> list[Any]:
    path = root / out
    if path.is_file():
        oid, size = hashing.hash_file(str(path))
        remote.upload([(path, object_key(oid))])
        return [out, oid, size, None]
    entries = []
    pairs = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        oid, size = hashing.hash_file(str(file))
        rel = file.relative_to(path).as_posix()
        entries.append(hashing.ManifestEntry(rel, oid, size, os.access(file, os.X_OK)))
        pairs.append((file, object_key(oid)))
    manifest = hashing.Manifest.build(entries)
    remote.upload(pairs)
    data = manifest.to_bytes()
    dir_oid = hashing.hash_bytes(data)
    remote.write(object_key(dir_oid, True), data)
    return [out, dir_oid, manifest.size, manifest.nfiles]
