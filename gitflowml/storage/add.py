"""`add`: hash paths into the cache, write their pointer files and gitignore them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml import scm
from gitflowml.errors import PathError
from gitflowml.project import DOT_DIR, Project
from gitflowml.storage import ignore, pointer
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.tracked import Tracked, is_under, tracked
from gitflowml.storage.workspace import DirInfo, FileInfo, Info, Scanner
from gitflowml.util import fsutil

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


def add(
    project: Project, paths: Sequence[str], refuse: Refuse = _nothing, commit: bool = True
) -> AddReport:
    """`refuse(paths)` raises for paths that must not be added (stage outs, which only the
    layers above know of). Without `commit` the files are hashed and their pointers
    written, but their contents are not put in the cache (`gitflowml commit` does that)."""
    rels = list(dict.fromkeys(project.relpath(p) for p in paths))
    existing = tracked(project)
    _check_add_paths(project, rels, existing, refuse)
    odb = local_odb(project)
    state = open_state(project)
    try:
        scanner = Scanner(state, project.jobs, store=odb if commit else None)
        infos = scanner.scan_many([project.abspath(r) for r in rels])
        if commit and scanner.files > scanner.hashed:  # some known, so not read nor stored
            store_missing(odb, [project.abspath(r) for r in rels], infos)
        results = [
            _write_pointer(project, odb, rel, info) for rel, info in zip(rels, infos, strict=True)
        ]
        scanner.remove_orphans(project.abspath(r).parent for r in rels)
        state.mark_complete(r.oid for r in results if r.nfiles is not None)
    finally:
        state.close()
    return AddReport(tuple(results), scanner.hashed, scanner.bytes_hashed)


def expand(project: Project, paths: Sequence[str], recursive: bool, glob: bool) -> list[str]:
    """`add`'s paths as the user means them: with `glob`, each one a pattern (`**` too)
    matched against the workspace; with `recursive`, a directory stands for every file
    under it, each tracked on its own (gitflowml's own files and pointer files left out)."""
    import glob as globbing

    out: list[str] = []
    for path in paths:
        if glob:
            found = sorted(globbing.glob(path, recursive=True))
            if not found:
                raise PathError(f"no path matches {path!r}; check the pattern")
        else:
            found = [path]
        for item in found:
            if recursive and Path(item).is_dir():
                out.extend(_files_under(project, Path(item)))
            else:
                out.append(item)
    if not out:
        raise PathError(f"{', '.join(paths)} holds no files to add")
    return out


def copy_in(project: Project, src: str, out: str) -> str:
    """`add -o`: copy `src` (a file or directory, anywhere) to `out` in the workspace, which
    must not exist yet; returns `out`. The copy is written beside `out` and renamed into
    place when complete."""
    source = Path(src).expanduser()
    if not source.exists():
        raise PathError(f"{src} does not exist; check the path")
    rel = project.relpath(out)
    dest = project.abspath(rel)
    if os.path.lexists(dest):
        raise PathError(f"{out} exists already; choose another --out or remove it first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(fsutil.tmp_name(dest, via=dest.parent))
    try:
        if source.is_dir():
            shutil.copytree(source, tmp, symlinks=False)
        else:
            shutil.copyfile(source, tmp)
        os.rename(tmp, dest)
    except BaseException:
        fsutil.remove(tmp)
        raise
    return str(dest)


def _files_under(project: Project, directory: Path) -> list[str]:
    files = []
    for here, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", DOT_DIR))
        for name in sorted(filenames):
            if not name.endswith(pointer.SUFFIX) and name != ignore.GITIGNORE:
                files.append(os.path.join(here, name))
    return files


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
