"""fetch and pull: download the objects the local cache lacks.

Fetched objects land under temporary names in the cache and are published only after their
content hashed to their name, so an interrupted or corrupted download leaves nothing in the
cache. pull then checks the entries out; tracked paths that are absent from the workspace are
written straight from the fetched bytes where checkout would make plain copies anyway.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from gitflowml import index, scm
from gitflowml.errors import ObjectMissingError, RemoteError
from gitflowml.index import Scope
from gitflowml.lineage.notes import NOTES_REF
from gitflowml.pipeline import lockfile
from gitflowml.pipeline.model import Stage
from gitflowml.project import Project
from gitflowml.remote.needs import (
    Counter,
    Need,
    ProgressSink,
    TransferOptions,
    TransferReport,
    files_of,
    remote_of,
    say,
    top_needs,
)
from gitflowml.remote.place import Placing
from gitflowml.remote.runs import fetch_runs
from gitflowml.remote.store import Remote
from gitflowml.storage import links
from gitflowml.storage.checkout import checkout, checkout_entries
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.tracked import Tracked, tracked
from gitflowml.storage.workspace import Scanner


# -- fetch ---------------------------------------------------------------------------------------
def fetch(project: Project, scope: Scope, options: TransferOptions) -> TransferReport:
    return _fetch(project, scope, options, None)


def _fetch(
    project: Project,
    scope: Scope,
    options: TransferOptions,
    placing: Placing | None,
    found: index.Loaded | None = None,
) -> TransferReport:
    source = remote_of(project, options.remote, options.jobs)
    entries = index.scope_entries(project, scope, moving=True, found=found)
    report = fetch_entries(project, source, entries, options.on_progress, placing=placing)
    report.runs = fetch_runs(project, source)
    if options.notes and scm.has_remote(project.root, "origin"):
        report.notes = scm.fetch_notes(project.root, "origin", NOTES_REF)
    return report


def fetch_entries(
    project: Project,
    source: Remote,
    entries: Sequence[Tracked],
    on_progress: ProgressSink | None = None,
    lenient: bool = False,
    placing: Placing | None = None,
) -> TransferReport:
    """Download what `entries` need and the cache lacks. `lenient`: skip what the remote
    does not have (repro --pull runs those stages instead) rather than failing.
    `placing`: also write those workspace files from the downloaded bytes."""
    odb = local_odb(project)
    tops = top_needs(entries)
    report = TransferReport(remote=source.name)
    # manifests first: they say which files a directory needs
    manifests = {k: n for k, n in tops.items() if n.is_dir and not odb.exists(n.oid, True)}
    _download(source, odb, manifests, report, on_progress, lenient)
    if placing is not None:
        placing.plan(project, odb)
    known = {k: n for k, n in tops.items() if not n.is_dir or odb.exists(n.oid, True)}
    files = {k: n for k, n in known.items() if not n.is_dir}
    files.update(files_of(odb, known))
    lacking = odb.missing({n.oid for n in files.values()})
    dir_tops = sum(1 for n in tops.values() if n.is_dir)
    report.present = dir_tops - len(manifests) + len(files) - len(lacking)
    todo = {k: n for k, n in files.items() if n.oid in lacking}
    _download(source, odb, todo, report, on_progress, lenient, placing)
    return report


def prefetch_for_repro(project: Project, stages: Sequence[Stage], lock: lockfile.Lock) -> int:
    """repro --pull: fetch the run-cache entries, the data tracked by pointer files that
    the stages read, and the recorded outs of the stages, from the default remote; put the
    ones missing from the workspace there, so stages whose outs were only on the remote are
    up to date instead of run again. Returns how many objects were downloaded."""
    source = remote_of(project, None, None)
    deps = {d for s in stages for d in s.deps if "://" not in d}
    wanted = [
        t
        for t in tracked(project)
        if any(t.target == d or t.target.startswith(d.rstrip("/") + "/") for d in deps)
    ]
    outs = {o.path for s in stages for o in s.outs if o.cache}
    for stage in stages:
        entry = lock.stages.get(stage.name)
        if entry is not None:
            wanted += [index.as_tracked(e) for e in entry.outs if e.path in outs]
    report = fetch_entries(project, source, wanted, lenient=True)
    fetch_runs(project, source)
    odb = local_odb(project)
    restorable = [
        t
        for t in wanted
        if not (project.root / t.target).exists() and odb.exists(t.pointer.oid, t.pointer.is_dir)
    ]
    if restorable:
        state = open_state(project)
        try:
            with contextlib.suppress(ObjectMissingError):
                checkout_entries(project, restorable, False, Scanner(state, project.jobs))
        finally:
            state.close()
    return report.moved


def _download(
    source: Remote,
    odb: LocalOdb,
    needs: dict[str, Need],
    report: TransferReport,
    on_progress: ProgressSink | None,
    lenient: bool = False,
    placing: Placing | None = None,
) -> None:
    if not needs:
        return
    keys = sorted(needs)
    say(on_progress, "checking", 0, len(keys), 0)
    there = source.has(keys)
    absent = [k for k in keys if k not in there]
    if absent and lenient:
        keys = [k for k in keys if k in there]
    elif absent:
        need = needs[absent[0]]
        raise RemoteError(
            f"remote '{source.name}' lacks {len(absent)} object(s) needed here, e.g. "
            f"{need.key} of {need.path}; push it from a clone that has it"
        )
    counter = Counter(on_progress, "downloading", len(keys))

    def store(key: str, data: bytes) -> None:
        """Verify an entry's bytes against its name, store them (and place them)."""
        need = needs[key]
        if not odb.put_verified(data, need.oid, need.is_dir, missing=True):
            raise _corrupt(source, key, need)
        if placing is not None and not need.is_dir:
            placing.place(need.oid, data)
        counter(1, len(data))

    keys = source.read_packed(keys, store)
    if source.local is not None:  # read each small loose object once, verify it in memory
        keys = _fetch_small_local(source, keys, store)
    pairs = [(k, odb.tmp_path()) for k in keys]
    try:
        source.download(pairs, counter)
        for key, tmp in pairs:
            need = needs[key]
            if not odb.adopt(tmp, need.oid, need.is_dir):
                raise _corrupt(source, key, need)
    finally:
        for _key, tmp in pairs:  # anything not adopted (interrupted, corrupt) goes
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    report.moved += counter.done
    report.bytes += counter.bytes


def _corrupt(source: Remote, key: str, need: Need) -> RemoteError:
    return RemoteError(
        f"object {key} on remote '{source.name}' (for {need.path}) is corrupt: its content "
        "does not match its hash; it was not stored. Push it again from a clone with a good copy"
    )


def _fetch_small_local(
    source: Remote, keys: list[str], store: Callable[[str, bytes], None]
) -> list[str]:
    """Pass the small loose objects of a directory remote to `store` straight from memory;
    return the keys left for copying (large ones)."""

    def chunk(part: list[str]) -> list[str]:
        left = []
        for key in part:
            data = source.read_small(key)
            if data is None:
                left.append(key)
            else:
                store(key, data)
        return left

    step = max(1, min(128, len(keys) // (4 * source.jobs) or 1))
    parts = [keys[i : i + step] for i in range(0, len(keys), step)]
    with ThreadPoolExecutor(max_workers=source.jobs) as pool:
        return [key for left in pool.map(chunk, parts) for key in left]


def _remember(project: Project, written: list[tuple[str, str]]) -> None:
    """Put the files pull wrote into the state cache, so they are not read again."""
    if not written:
        return
    state = open_state(project)
    try:
        Scanner(state, project.jobs).record(written)
    finally:
        state.close()


def pull(
    project: Project,
    scope: Scope,
    options: TransferOptions,
    force: bool = False,
) -> TransferReport:
    found = index.load(project)  # once, for the fetch and the checkout
    placing = None
    if links.copies_to(local_odb(project), project.root, project.config.cache_types):
        fresh = index.workspace_entries(project, scope.targets, moving=True, found=found)
        placing = Placing([e for e in fresh if not os.path.lexists(project.abspath(e.target))])
    report = _fetch(project, scope, options, placing, found)
    placed: list[str] = []
    if placing is not None:
        placed = placing.complete()
        _remember(project, placing.written)
    skip = set(placed)
    wanted = index.workspace_entries(project, scope.targets, found=found)
    rest = checkout(project, [e for e in wanted if e.target not in skip], force)
    report.checked_out = placed + list(rest.restored)
    return report
