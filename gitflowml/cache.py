"""Tracked data in the workspace: `add` paths to the cache and report their `status`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gitflowml import scm
from gitflowml.errors import ObjectCorruptError, ObjectMissingError, PathError
from gitflowml.project import POINTER_SUFFIX, Project
from gitflowml.storage import ignore, pointer
from gitflowml.storage.odb import LocalOdb
from gitflowml.storage.state import StateDb
from gitflowml.storage.workspace import DirInfo, FileInfo, Info, Scanner

if TYPE_CHECKING:
    from gitflowml.pipeline.model import Pipeline, Stage


@dataclass(frozen=True, slots=True)
class Tracked:
    """A pointer file and what it points at, both relative to the project root."""

    pointer_file: str
    target: str
    pointer: pointer.Pointer


@dataclass(frozen=True, slots=True)
class AddResult:
    path: str
    pointer_file: str
    oid: str
    size: int
    nfiles: int | None
    changed: bool  # the pointer file was written (new or different content)
    gitignore: str | None  # the .gitignore that was changed, if any


@dataclass(frozen=True, slots=True)
class AddReport:
    results: tuple[AddResult, ...]
    files_hashed: int
    bytes_hashed: int


DataChange = Literal["modified", "deleted", "not in cache"]


@dataclass(frozen=True, slots=True)
class DataStatus:
    path: str
    pointer_file: str
    change: DataChange
    detail: str = ""  # e.g. "2 modified, 1 added, 0 deleted" for a directory


def open_state(project: Project) -> StateDb:
    return StateDb.open(project.state_path)


def local_odb(project: Project) -> LocalOdb:
    return LocalOdb(project.cache_dir)


def tracked(project: Project) -> list[Tracked]:
    """Every pointer file in the repository (tracked or not yet committed), sorted."""
    out = []
    for rel in scm.files_matching(project.root, POINTER_SUFFIX):
        path = project.root / rel
        if not path.is_file():
            continue  # deleted from the work tree but still in the index
        ptr = pointer.load(path, rel)
        target = (Path(rel).parent / ptr.path).as_posix()
        out.append(Tracked(rel, target, ptr))
    return out


def select(
    project: Project,
    targets: Sequence[str],
    extra: Sequence[Tracked] = (),
    groups: Mapping[str, Sequence[Tracked]] | None = None,
) -> list[Tracked]:
    """The entries named by `targets`: data paths, pointer files, directories holding them,
    or names in `groups` (stage names -> their outs); all when there are no targets.
    `extra` adds entries that have no pointer file of their own (stage outs)."""
    everything = [*tracked(project), *extra]
    if not targets:
        return everything
    chosen: dict[str, Tracked] = {}
    for target in targets:
        if groups and target in groups:
            hits = list(groups[target])
        else:
            rel = project.relpath(target)
            hits = [
                t
                for t in everything
                if rel in (t.target, t.pointer_file) or _is_under(t.target, rel)
            ]
        if not hits:
            raise PathError(f"{target} is not tracked by gitflowml; track it with 'gitflowml add'")
        for hit in hits:
            chosen[hit.target] = hit
    return [chosen[k] for k in sorted(chosen)]


def _is_under(path: str, parent: str) -> bool:
    return parent == "." or path.startswith(parent.rstrip("/") + "/")


# -- add ------------------------------------------------------------------------------------
def _check_add_paths(project: Project, rels: list[str], existing: list[Tracked]) -> None:
    for rel in rels:
        if rel == ".":
            raise PathError("cannot add the whole repository; name the data paths to track")
        if rel.endswith(POINTER_SUFFIX):
            raise PathError(f"{rel} is a gitflowml pointer file; add the data it points at")
        if not project.abspath(rel).exists():
            raise PathError(f"{rel} does not exist; check the path")
        for t in existing:
            if t.target != rel and _is_under(rel, t.target):
                raise PathError(
                    f"{rel} is inside {t.target}, which {t.pointer_file} already tracks; "
                    f"run 'gitflowml add {t.target}' to update it"
                )
            if t.target != rel and _is_under(t.target, rel):
                raise PathError(
                    f"{rel} contains {t.target}, tracked by {t.pointer_file}; remove that "
                    "pointer file first or add the paths separately"
                )
    _check_not_stage_outs(project, rels)
    in_git = scm.tracked(project.root, rels)
    if in_git:
        listed = " ".join(in_git)
        raise PathError(
            f"{listed} {'is' if len(in_git) == 1 else 'are'} stored in git; stop tracking with "
            f"'git rm -r --cached {listed}' and then run 'gitflowml add' again"
        )


def stage_out_clash(pipeline: Pipeline, paths: Iterable[str]) -> tuple[str, Stage, str] | None:
    """The first (path, stage, out) where one of `paths` equals, contains or lies inside a
    stage's out: a path is either tracked with `add` or produced by a stage, never both."""
    wanted = list(paths)
    for stage in pipeline.stages.values():
        for out in stage.outs:
            for path in wanted:
                if path == out.path or _is_under(path, out.path) or _is_under(out.path, path):
                    return path, stage, out.path
    return None


def _check_not_stage_outs(project: Project, rels: list[str]) -> None:
    if not (project.root / "pipeline.yaml").exists():
        return
    from gitflowml import pipestatus

    found = pipestatus.load(project)
    clash = stage_out_clash(found[0], rels) if found else None
    if clash:
        rel, stage, out = clash
        raise PathError(
            f"{rel} is an output of stage '{stage.name}' ('{out}'); "
            "gitflowml tracks it through pipeline.lock, so it cannot be added too"
        )


def add(project: Project, paths: Sequence[str]) -> AddReport:
    rels = list(dict.fromkeys(project.relpath(p) for p in paths))
    existing = tracked(project)
    _check_add_paths(project, rels, existing)
    odb = local_odb(project)
    state = open_state(project)
    try:
        scanner = Scanner(state, project.jobs, store=odb)
        infos = scanner.scan_many([project.abspath(r) for r in rels])
        _store_missing(project, odb, rels, infos)
        results = [
            _write_pointer(project, odb, rel, info) for rel, info in zip(rels, infos, strict=True)
        ]
        state.mark_complete(r.oid for r in results if r.nfiles is not None)
    finally:
        state.close()
    return AddReport(tuple(results), scanner.hashed, scanner.bytes_hashed)


def _store_missing(project: Project, odb: LocalOdb, rels: list[str], infos: list[Info]) -> None:
    """Objects whose content the state cache knew but the cache lacks (e.g. after `gc`)."""
    wanted: dict[str, Path] = {}
    for rel, info in zip(rels, infos, strict=True):
        base = project.abspath(rel)
        if isinstance(info, FileInfo):
            wanted.setdefault(info.oid, base)
        elif isinstance(info, DirInfo):
            for e in info.files.entries:
                wanted.setdefault(e.oid, base / e.relpath)
    for oid in sorted(odb.missing(set(wanted))):
        stored, _ = odb.add_file(str(wanted[oid]))
        if stored != oid:
            raise PathError(f"{wanted[oid]} changed while it was being added; run add again")


def _write_pointer(project: Project, odb: LocalOdb, rel: str, info: Info) -> AddResult:
    target = project.abspath(rel)
    if isinstance(info, DirInfo):
        odb.add_manifest(info.files)  # last: its presence means every file object is stored
        ptr = pointer.Pointer(target.name, info.oid, info.files.size, info.files.nfiles)
    elif isinstance(info, FileInfo):
        ptr = pointer.Pointer(target.name, info.oid, info.size, None, info.isexec)
    else:
        raise PathError(f"{rel} disappeared while it was being added")
    pfile = pointer.pointer_file_for(target)
    try:
        changed = pointer.load(pfile) != ptr
    except Exception:  # missing or unreadable: write it anew
        changed = True
    if changed:
        pointer.dump(ptr, pfile)
    gitignore = ignore.ensure_ignored(target)
    return AddResult(
        path=rel,
        pointer_file=pfile.relative_to(project.root).as_posix(),
        oid=ptr.oid,
        size=ptr.size,
        nfiles=ptr.nfiles,
        changed=changed,
        gitignore=gitignore.relative_to(project.root).as_posix() if gitignore else None,
    )


# -- status ---------------------------------------------------------------------------------
def status(project: Project, targets: Sequence[str] = ()) -> list[DataStatus]:
    entries = select(project, targets)
    if not entries:
        return []
    odb = local_odb(project)
    state = open_state(project)
    try:
        scanner = Scanner(state, project.jobs)
        infos = scanner.scan_many([project.abspath(t.target) for t in entries], need_manifest=False)
        out: list[DataStatus] = []
        for entry, info in zip(entries, infos, strict=True):
            if (
                isinstance(info, DirInfo)
                and info.manifest is None
                and info.oid != entry.pointer.oid
            ):
                info = scanner.scan(project.abspath(entry.target))  # for the changed-file counts
            out.extend(_status_of(odb, state, entry, info))
    finally:
        state.close()
    return out


def not_in_cache(project: Project, entries: Sequence[Tracked]) -> list[DataStatus]:
    """Entries (e.g. stage outs from pipeline.lock) whose objects the local cache lacks."""
    if not entries:
        return []
    odb = local_odb(project)
    state = open_state(project)
    try:
        found = []
        for entry in entries:
            missing = _missing_in_cache(odb, state, entry.pointer)
            if missing:
                found.append(DataStatus(entry.target, entry.pointer_file, "not in cache", missing))
        return found
    finally:
        state.close()


def _status_of(odb: LocalOdb, state: StateDb, entry: Tracked, info: Info) -> list[DataStatus]:
    ptr = entry.pointer
    found: list[DataStatus] = []

    def note(change: DataChange, detail: str = "") -> None:
        found.append(DataStatus(entry.target, entry.pointer_file, change, detail))

    if info is None:
        note("deleted")
    elif isinstance(info, DirInfo) != ptr.is_dir:
        note("modified", "now a directory" if isinstance(info, DirInfo) else "now a file")
    elif info.oid != ptr.oid:
        note("modified", _dir_detail(odb, ptr, info) if isinstance(info, DirInfo) else "")
    missing = _missing_in_cache(odb, state, ptr)
    if missing:
        note("not in cache", missing)
    return found


def _dir_detail(odb: LocalOdb, ptr: pointer.Pointer, info: DirInfo) -> str:
    if info.manifest is None:
        return ""
    try:
        old = odb.read_manifest(ptr.oid).by_path()
    except (ObjectMissingError, ObjectCorruptError):
        return ""
    new = info.manifest.by_path()
    added = len(new.keys() - old.keys())
    deleted = len(old.keys() - new.keys())
    modified = sum(
        1
        for k in new.keys() & old.keys()
        if new[k].oid != old[k].oid or new[k].isexec != old[k].isexec
    )
    return f"{modified} modified, {added} added, {deleted} deleted"


def _missing_in_cache(odb: LocalOdb, state: StateDb, ptr: pointer.Pointer) -> str:
    if not ptr.is_dir:
        return "" if odb.exists(ptr.oid) else "object missing"
    if odb.exists(ptr.oid, is_dir=True) and state.is_complete(ptr.oid):
        return ""
    try:
        manifest = odb.read_manifest(ptr.oid)
    except ObjectMissingError:
        return "directory manifest missing"
    except ObjectCorruptError:
        return "directory manifest corrupt"
    gone = odb.missing({e.oid for e in manifest.entries})
    if gone:
        return f"{len(gone)} of {manifest.nfiles} files missing"
    state.mark_complete([ptr.oid])
    return ""
