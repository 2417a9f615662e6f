"""A stage's outs in the workspace: room is made for them before its command runs (old
outs go aside unless `persist`), and they are hashed and stored once it has ended."""

from __future__ import annotations

import os
from pathlib import Path

from gitflowml.pipeline import lockfile
from gitflowml.pipeline.model import Stage
from gitflowml.repro.settle import Settler
from gitflowml.storage.odb import Later, LocalOdb
from gitflowml.storage.workspace import DirInfo, FileInfo, Scanner

Stored = tuple[tuple[lockfile.Entry, ...], Later | None]


def prepare(root: Path, stage: Stage, settler: Settler) -> None:
    for out in stage.outs:
        path = f"{root}/{out.path}"
        if not out.persist:
            settler.discard(path)
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):  # a stat: cheaper than mkdir's FileExistsError
            os.makedirs(parent, exist_ok=True)


def store(root: Path, stage: Stage, storer: Scanner, odb: LocalOdb, now: bool) -> Stored | str:
    """Hash the outs; large files are stored now, small ones are returned for the
    settler, unless `now` (on Dask: the next stage uploads from the cache). The path of an
    out that is not there, if one is not. Every out is stored, `cache: false` ones too
    (they are small, and the run-cache restores them)."""
    entries = []
    later: Later | None = None if now else []
    infos = storer.scan_many([root / o.path for o in stage.outs], later=later)
    paths = (o.path for o, info in zip(stage.outs, infos, strict=True) if info is None)
    absent = next(paths, None)
    if absent is not None:
        return absent
    for out, info in zip(stage.outs, infos, strict=True):
        if isinstance(info, DirInfo):
            odb.add_manifest(info.files, later)
            entries.append(lockfile.Entry(out.path, info.oid, info.files.size, info.files.nfiles))
        elif isinstance(info, FileInfo):
            entries.append(lockfile.Entry(out.path, info.oid, info.size))
    return tuple(entries), later
