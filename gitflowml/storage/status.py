"""Data `status`: how the workspace differs from its pointer files and the cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gitflowml.errors import ObjectCorruptError, ObjectMissingError
from gitflowml.project import Project
from gitflowml.storage import pointer
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import StateDb, open_state
from gitflowml.storage.tracked import Tracked, select
from gitflowml.storage.workspace import DirInfo, Info, Scanner

DataChange = Literal["modified", "deleted", "not in cache"]


@dataclass(frozen=True, slots=True)
class DataStatus:
    path: str
    pointer_file: str
    change: DataChange
    detail: str = ""  # e.g. "2 modified, 1 added, 0 deleted" for a directory


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
