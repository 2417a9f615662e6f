"""`gc`: delete cache objects (and run-cache entries) that the chosen scope does not use.

The scope is the workspace (pointer files and pipeline.lock as they are now), plus, on
request, every branch tip or every commit, read from git objects. A directory keeps its
manifest and every file the manifest lists. The hash state's marks of complete directories
(and with them every quick answer) are dropped before anything is deleted, so no later
command trusts a mark for objects that are gone. With `cloud`, the remote is cleaned the
same way.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from gitflowml import repolock
from gitflowml.index import Scope, scope_entries, workspace_entries
from gitflowml.pipeline import runcache
from gitflowml.project import Project
from gitflowml.remote import repack
from gitflowml.remote.needs import TransferOptions, files_of, remote_of, top_needs
from gitflowml.storage import layout
from gitflowml.storage.layout import object_key, run_key
from gitflowml.storage.odb import local_odb
from gitflowml.storage.state import open_state
from gitflowml.util import tmpfiles


@dataclass
class GcReport:
    removed: int = 0  # local objects (or, with dry, that would be)
    kept: int = 0
    freed_bytes: int = 0
    runs_removed: int = 0
    cloud_removed: int = 0  # entries deleted from the remote, loose or packed
    cloud_rewritten: int = 0  # packs rewritten without their dead entries
    cloud_repacked: int = 0  # loose entries moved into packs (`--repack`)
    temporaries: int = 0  # orphaned temporaries of interrupted commands, removed
    dry: bool = False


def gc(
    project: Project,
    scope: Scope,
    cloud: TransferOptions | None = None,
    dry: bool = False,
    cloud_repack: bool = False,
) -> GcReport:
    """Keep what `scope` uses; with `cloud`, clean that remote too (and with `cloud_repack`
    move its small loose entries into packs)."""
    report = GcReport(dry=dry)
    with repolock.hold(project.dot_dir, 0, lambda _pid: None):
        odb = local_odb(project)
        tops = top_needs(scope_entries(project, scope, moving=False))
        keep = set(tops)
        present_tops = {k: n for k, n in tops.items() if not n.is_dir or odb.exists(n.oid, True)}
        keep.update(files_of(odb, present_tops))
        local = odb.listing()
        doomed = sorted(k for k in local if k not in keep)
        report.kept = len(local) - len(doomed)
        report.removed = len(doomed)
        runs = [k for k in runcache.keys(project.cache_dir) if not _run_is_kept(project, k, keep)]
        report.runs_removed = len(runs)
        if cloud:
            target = remote_of(project, cloud.remote, cloud.jobs)
            doomed_runs = {run_key(k) for k in runs}

            def alive(key: str) -> bool:  # run-cache entries go with `runs`
                is_run = layout.run_key_of(key) is not None
                return key not in doomed_runs if is_run else key in keep

            done = repack.clean(target, alive, dry=dry, repack=cloud_repack)
            report.cloud_removed = done.removed
            report.cloud_rewritten, report.cloud_repacked = done.rewritten, done.repacked
            report.temporaries += done.temporaries
        if dry:
            report.freed_bytes = sum(local[k] for k in doomed)
            return report
        report.temporaries += _tidy(project)
        state = open_state(project)
        try:
            state.forget_complete()  # before deleting: no mark may outlive its objects
        finally:
            state.close()
        for key in doomed:
            path = project.cache_dir / key
            try:
                os.unlink(path)
                report.freed_bytes += local[key]
            except FileNotFoundError:
                pass
        for key in runs:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(project.cache_dir / run_key(key))
    return report


def _tidy(project: Project) -> int:
    """Remove the orphaned temporaries of interrupted commands: in the cache, in
    `.gitflowml/tmp`, inside tracked directories and beside tracked files."""
    removed = tmpfiles.clean_tree(project.cache_dir) + tmpfiles.clean_tree(project.work_dir.parent)
    places = {project.root}
    for entry in workspace_entries(project):
        path = project.abspath(entry.target)
        places.add(path.parent)
        if entry.pointer.is_dir:
            removed += tmpfiles.clean_tree(path)
    return removed + sum(tmpfiles.clean_dir(p) for p in places)


def _run_is_kept(project: Project, key: str, keep: set[str]) -> bool:
    outs = runcache.get(project.cache_dir, key)
    return (
        outs is not None
        and bool(outs)
        and all(object_key(o.oid, o.nfiles is not None) in keep for o in outs)
    )
