"""`add`: hash paths into the cache, write their pointer files and gitignore them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml import scm
from gitflowml.errors import PathError
from gitflowml.project import Project
from gitflowml.storage import ignore, pointer
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.tracked import Tracked, is_under, tracked
from gitflowml.storage.workspace import DirInfo, FileInfo, Info, Scanner

Refuse = Callable[[list[str]], None]


def _nothing(_rels: list[str]) -> None:
    return None


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


def _check_add_paths(
    project: Project, rels: list[str], existing: list[Tracked], refuse: Refuse
) -> None:
    for rel in rels:
        if rel == ".":
            raise PathError("cannot add the whole repository; name the data paths to track")
        if rel.endswith(pointer.SUFFIX):
            raise PathError(f"{rel} is a gitflowml pointer file; add the data it points at")
        if not project.abspath(rel).exists():
            raise PathError(f"{rel} does not exist; check the path")
        for t in existing:
            if t.target != rel and is_under(rel, t.target):
                raise PathError(
                    f"{rel} is inside {t.target}, which {t.pointer_file} already tracks; "
                    f"run 'gitflowml add {t.target}' to update it"
                )
            if t.target != rel and is_under(t.target, rel):
                raise PathError(
                    f"{rel} contains {t.target}, tracked by {t.pointer_file}; remove that "
                    "pointer file first or add the paths separately"
                )
    refuse(rels)
    in_git = scm.tracked(project.root, rels)
    if in_git:
        listed = " ".join(in_git)
        raise PathError(
            f"{listed} {'is' if len(in_git) == 1 else 'are'} stored in git; stop tracking with "
            f"'git rm -r --cached {listed}' and then run 'gitflowml add' again"
        )


def add(project: Project, paths: Sequence[str], refuse: Refuse = _nothing) -> AddReport:
    """`refuse(paths)` raises for paths that must not be added (stage outs, which only the
    layers above know of)."""
    rels = list(dict.fromkeys(project.relpath(p) for p in paths))
    existing = tracked(project)
    _check_add_paths(project, rels, existing, refuse)
    odb = local_odb(project)
    state = open_state(project)
    try:
        scanner = Scanner(state, project.jobs, store=odb)
        infos = scanner.scan_many([project.abspath(r) for r in rels])
        if scanner.files > scanner.hashed:  # some were known, so not read (nor stored) now
            store_missing(odb, [project.abspath(r) for r in rels], infos)
        results = [
            _write_pointer(project, odb, rel, info) for rel, info in zip(rels, infos, strict=True)
        ]
        scanner.remove_orphans(project.abspath(r).parent for r in rels)
        state.mark_complete(r.oid for r in results if r.nfiles is not None)
    finally:
        state.close()
    return AddReport(tuple(results), scanner.hashed, scanner.bytes_hashed)


def store_missing(odb: LocalOdb, paths: Sequence[Path], infos: Sequence[Info]) -> None:
    """Objects whose content the state cache knew but the cache lacks (e.g. after `gc`):
    a scan reads, and so stores, only files the state cache does not know."""
    wanted: dict[str, Path] = {}
    for base, info in zip(paths, infos, strict=True):
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
