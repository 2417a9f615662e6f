"""The client side of `--executor dask`: a stage's inputs go up to the remote, the stage to
a worker, and its outs come back into the cache and the workspace."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gitflowml import index
from gitflowml.errors import StageFailedError
from gitflowml.executors.local import RunOutcome
from gitflowml.pipeline import lockfile
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.model import Stage
from gitflowml.pipeline.plan import Observed
from gitflowml.project import Project
from gitflowml.remote.fetch import fetch_entries
from gitflowml.remote.store import open_remote
from gitflowml.storage import links
from gitflowml.storage.layout import is_manifest, object_key
from gitflowml.storage.odb import local_odb
from gitflowml.storage.workspace import DirInfo, FileInfo, Scanner
from gitflowml.util import fsutil

Output = Callable[[str, str], None]  # (stage, a line it printed)


class RemoteRun:
    """The client side of `--executor dask`: inputs up to the remote, the stage to a
    worker, outs back into the cache and the workspace."""

    def __init__(
        self, project: Project, scheduler: str | None, workers: int, on_output: Output
    ) -> None:
        from gitflowml.executors.dask import DaskExecutor  # dask: only for --executor dask

        self.project = project
        self.config = project.config.remote(None)
        self.remote = open_remote(self.config, project.root, 4 * project.jobs, project.cache_dir)
        self.odb = local_odb(project)
        self.dask = DaskExecutor(self.config, scheduler, workers)
        self.on_output = on_output

    def close(self) -> None:
        self.dask.close()

    def cancel_all(self) -> None:
        self.dask.kill_all()

    def prepare(
        self, stage: Stage, now: Observed, storer: Scanner
    ) -> tuple[dict[str, Any], dict[str, float]]:
        root = self.project.root
        inputs: list[tuple[str, str, bool]] = []
        files: dict[str, Path] = {}  # object key -> local object
        local = [d for d in stage.deps if "://" not in d and now.paths.get(d) is not None]
        extra = sorted(
            {e.path for e in now.code.get(stage.name, ())} | {p.file for p in stage.params}
        )
        extra = [p for p in extra if (root / p).is_file() and p not in local]
        for path, info in zip(
            local + extra, storer.scan_many([root / p for p in local + extra]), strict=True
        ):
            # the hash state may know a file no command ever stored (a script in git)
            if isinstance(info, DirInfo):
                assert info.manifest is not None
                oid = self.odb.add_manifest(info.manifest)
                files[object_key(oid, True)] = self.odb.path(oid, True)
                for row in info.manifest.entries:
                    self._store(root / path / row.relpath, row.oid)
                    files[object_key(row.oid)] = self.odb.path(row.oid)
                inputs.append((path, oid, True))
            elif isinstance(info, FileInfo):
                self._store(root / path, info.oid)
                files[object_key(info.oid)] = self.odb.path(info.oid)
                inputs.append((path, info.oid, False))
        there = self.remote.has(sorted(files))
        todo = sorted(k for k in files if k not in there and not is_manifest(k))
        self.remote.upload([(files[k], k) for k in todo])
        manifests = sorted(k for k in files if k not in there and is_manifest(k))
        self.remote.upload([(files[k], k) for k in manifests])  # after their files
        spec = {
            "name": stage.name,
            "cmd": list(stage.cmd or ()),
            "python": stage.python,
            "args_json": json.dumps(stage.kwargs),
            "wdir": stage.wdir,
            "env": dict(stage.env),
            "timeout": stage.timeout,
            "retries": stage.retries,
            "inputs": inputs,
            "outs": [o.path for o in stage.outs],
            "remote": asdict(self.config),
            "params_yaml": self._params_text(stage),
        }
        res = stage.resources
        resources = self.dask.check_fits(res.cpus, res.memory, res.gpus)
        return spec, resources

    def _params_text(self, stage: Stage) -> str | None:
        """What GITFLOWML_PARAMS_FILE holds for the stage (see `params.effective_file`)."""
        scratch = self.project.dot_dir / "tmp" / "params"
        found = params_mod.effective_file(self.project.root / stage.wdir, scratch, stage.name)
        return None if found is None else found.read_text(encoding="utf-8")

    def _store(self, path: Path, oid: str) -> None:
        if not self.odb.exists(oid):
            stored, _ = self.odb.add_file(str(path))
            if stored != oid:
                raise StageFailedError(f"{path} changed while the stage was being sent; retry")

    def run(self, stage: Stage, spec: dict[str, Any], resources: dict[str, float]) -> RunOutcome:
        try:
            result = self.dask.run(spec, resources, stage.retries)
        except Exception as exc:
            raise StageFailedError(
                f"stage '{stage.name}' could not finish on the Dask cluster "
                f"({type(exc).__name__}: {exc}); it was tried {stage.retries + 1} time(s); "
                "raise 'retries' or check the workers"
            ) from exc
        for line in result.get("output", []) if result["exit_code"] else []:
            self.on_output(stage.name, line)
        outs = [lockfile.Entry(p, oid, size, nfiles) for p, oid, size, nfiles in result["outs"]]
        if outs:
            tracked = [index.as_tracked(e) for e in outs]
            fetch_entries(self.project, self.remote, tracked)
            for entry in outs:
                self._put(entry)
        return RunOutcome(
            result["exit_code"], result["attempts"], result["duration_s"], result["timed_out"]
        )

    def _put(self, entry: lockfile.Entry) -> None:
        """An out, fetched into the cache, into the workspace (no hash state: any thread)."""
        types = self.project.config.cache_types
        dest = self.project.root / entry.path
        fsutil.remove(dest)
        if entry.nfiles is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            links.materialise(self.odb, entry.oid, dest, types, False, True)
            return
        for row in self.odb.read_manifest(entry.oid).entries:
            target = dest / row.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            links.materialise(self.odb, row.oid, target, types, row.isexec, True)
