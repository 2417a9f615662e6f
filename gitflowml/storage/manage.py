"""Everyday changes to tracked data: stop tracking it (`remove`), move it with its pointer
file and `.gitignore` entry (`move`), and give linked data a private copy (`unprotect`).
Cache objects are never deleted here: `gc` does that."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

from gitflowml.config import LinkType
from gitflowml.errors import PathError
from gitflowml.project import DOT_DIR, Project
from gitflowml.storage import ignore, links, pointer
from gitflowml.storage import status as data_status
from gitflowml.storage.odb import local_odb
from gitflowml.storage.tracked import Tracked, is_under, tracked
from gitflowml.util import fsutil


def remove(project: Project, entries: Sequence[Tracked], outs: bool) -> list[str]:
    """Delete the pointer files of `entries` and their `.gitignore` entries; with `outs`,
    the data too, but only data whose content is in the cache (nothing is lost)."""
    if outs:
        changed = data_status.status(project, [e.target for e in entries])
        unsafe = [d.path for d in changed if d.change == "modified"]
        if unsafe:
            raise PathError(
                f"{unsafe[0]} has changes that are not in the cache; keep them with "
                f"'gitflowml add {unsafe[0]}' first, or remove without --outs"
            )
    done = []
    for entry in entries:
        target = project.abspath(entry.target)
        if outs:
            fsutil.remove(target)
        (project.root / entry.pointer_file).unlink(missing_ok=True)
        ignore.unignore(target)
        done.append(entry.target)
    return done


def move(project: Project, src: str, dst: str) -> tuple[str, str]:
    """Move tracked data SRC (or its pointer file) to DST, or into DST when DST is a
    directory; returns (old target, new target), relative to the root."""
    rel = project.relpath(src)
    entries = tracked(project)
    entry = next((t for t in entries if rel in (t.target, t.pointer_file)), None)
    if entry is None:
        inside = next((t for t in entries if is_under(rel, t.target)), None)
        if inside is not None:
            raise PathError(
                f"{src} is inside {inside.target}, which is tracked as a whole; move "
                f"{inside.target}, or change it and run 'gitflowml add {inside.target}'"
            )
        raise PathError(f"{src} is not tracked by gitflowml; move it with 'mv' or 'git mv'")
    new = project.relpath(dst)
    if new == entry.target:
        raise PathError(f"{dst} is where {entry.target} is already")
    if (project.root / new).is_dir() and not os.path.islink(project.root / new):
        new = posixpath.join(new, posixpath.basename(entry.target))
    old_path, new_path = project.abspath(entry.target), project.abspath(new)
    _check_destination(project, entries, entry, new, new_path)
    new_ptr_file = pointer.pointer_file_for(new_path)
    new_path.parent.mkdir(parents=True, exist_ok=True)
    ptr = entry.pointer
    moved = pointer.Pointer(new_path.name, ptr.oid, ptr.size, ptr.nfiles, ptr.isexec)
    pointer.dump(moved, new_ptr_file)  # first: a crash after it leaves both, nothing lost
    if os.path.lexists(old_path):
        os.rename(old_path, new_path)
    (project.root / entry.pointer_file).unlink()
    ignore.unignore(old_path)
    ignore.ensure_ignored(new_path)
    return entry.target, new


def _check_destination(
    project: Project, entries: Sequence[Tracked], entry: Tracked, new: str, path: Path
) -> None:
    if new == "." or new.split("/")[0] in (DOT_DIR, ".git"):
        raise PathError(f"{new} cannot hold tracked data")
    if is_under(new, entry.target):
        raise PathError(f"cannot move {entry.target} into itself ({new})")
    if os.path.lexists(path) or pointer.pointer_file_for(path).exists():
        raise PathError(f"{new} exists already; remove it first or choose another name")
    taken = next((t for t in entries if is_under(new, t.target) or t.target == new), None)
    if taken is not None:
        raise PathError(f"{new} is inside {taken.target}, which is tracked by gitflowml")


def unprotect(project: Project, entries: Sequence[Tracked]) -> list[str]:
    """Replace each hard- or symbolically linked file of `entries` by a private copy, so it
    can be edited without touching the cache; returns the files copied."""
    odb = local_odb(project)
    copied = []
    for entry in entries:
        base = project.abspath(entry.target)
        ptr = entry.pointer
        if ptr.is_dir:
            rows = [
                (base / e.relpath, e.oid, e.isexec, e.size)
                for e in odb.read_manifest(ptr.oid).entries
            ]
        else:
            rows = [(base, ptr.oid, ptr.isexec, ptr.size)]
        for path, oid, isexec, size in rows:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue  # not checked out: nothing shares the cache
            if os.path.islink(path) or (st.st_nlink > 1 and _is_object(odb.path(oid), st)):
                links.materialise(odb, oid, path, (LinkType.COPY,), isexec, False, size)
                copied.append(path.relative_to(project.root).as_posix())
    return copied


def _is_object(obj: Path, st: os.stat_result) -> bool:
    try:
        there = os.stat(obj)
    except FileNotFoundError:
        return False
    return (there.st_ino, there.st_dev) == (st.st_ino, st.st_dev)
