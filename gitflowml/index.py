"""What the project tracks: data added with pointer files plus the cached outs of pipeline
stages (as pipeline.lock records them), in the workspace or at any revision.

This is the one answer to "what does revision R track": push, fetch, pull, gc, the
pre-commit hooks, lineage and `Revision` all ask here. It also keeps the rule that a path is
either added or produced by a stage, never both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml import quick, scm
from gitflowml.errors import PathError, PipelineError
from gitflowml.pipeline import graph, lockfile
from gitflowml.pipeline import loader as pipeline
from gitflowml.pipeline.model import Pipeline, Stage
from gitflowml.project import Project
from gitflowml.storage import pointer
from gitflowml.storage.tracked import Tracked, is_under, select, tracked

TMP_DIR = "tmp"  # in .gitflowml/: the lock journal and parsed-file caches
Loaded = tuple[Pipeline, graph.Graph]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which entries an operation covers: the workspace's (all, or those `targets` name:
    paths or stage names), and with `all_branches` / `all_commits` those of history too."""

    targets: tuple[str, ...] = ()
    all_branches: bool = False
    all_commits: bool = False
    revs: tuple[str, ...] = ()  # these commits too (experiments, say)
    workspace: bool = True  # False: only what history (or `revs`) uses

    @property
    def history(self) -> bool:
        return self.all_branches or self.all_commits


# -- the pipeline and its lock in the workspace ------------------------------------------------
def lock_paths(project: Project) -> tuple[Path, Path]:
    """pipeline.lock and its journal."""
    return project.root / lockfile.LOCK_FILE, project.dot_dir / TMP_DIR / lockfile.JOURNAL


def has_pipeline(project: Project) -> bool:
    path = project.root / pipeline.PIPELINE_FILE
    quick.note(path)
    return path.exists()


def load(project: Project) -> Loaded | None:
    """pipeline.yaml and its graph; None when there is no pipeline."""
    if not has_pipeline(project):
        return None
    path = project.root / pipeline.PIPELINE_FILE
    loaded = pipeline.load(path, project.root, project.dot_dir / TMP_DIR / pipeline.PARSED)
    return loaded, graph.build(loaded)


def load_lock(project: Project, durable: bool = False) -> lockfile.Lock:
    """The current lock: pipeline.lock with its journal applied."""
    return lockfile.load_current(*lock_paths(project), durable=durable)


def resolve_targets(loaded: Pipeline, targets: Sequence[str]) -> list[str]:
    """Stage names from targets that are stage names or foreach/matrix group names."""
    names: list[str] = []
    for target in targets:
        if target in loaded.stages:
            names.append(target)
        elif target in loaded.groups:
            names.extend(loaded.groups[target])
        else:
            raise PathError(f"'{target}' is not a stage of {pipeline.PIPELINE_FILE}")
    return list(dict.fromkeys(names))


def is_stage_target(loaded: Pipeline | None, target: str) -> bool:
    return loaded is not None and (target in loaded.stages or target in loaded.groups)


def as_tracked(entry: lockfile.Entry) -> Tracked:
    """A stage out as the lock records it, as a tracked entry (its "pointer file" is the lock)."""
    name = entry.path.rsplit("/", 1)[-1]
    ptr = pointer.Pointer(name, entry.oid, entry.size or 0, entry.nfiles)
    return Tracked(lockfile.LOCK_FILE, entry.path, ptr)


def outs_of(loaded: Pipeline, lock: lockfile.Lock) -> dict[str, list[Tracked]]:
    """Each stage's cached outs as `lock` records them."""
    out: dict[str, list[Tracked]] = {}
    for name, stage in loaded.stages.items():
        entry = lock.stages.get(name)
        if entry is None:
            continue
        recorded = {e.path: e for e in entry.outs}
        out[name] = [
            as_tracked(recorded[o.path]) for o in stage.outs if o.cache and o.path in recorded
        ]
    return out


def local_only(loaded: Pipeline | None) -> set[str]:
    """Paths of outs marked `push: false`: they never leave the local cache."""
    if loaded is None:
        return set()
    return {o.path for s in loaded.stages.values() for o in s.outs if not o.push}


def workspace_entries(
    project: Project,
    targets: Sequence[str] = (),
    moving: bool = False,
    found: Loaded | None = None,
) -> list[Tracked]:
    """The entries `targets` name (all by default): pointer files and cached stage outs.
    `moving`: for push or fetch, so without `push: false` outs (they never leave)."""
    found = found or load(project)
    by_stage: dict[str, list[Tracked]] = {}
    if found is not None:
        by_stage = outs_of(found[0], load_lock(project))
        if moving:
            kept = local_only(found[0])
            by_stage = {n: [t for t in ts if t.target not in kept] for n, ts in by_stage.items()}
    extra = [t for ts in by_stage.values() for t in ts]
    return select(project, targets, extra=extra, groups=by_stage)


# -- at revisions -------------------------------------------------------------------------------
def _is_index_file(path: str) -> bool:
    return path.endswith(pointer.SUFFIX) or path == lockfile.LOCK_FILE


def entries_at(root: Path, commits: Sequence[str]) -> list[Tracked]:
    """Every entry the commits track (read from git's objects; nothing is checked out):
    each commit's lock outs, then its pointer files."""
    out: list[Tracked] = []
    for rev, path, data in scm.files_at(root, list(commits), _is_index_file):
        shown = f"{rev[:8]}:{path}"
        text = data.decode("utf-8", "replace")
        if path == lockfile.LOCK_FILE:
            lock = lockfile.loads(text, shown)
            out.extend(as_tracked(e) for s in lock.stages.values() for e in s.outs)
        else:
            out.append(Tracked.of_pointer(path, pointer.loads(text, shown)))
    return out


def tracked_at(project: Project, commit: str | None) -> dict[str, Tracked]:
    """Data path -> entry at `commit` (None: the workspace): every out its lock records and
    every pointer file. A pointer file wins over a lock out of the same path."""
    if commit is None:
        lock = load_lock(project)
        outs = [as_tracked(e) for s in lock.stages.values() for e in s.outs]
        return {t.target: t for t in [*outs, *tracked(project)]}
    entries = entries_at(project.root, [commit])
    entries.sort(key=lambda t: t.pointer_file != lockfile.LOCK_FILE)  # pointers last
    return {t.target: t for t in entries}


def lock_at(root: Path, commit: str) -> lockfile.Lock:
    """The pipeline.lock of `commit` (empty when it has none)."""
    data = scm.file_at(root, commit, lockfile.LOCK_FILE)
    if data is None:
        return lockfile.Lock()
    return lockfile.loads(data.decode("utf-8", "replace"), f"{commit[:8]}:{lockfile.LOCK_FILE}")


def pointer_oid_at(root: Path, commit: str, path: str) -> str | None:
    """The hash the pointer file of `path` records at `commit`, if it has a readable one."""
    name = path + pointer.SUFFIX
    data = scm.file_at(root, commit, name)
    if data is None:
        return None
    try:
        return pointer.loads(data.decode(), name).oid
    except Exception:
        return None


def oid_at(root: Path, commit: str, path: str) -> str | None:
    """The hash `path` has at `commit` as a stage out (its lock) or added data (its pointer
    file): two reads of git objects, not a walk of the commit's tree."""
    data = scm.file_at(root, commit, lockfile.LOCK_FILE)
    if data is not None:
        lock = lockfile.loads(data.decode(), f"{commit[:8]}:{lockfile.LOCK_FILE}")
        for entry in lock.stages.values():
            for out in entry.outs:
                if out.path == path:
                    return out.oid
    return pointer_oid_at(root, commit, path)


def scope_entries(
    project: Project, scope: Scope, moving: bool, found: Loaded | None = None
) -> list[Tracked]:
    entries = workspace_entries(project, scope.targets, moving, found) if scope.workspace else []
    revs = set(scope.revs)
    if scope.history:
        revs.update(scm.revisions(project.root, scope.all_branches, scope.all_commits))
    if revs:
        entries += entries_at(project.root, sorted(revs))
    return entries


# -- added or produced, never both ---------------------------------------------------------------
def stage_out_clash(loaded: Pipeline, paths: Iterable[str]) -> tuple[str, Stage, str] | None:
    """The first (path, stage, out) where one of `paths` equals, contains or lies inside a
    stage's out: a path is either tracked with `add` or produced by a stage, never both."""
    wanted = list(paths)
    for stage in loaded.stages.values():
        for out in stage.outs:
            for path in wanted:
                if path == out.path or is_under(path, out.path) or is_under(out.path, path):
                    return path, stage, out.path
    return None


def refuse_stage_outs(project: Project, rels: list[str]) -> None:
    """For `add`: a stage's out is tracked through pipeline.lock, so it cannot be added."""
    found = load(project)
    clash = stage_out_clash(found[0], rels) if found else None
    if clash:
        rel, stage, out = clash
        raise PathError(
            f"{rel} is an output of stage '{stage.name}' ('{out}'); "
            f"gitflowml tracks it through {lockfile.LOCK_FILE}, so it cannot be added too"
        )


def refuse_added_outs(project: Project, loaded: Pipeline) -> None:
    """For `repro`: no stage may write a path that a pointer file tracks."""
    pointer_of = {t.target: t.pointer_file for t in tracked(project)}
    clash = stage_out_clash(loaded, pointer_of)
    if clash:
        target, stage, out = clash
        raise PipelineError(
            f"stage '{stage.name}' writes '{out}', but {pointer_of[target]} tracks '{target}' "
            f"already; remove {pointer_of[target]} (the stage will track it) or change the "
            "stage's outs"
        )
