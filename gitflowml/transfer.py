"""push, fetch and pull: move only the objects the other side lacks (SPEC sections 4 and 5).

What is moved: the objects of the data tracked by pointer files and of the cached stage outs
that pipeline.lock records (`push: false` outs stay local), in the workspace or, with
`all_branches` / `all_commits`, in those commits too (read from git objects, no checkout).
A directory counts with its manifest (`.dir`) and every file it lists. File objects travel
before manifests, so a manifest on a remote means its files are there too. Run-cache
entries travel with the objects: pushed when every out object they name is on the remote,
fetched all (they are small).

Fetched objects land under temporary names in the cache and are published only after their
content hashed to their name, so an interrupted or corrupted download leaves nothing in the
cache.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gitflowml import pipestatus, scm
from gitflowml.cache import Tracked, local_odb, open_state, select
from gitflowml.errors import ObjectMissingError, RemoteError
from gitflowml.pipeline import lockfile, runcache
from gitflowml.pipeline.model import Pipeline, Stage
from gitflowml.project import POINTER_SUFFIX, Project
from gitflowml.remote import Remote, object_key, open_remote, run_key
from gitflowml.storage import hashing, pointer
from gitflowml.storage.odb import LocalOdb
from gitflowml.util import fsutil

# (step, files done, files in step, bytes done): steps are "checking", "uploading",
# "downloading"
ProgressSink = Callable[[str, int, int, int], None]


@dataclass
class TransferReport:
    remote: str = ""
    moved: int = 0  # objects uploaded or downloaded
    present: int = 0  # objects the other side had already
    bytes: int = 0
    runs: int = 0  # run-cache entries moved
    notes: bool = False  # refs/notes/gitflowml was pushed to / fetched from origin
    checked_out: list[str] = field(default_factory=list)  # pull: paths put in the workspace


@dataclass(frozen=True)
class _Need:
    oid: str
    is_dir: bool
    path: str  # a data path that needs it, for messages

    @property
    def key(self) -> str:
        return object_key(self.oid, self.is_dir)


def remote_of(project: Project, name: str | None, jobs: int | None) -> Remote:
    """The remote; by default as many transfers at once as hashing threads for a directory
    (the disk is the limit), four times that for anything over a network."""
    config = project.config.remote(name)
    local = "://" not in config.url or config.url.startswith("file://")
    return open_remote(config, project.root, jobs or (1 if local else 4) * project.jobs)


# -- what is needed ------------------------------------------------------------------------------
def _local_only(project: Project) -> set[str]:
    """Paths of outs marked `push: false` in pipeline.yaml."""
    found = pipestatus.load(project)
    return set() if found is None else _local_only_of(found[0])


def _local_only_of(pipeline: Pipeline) -> set[str]:
    return {o.path for s in pipeline.stages.values() for o in s.outs if not o.push}


def _workspace_entries(project: Project, targets: Sequence[str], moving: bool) -> list[Tracked]:
    """`moving`: for push or fetch, so without `push: false` outs (they never leave)."""
    found = pipestatus.load(project)
    by_stage: dict[str, list[Tracked]] = {}
    if found is not None:
        lock = lockfile.load_current(*pipestatus.lock_paths(project), durable=False)
        by_stage = pipestatus.outs_of(found[0], lock)
        if moving:
            local_only = _local_only_of(found[0])
            by_stage = {
                n: [t for t in ts if t.target not in local_only] for n, ts in by_stage.items()
            }
    extra = [t for ts in by_stage.values() for t in ts]
    return select(project, targets, extra=extra, groups=by_stage)


def _history_entries(project: Project, all_branches: bool, all_commits: bool) -> list[Tracked]:
    revs = scm.revisions(project.root, all_branches, all_commits)

    def wanted(path: str) -> bool:
        return path.endswith(POINTER_SUFFIX) or path == lockfile.LOCK_FILE

    out: list[Tracked] = []
    for rev, path, data in scm.files_at(project.root, revs, wanted):
        shown = f"{rev[:8]}:{path}"
        text = data.decode("utf-8", "replace")
        if path == lockfile.LOCK_FILE:
            lock = lockfile.loads(text, shown)
            out.extend(pipestatus.as_tracked(e) for s in lock.stages.values() for e in s.outs)
        else:
            ptr = pointer.loads(text, shown)
            target = (Path(path).parent / ptr.path).as_posix()
            out.append(Tracked(path, target, ptr))
    return out


def scope_entries(
    project: Project, targets: Sequence[str], all_branches: bool, all_commits: bool, moving: bool
) -> list[Tracked]:
    entries = _workspace_entries(project, targets, moving)
    if all_branches or all_commits:
        entries += _history_entries(project, all_branches, all_commits)
    return entries


def top_needs(entries: Sequence[Tracked]) -> dict[str, _Need]:
    needs: dict[str, _Need] = {}
    for entry in entries:
        need = _Need(entry.pointer.oid, entry.pointer.is_dir, entry.target)
        needs.setdefault(need.key, need)
    return needs


def files_of(odb: LocalOdb, needs: dict[str, _Need]) -> dict[str, _Need]:
    """The file objects the directories among `needs` list (their manifests must be local)."""
    files: dict[str, _Need] = {}
    for need in needs.values():
        if not need.is_dir:
            continue
        manifest = odb.read_manifest(need.oid)
        for row in manifest.entries:
            sub = _Need(row.oid, False, f"{need.path}/{row.relpath}")
            files.setdefault(sub.key, sub)
    return files


# -- push ----------------------------------------------------------------------------------------
def push(
    project: Project,
    targets: Sequence[str] = (),
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
) -> TransferReport:
    target = remote_of(project, remote, jobs)
    odb = local_odb(project)
    tops = top_needs(scope_entries(project, targets, all_branches, all_commits, moving=True))
    for need in tops.values():
        if need.is_dir and not odb.exists(need.oid, is_dir=True):
            raise ObjectMissingError(
                f"the cache lacks the directory manifest of {need.path} ({need.oid}); "
                f"nothing was pushed; run 'gitflowml fetch' or re-add {need.path}"
            )
    if not targets:  # earlier runs' outs go with their run-cache entries
        for key, need in _run_cache_needs(project, odb).items():
            tops.setdefault(key, need)
    files = {k: n for k, n in tops.items() if not n.is_dir}
    files.update(files_of(odb, tops))
    lacking = odb.missing({n.oid for n in files.values()})
    if lacking:
        example = next(n for n in files.values() if n.oid in lacking)
        raise ObjectMissingError(
            f"the cache lacks {len(lacking)} object(s), e.g. of {example.path}; nothing was "
            f"pushed; run 'gitflowml checkout' to see what is missing, or fetch it first"
        )
    dirs = {k: n for k, n in tops.items() if n.is_dir}
    report = TransferReport(remote=target.name)
    keys = sorted(files) + sorted(dirs)
    _say(on_progress, "checking", 0, len(keys), 0)
    present = target.has(keys)
    report.present = len(present)
    todo_files = [(odb.path(files[k].oid), k) for k in sorted(files) if k not in present]
    todo_dirs = [(odb.path(dirs[k].oid, True), k) for k in sorted(dirs) if k not in present]
    total = len(todo_files) + len(todo_dirs)
    counter = _Counter(on_progress, "uploading", total)
    target.upload(todo_files, counter)
    target.upload(todo_dirs, counter)  # after their files: a manifest there means complete
    report.moved, report.bytes = total, counter.bytes
    report.runs = _push_runs(project, target, set(keys))
    if notes and scm.has_remote(project.root, "origin"):
        from gitflowml import lineage

        if scm.rev_parse(project.root, lineage.NOTES_REF) is not None:
            scm.fetch_notes(project.root, "origin", lineage.NOTES_REF)  # theirs first
            scm.push_ref(project.root, "origin", lineage.NOTES_REF)
            report.notes = True
    return report


def _run_cache_needs(project: Project, odb: LocalOdb) -> dict[str, _Need]:
    """The out objects of every run-cache entry whose objects are all in the local cache."""
    needs: dict[str, _Need] = {}
    local_only = _local_only(project)
    for key in runcache.keys(project.cache_dir):
        outs = runcache.get(project.cache_dir, key) or ()
        if any(o.path in local_only for o in outs):
            continue  # push: false outs never leave, nor do entries naming them
        entry_needs = [_Need(o.oid, o.nfiles is not None, o.path) for o in outs]
        dirs = [n for n in entry_needs if n.is_dir]
        if not all(odb.exists(n.oid, True) for n in dirs):
            continue
        files = [n for n in entry_needs if not n.is_dir]
        files += files_of(odb, {n.key: n for n in dirs}).values()
        if odb.missing({n.oid for n in files}):
            continue  # gone from this cache (gc): the entry stays here
        needs.update((n.key, n) for n in entry_needs)
    return needs


def _push_runs(project: Project, target: Remote, on_remote: set[str]) -> int:
    """Push run-cache entries whose every out object is on the remote now."""
    local = runcache.keys(project.cache_dir)
    if not local:
        return 0
    wanted = []
    for key in local:
        outs = runcache.get(project.cache_dir, key)
        if outs and all(object_key(o.oid, o.nfiles is not None) in on_remote for o in outs):
            wanted.append(run_key(key))
    there = target.has(wanted)
    todo = [k for k in wanted if k not in there]
    target.upload([(project.cache_dir / k, k) for k in todo])
    return len(todo)


# -- fetch ---------------------------------------------------------------------------------------
def fetch(
    project: Project,
    targets: Sequence[str] = (),
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
) -> TransferReport:
    return _fetch(
        project, targets, remote, jobs, all_branches, all_commits, on_progress, notes, None
    )


@dataclass
class _Placing:
    """pull: workspace files written straight from the fetched bytes, for tracked paths
    that do not exist in the workspace at all (nothing there to compare or to lose). Only
    when checkout would make plain copies (no reflink, hardlink or symlink configured)."""

    entries: list[Tracked]
    dests: dict[str, list[tuple[Path, bool]]] = field(default_factory=dict)  # oid -> files
    files: dict[str, set[Path]] = field(default_factory=dict)  # target -> its files
    written: list[Path] = field(default_factory=list)

    def plan(self, project: Project, odb: LocalOdb) -> None:
        """Once the manifests are local: which file gets which object."""
        made: set[Path] = set()
        for entry in self.entries:
            base = project.abspath(entry.target)
            ptr = entry.pointer
            if not ptr.is_dir:
                rows = [(base, ptr.oid, ptr.isexec)]
            elif odb.exists(ptr.oid, True):
                manifest = odb.read_manifest(ptr.oid)
                rows = [(base / r.relpath, r.oid, r.isexec) for r in manifest.entries]
            else:
                continue  # not on the remote either (lenient): checkout will say so
            try:
                for parent in sorted({p.parent for p, _, _ in rows} - made):
                    parent.mkdir(parents=True, exist_ok=True)
                    made.add(parent)
            except OSError:
                continue  # a file where a directory should be: checkout will say so
            self.files[entry.target] = {p for p, _, _ in rows}
            for path, oid, isexec in rows:
                self.dests.setdefault(oid, []).append((path, isexec))

    def place(self, oid: str, data: bytes) -> None:
        """Write the files that hold object `oid` (verified bytes), never over anything."""
        for path, isexec in self.dests.get(oid, ()):
            if fsutil.write_new(path, data, 0o777 if isexec else 0o666):
                self.written.append(path)

    def complete(self) -> list[str]:
        """Targets whose every file was written here."""
        done = set(self.written)
        return [t for t, paths in self.files.items() if paths <= done]


def _fetch(
    project: Project,
    targets: Sequence[str],
    remote: str | None,
    jobs: int | None,
    all_branches: bool,
    all_commits: bool,
    on_progress: ProgressSink | None,
    notes: bool,
    placing: _Placing | None,
) -> TransferReport:
    source = remote_of(project, remote, jobs)
    entries = scope_entries(project, targets, all_branches, all_commits, moving=True)
    report = fetch_entries(project, source, entries, on_progress, placing=placing)
    report.runs = _fetch_runs(project, source)
    if notes and scm.has_remote(project.root, "origin"):
        from gitflowml import lineage

        report.notes = scm.fetch_notes(project.root, "origin", lineage.NOTES_REF)
    return report


def fetch_entries(
    project: Project,
    source: Remote,
    entries: Sequence[Tracked],
    on_progress: ProgressSink | None = None,
    lenient: bool = False,
    placing: _Placing | None = None,
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
    from gitflowml.storage.checkout import checkout_entries
    from gitflowml.storage.workspace import Scanner

    source = remote_of(project, None, None)
    deps = {d for s in stages for d in s.deps if "://" not in d}
    wanted = [
        t
        for t in select(project, ())
        if any(t.target == d or t.target.startswith(d.rstrip("/") + "/") for d in deps)
    ]
    outs = {o.path for s in stages for o in s.outs if o.cache}
    for stage in stages:
        entry = lock.stages.get(stage.name)
        if entry is not None:
            wanted += [pipestatus.as_tracked(e) for e in entry.outs if e.path in outs]
    report = fetch_entries(project, source, wanted, lenient=True)
    _fetch_runs(project, source)
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
    needs: dict[str, _Need],
    report: TransferReport,
    on_progress: ProgressSink | None,
    lenient: bool = False,
    placing: _Placing | None = None,
) -> None:
    if not needs:
        return
    keys = sorted(needs)
    _say(on_progress, "checking", 0, len(keys), 0)
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
    counter = _Counter(on_progress, "downloading", len(keys))
    if source.local is not None:  # read each small object once, verify it in memory
        keys = _fetch_small_local(source, odb, needs, keys, counter, placing)
    pairs = [(k, odb.tmp_path()) for k in keys]
    try:
        source.download(pairs, counter)
        for key, tmp in pairs:
            need = needs[key]
            if not odb.adopt(tmp, need.oid, need.is_dir):
                raise RemoteError(
                    f"object {key} on remote '{source.name}' (for {need.path}) is corrupt: its "
                    "content does not match its hash; it was not stored. Push it again from "
                    "a clone with a good copy"
                )
    finally:
        for _key, tmp in pairs:  # anything not adopted (interrupted, corrupt) goes
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    report.moved += counter.done
    report.bytes += counter.bytes


def _fetch_small_local(
    source: Remote,
    odb: LocalOdb,
    needs: dict[str, _Need],
    keys: list[str],
    counter: _Counter,
    placing: _Placing | None,
) -> list[str]:
    """Store the small objects of a directory remote straight from memory, verified (and
    write the workspace files `placing` wants from the same bytes); return the keys left
    for copying (large ones)."""

    def one(key: str) -> tuple[str, int | None]:
        data = source.read_small(key)
        if data is None:
            return key, None
        need = needs[key]
        if not odb.put_verified(data, need.oid, need.is_dir, missing=True):
            raise RemoteError(
                f"object {key} on remote '{source.name}' (for {need.path}) is corrupt: its "
                "content does not match its hash; it was not stored. Push it again from "
                "a clone with a good copy"
            )
        if placing is not None and not need.is_dir:
            placing.place(need.oid, data)
        return key, len(data)

    def chunk(part: list[str]) -> list[tuple[str, int | None]]:
        return [one(key) for key in part]

    step = max(1, min(128, len(keys) // (4 * source.jobs) or 1))
    parts = [keys[i : i + step] for i in range(0, len(keys), step)]
    left = []
    with ThreadPoolExecutor(max_workers=source.jobs) as pool:
        for results in pool.map(chunk, parts):
            for key, size in results:
                if size is None:
                    left.append(key)
                else:
                    counter(1, size)
    return left


def _fetch_runs(project: Project, source: Remote) -> int:
    remote_keys = [k for k in source.list_all(runcache.RUNS_DIR) if k.count("/") == 2]
    have = {run_key(k) for k in runcache.keys(project.cache_dir)}
    moved = 0
    for key in sorted(set(remote_keys) - have):
        name = key.split("/", 1)[1].replace("/", "")
        if hashing.is_oid(name) and runcache.put_raw(project.cache_dir, name, source.read(key)):
            moved += 1
    return moved


def pull(
    project: Project,
    targets: Sequence[str] = (),
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    force: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
) -> TransferReport:
    from gitflowml.storage.checkout import checkout

    placing = None
    types = project.config.cache_types
    if local_odb(project).copies_to(project.root, types):
        fresh = _workspace_entries(project, targets, moving=True)
        placing = _Placing([e for e in fresh if not os.path.lexists(project.abspath(e.target))])
    report = _fetch(
        project, targets, remote, jobs, all_branches, all_commits, on_progress, notes, placing
    )
    placed = placing.complete() if placing is not None else []
    rest = checkout(project, targets, force, skip=frozenset(placed))
    report.checked_out = placed + list(rest.restored)
    return report


# -- progress ------------------------------------------------------------------------------------
def _say(sink: ProgressSink | None, step: str, done: int, total: int, nbytes: int) -> None:
    if sink is not None:
        sink(step, done, total, nbytes)


class _Counter:
    def __init__(self, sink: ProgressSink | None, step: str, total: int) -> None:
        self.sink, self.step, self.total = sink, step, total
        self.done = self.bytes = 0

    def __call__(self, files: int, nbytes: int) -> None:
        self.done += files
        self.bytes += nbytes
        _say(self.sink, self.step, self.done, self.total, self.bytes)


# -- the pre-push check ----------------------------------------------------------------------------
def unpushed(project: Project, remote: str | None = None) -> list[str]:
    """Data paths of the workspace whose objects the remote lacks (for the pre-push hook).
    With no remote configured: an error if anything is cached at all, else nothing."""
    from gitflowml.errors import ConfigError

    entries = scope_entries(project, (), False, False, moving=True)
    if not entries:
        return []
    try:
        target = remote_of(project, remote, None)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}; data tracked here would not reach anyone else ({entries[0].target}, …)"
        ) from None
    odb = local_odb(project)
    tops = top_needs(entries)
    known = {k: n for k, n in tops.items() if not n.is_dir or odb.exists(n.oid, True)}
    needs = dict(known)
    needs.update(files_of(odb, known))
    present = target.has(sorted(needs))
    missing = {_top_path(needs[k], tops) for k in needs if k not in present}
    return sorted(missing)


def _top_path(need: _Need, tops: dict[str, _Need]) -> str:
    """The tracked path (pointer target or stage out) a file object belongs to."""
    for top in tops.values():
        if need.path == top.path or need.path.startswith(top.path + "/"):
            return top.path
    return need.path
