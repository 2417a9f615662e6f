"""What a workspace path holds now: a file or directory hashed through the state cache.

`scan` walks, stats and looks every file up in the state cache; only files whose
(inode, size, mtime_ns) changed are read, concurrently, and optionally stored in the
object store in the same pass. Nothing is printed; results are returned.
"""

from __future__ import annotations

import os
import stat as stat_mod
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from gitflowml import quick
from gitflowml.errors import PathError
from gitflowml.project import DOT_DIR
from gitflowml.storage import hashing
from gitflowml.storage.odb import Later, LocalOdb
from gitflowml.storage.state import RACY_NS, Stat, StateDb
from gitflowml.util import parallel, tmpfiles

SKIP_DIRS = frozenset({".git", DOT_DIR})


@dataclass(frozen=True, slots=True)
class FileInfo:
    oid: str
    size: int
    isexec: bool


@dataclass(frozen=True, slots=True)
class DirInfo:
    manifest: hashing.Manifest | None  # None when answered from the directory fingerprint
    oid: str
    size: int = 0  # total bytes and number of files, known either way
    nfiles: int = 0

    @property
    def files(self) -> hashing.Manifest:
        """The manifest; only scans with `need_manifest=True` (the default) are asked for it."""
        if self.manifest is None:
            raise AssertionError("directory scanned without its manifest")
        return self.manifest


Info = FileInfo | DirInfo | None  # None: nothing at the path


class _Pending(NamedTuple):
    key: str  # absolute path, the state key
    stat: Stat
    rel: str
    isexec: bool


class Scanner:
    """Hashes workspace paths using (and updating) the state cache; one per command."""

    def __init__(self, state: StateDb, jobs: int, store: LocalOdb | None = None) -> None:
        self.state = state
        self.jobs = jobs
        self.store = store  # when set, every file read is also stored as an object
        self.started_ns = time.time_ns()
        self.files = 0
        self.hashed = 0
        self.bytes_hashed = 0
        self.temporaries: list[str] = []  # found inside scanned directories, never hashed

    def remove_orphans(self, directories: Iterable[Path] = ()) -> int:
        """Remove the orphaned temporaries the scans found inside directories, and those
        directly in `directories` (where a command that writes leaves its own)."""
        removed = tmpfiles.remove_orphans(self.temporaries)
        self.temporaries = []
        for directory in set(directories):
            removed += tmpfiles.clean_dir(directory)
        return removed

    def scan(self, path: Path) -> Info:
        return self.scan_many([path])[0]

    def scan_many(
        self, paths: Sequence[Path], need_manifest: bool = True, later: Later | None = None
    ) -> list[Info]:
        """Hash every path; the files of all of them that must be read are read in one pool.

        With `need_manifest=False` a directory whose files all have the (path, inode, size,
        mtime) they had when it was last hashed is answered from the state cache by its
        fingerprint alone, as a `DirInfo` without a manifest. With `later` (a storing
        scanner only), small files are hashed now and their objects left to
        `LocalOdb.write_later` (see `LocalOdb.add_file`)."""
        shapes: list[tuple[str, Path, list[_Pending], str]] = []
        known: dict[str, str] = {}
        pending: list[_Pending] = []
        for path in paths:
            quick.note(path)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                shapes.append(("missing", path, [], ""))
                continue
            rows: dict[str, tuple[int, int, int, int, str]] | None = None
            if stat_mod.S_ISDIR(st.st_mode):
                quick.note_tree(path)
                items = _walk(path, self.temporaries)
                fingerprint = _fingerprint(items)
                self.files += len(items)
                if not need_manifest:
                    oid = self.state.get_dir(str(path), fingerprint)
                    if oid is not None:
                        shapes.append(("known", path, items, oid))
                        if quick.recording():  # a saved answer may re-hash a touched file
                            rows = self.state.get_under(str(path))
                            looked = (
                                (i.key, self.state.lookup(rows, i.key, i.stat)) for i in items
                            )
                            quick.note_hashes({k: h for k, h in looked if h is not None})
                        continue
                rows = self.state.get_under(str(path))
                shapes.append(("dir", path, items, fingerprint))
            elif stat_mod.S_ISREG(st.st_mode):
                items = [_Pending(str(path), Stat.of(st), path.name, _isexec(st.st_mode))]
                self.files += 1
                shapes.append(("file", path, items, ""))
            else:
                raise PathError(f"{path} is neither a regular file nor a directory")
            for item in items:
                oid = (
                    self.state.get(item.key, item.stat)
                    if rows is None
                    else self.state.lookup(rows, item.key, item.stat)
                )
                if oid is None:
                    pending.append(item)
                else:
                    known[item.key] = oid
        for item, oid in zip(pending, self._hash(pending, later), strict=True):
            known[item.key] = oid
        if quick.recording():
            quick.note_hashes(known)
        return [self._info(kind, path, items, extra, known) for kind, path, items, extra in shapes]

    def _info(
        self, kind: str, path: Path, items: list[_Pending], extra: str, known: dict[str, str]
    ) -> Info:
        if kind == "missing":
            return None
        if kind == "known":
            return DirInfo(None, extra, sum(i.stat.size for i in items), len(items))
        if kind == "file":
            item = items[0]
            return FileInfo(known[item.key], item.stat.size, item.isexec)
        manifest = hashing.Manifest.build(
            hashing.ManifestEntry(i.rel, known[i.key], i.stat.size, i.isexec) for i in items
        )
        oid = manifest.oid()
        newest = max((i.stat.mtime_ns for i in items), default=0)
        if newest + RACY_NS <= self.started_ns:  # no file could hide a same-tick rewrite
            self.state.set_dir(str(path), extra, oid)
        return DirInfo(manifest, oid, manifest.size, manifest.nfiles)

    def _hash(self, items: Sequence[_Pending], later: Later | None = None) -> list[str]:
        if not items:
            return []
        store = self.store

        def one(item: _Pending) -> str:
            if store is not None:
                oid, _ = store.add_file(item.key, item.stat.size, later)
            else:
                oid, _ = hashing.hash_file(item.key)
            return oid

        oids = parallel.map_batched(one, items, self.jobs, lambda i: i.stat.size + 4096)
        self.hashed += len(items)
        self.bytes_hashed += sum(i.stat.size for i in items)
        self.state.set_many(
            ((i.key, i.stat, oid) for i, oid in zip(items, oids, strict=True)),
            now_ns=self.started_ns,
        )
        return oids

    def record(self, entries: Sequence[tuple[str | Path, str]]) -> None:
        """Remember the oids of files this command wrote (checkout), so they are not re-read."""
        rows = []
        for path, oid in entries:
            try:
                rows.append((str(path), Stat.of(os.stat(path)), oid))
            except FileNotFoundError:
                continue
        self.state.set_many(rows, now_ns=self.started_ns)


def _fingerprint(items: list[_Pending]) -> str:
    """What a directory's files look like to stat(), in walk order."""
    parts = [
        f"{i.rel}\0{i.stat.inode}\0{i.stat.size}\0{i.stat.mtime_ns}\0{i.isexec:d}" for i in items
    ]
    return hashing.hash_bytes("\0".join(parts).encode("utf-8", "surrogateescape"))


def _isexec(mode: int) -> bool:
    return bool(mode & stat_mod.S_IXUSR)


def _walk(root: Path, temporaries: list[str]) -> list[_Pending]:
    """Every regular file under `root` (symlinks to files followed), as relative POSIX paths.
    gitflowml's own temporaries (a crashed command's) are not data: they go to
    `temporaries`, for the command to remove if they are orphans."""
    out: list[_Pending] = []
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                if tmpfiles.is_tmp(entry.name):
                    temporaries.append(entry.path)
                    continue
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        stack.append((entry.path, rel + "/"))
                    continue
                st = entry.stat()  # follows a symlink to its target
                if stat_mod.S_ISREG(st.st_mode):
                    out.append(_Pending(entry.path, Stat.of(st), rel, _isexec(st.st_mode)))
                elif stat_mod.S_ISDIR(st.st_mode):
                    raise PathError(
                        f"{entry.path} is a symbolic link to a directory; gitflowml does not "
                        "follow those inside tracked directories (replace it with the data)"
                    )
    return out
