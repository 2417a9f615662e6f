"""Accept what the workspace holds as the result of stages, without running them: their
outs go into the cache and their lock entries are written from the inputs as they are now
(as `dvc commit` does). `import-dvc` uses it for stages whose outputs match `dvc.lock`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitflowml import index, repolock
from gitflowml.errors import PipelineError
from gitflowml.pipeline import lockfile, observe, plan
from gitflowml.pipeline.codedeps import CodeAnalyzer
from gitflowml.project import Project
from gitflowml.storage import add, ignore
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.workspace import DirInfo, Info, Scanner


def accept(project: Project, found: index.Loaded, names: Sequence[str]) -> list[str]:
    """Lock the named stages as they are in the workspace; returns their names. Each
    stage's deps and outs must all be there. The lock is written once, atomically."""
    pipeline, _ = found
    if not names:
        return []
    lock_path, journal = index.lock_paths(project)
    with repolock.hold(project.dot_dir):
        lock = lockfile.load_current(lock_path, journal)
        state = open_state(project)
        odb = local_odb(project)
        cached: list[Path] = []
        try:
            with state.hold():
                scanner = Scanner(state, project.jobs)
                storer = Scanner(state, project.jobs, store=odb)
                code = CodeAnalyzer(project.root, scanner, state)
                for name in names:
                    stage = pipeline.stages[name]
                    now = observe.observe(project.root, [stage], scanner, code)
                    missing = [d for d in stage.deps if "://" not in d and now.paths.get(d) is None]
                    outs = [project.root / o.path for o in stage.outs]
                    infos = storer.scan_many(outs)
                    missing += [o.path for o, i in zip(stage.outs, infos, strict=True) if i is None]
                    if missing:
                        raise PipelineError(
                            f"stage '{name}': '{missing[0]}' is not in the workspace, so it "
                            "cannot be accepted as it is; run 'gitflowml repro' instead"
                        )
                    add.store_missing(odb, outs, infos)
                    entries = tuple(
                        _entry(odb, o.path, i) for o, i in zip(stage.outs, infos, strict=True)
                    )
                    lock = lock.with_stage(name, plan.lock_entry(stage, now, entries))
                    cached.extend(project.root / o.path for o in stage.outs if o.cache)
        finally:
            state.close()
        ignore.ensure_all_ignored(cached)
        lockfile.dump(lock, lock_path, journal.parent / lockfile.PARSED)
        journal.unlink(missing_ok=True)
    return list(names)


def _entry(odb: LocalOdb, path: str, info: Info) -> lockfile.Entry:
    if isinstance(info, DirInfo):
        odb.add_manifest(info.files)  # after its files: its presence means they are stored
        return lockfile.Entry(path, info.oid, info.files.size, info.files.nfiles)
    assert info is not None  # absent outs were refused before
    return lockfile.Entry(path, info.oid, info.size)
