"""Read any file of the repository as of any revision, without checking anything out.

`Revision(project, rev)`: `rev` None (or "workspace") is the working tree; anything git
understands (a branch, tag, SHA, `HEAD~2`) is a commit. A file git stores is read from
git's objects. A file tracked by a pointer file or produced by a stage (as that commit's
pipeline.lock records it), or a file inside such a directory, is read from the local
cache by its hash, and from the default (or named) remote when the cache lacks it. Bytes
from a cache or remote are verified against their hash.
"""

from __future__ import annotations

import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gitflowml import index, scm
from gitflowml.errors import (
    ConfigError,
    GitflowmlError,
    ObjectCorruptError,
    ObjectMissingError,
    PathError,
    RemoteError,
)
from gitflowml.pipeline import loader, lockfile
from gitflowml.pipeline.model import PIPELINE_FILE, Pipeline
from gitflowml.pipeline.params import DEFAULT_PARAMS
from gitflowml.project import Project
from gitflowml.remote.store import open_remote
from gitflowml.scm import exprefs, plumbing
from gitflowml.storage import dvc, hashing
from gitflowml.storage.layout import object_key
from gitflowml.storage.odb import local_odb
from gitflowml.util import yamlio

WORKSPACE = "workspace"


@dataclass
class Revision:
    project: Project
    rev: str | None = None  # None: the workspace
    remote: str | None = None
    commit: str | None = field(init=False, default=None)
    _lock: lockfile.Lock | None = field(init=False, default=None)
    _dvc: dict[str, dvc.Locked] | None = field(init=False, default=None)
    _dvc_readers: list[dvc.Reader] | None = field(init=False, default=None)
    _blobs: dict[str, bytes | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.rev in (None, WORKSPACE):
            self.rev = None
            return
        assert self.rev is not None
        self.commit = exprefs.commit_of(self.project.root, self.rev)
        if self.commit is None and self.rev == "HEAD":
            raise PathError("this repository has no commits yet, so there is no HEAD to compare")
        if self.commit is None:
            raise PathError(
                f"'{self.rev}' is not a revision of this repository (a branch, tag, commit, "
                "HEAD~N or experiment); check 'git log' or 'gitflowml exp show'"
            )

    @property
    def label(self) -> str:
        return self.rev or WORKSPACE

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", "replace")

    def lock(self) -> lockfile.Lock:
        if self._lock is None:
            data = self._git_file(lockfile.LOCK_FILE)
            self._lock = (
                lockfile.loads(data.decode(), f"{self.label}:{lockfile.LOCK_FILE}")
                if data is not None
                else lockfile.Lock()
            )
        return self._lock

    def prefetch(self, paths: list[str]) -> None:
        """Read the files git stores among `paths` at this commit with one `git cat-file
        --batch`, for the reads that follow (plots read many files at each revision)."""
        if self.commit is None or not paths:
            return
        wanted = set(paths) - set(self._blobs)
        got = {
            p: d for _r, p, d in scm.files_at(self.project.root, [self.commit], wanted.__contains__)
        }
        for path in wanted:
            self._blobs[path] = got.get(path)

    def _git_file(self, path: str) -> bytes | None:
        if self.commit is None:
            try:
                return (self.project.root / path).read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        if path in self._blobs:
            return self._blobs[path]
        return scm.file_at(self.project.root, self.commit, path)

    def tracked(self) -> dict[str, tuple[str, bool]]:
        """Data path -> (hash, is a directory), from pointer files and the lock."""
        entries = index.tracked_at(self.project, self.commit)
        return {path: (t.pointer.oid, t.pointer.is_dir) for path, t in entries.items()}

    def read(self, path: str) -> bytes | None:
        """The file's bytes at this revision; None when it does not exist there."""
        data = self._git_file(path)  # the working tree, or git's objects at the commit
        if data is not None:
            return data
        oid = self._object_for(path)
        if oid is not None:
            return self._object(oid, path)
        md5 = self._dvc_md5_for(path)
        return None if md5 is None else self._dvc_object(md5, path)

    def listdir(self, path: str) -> list[str]:
        """The files under directory `path` at this revision (tracked data and git's),
        sorted; empty when it is no directory there."""
        top = path.rstrip("/")
        tracked = self.tracked()
        if top in tracked and tracked[top][1]:
            rows = self.manifest(tracked[top][0], top).entries
            return sorted(f"{top}/{row.relpath}" for row in rows)
        if self.commit is None:
            base = self.project.root / top
            if not base.is_dir():
                return []
            found = [p.relative_to(self.project.root).as_posix() for p in base.rglob("*")]
            return sorted(f for f in found if (self.project.root / f).is_file())
        return sorted(plumbing.paths_in(self.project.root, self.commit, [top]))  # names only

    def _object_for(self, path: str) -> str | None:
        tracked = self.tracked()
        if path in tracked:
            oid, is_dir = tracked[path]
            if is_dir:
                raise PathError(f"{path} is a directory; name a file inside it")
            return oid
        for top, (oid, is_dir) in tracked.items():
            if is_dir and path.startswith(top.rstrip("/") + "/"):
                rel = path[len(top.rstrip("/")) + 1 :]
                manifest = hashing.Manifest.from_bytes(self._object(oid, top, is_dir=True))
                for row in manifest.entries:
                    if row.relpath == rel:
                        return row.oid
                return None
        return None

    def pipeline(self) -> tuple[str, Pipeline] | None:
        """The pipeline at this revision, expanded (foreach, matrix, ${}), with the name of
        its file: pipeline.yaml, or before the switch dvc.yaml. None when there is none, or
        it does not load there."""
        if self.commit is None:  # the workspace's own files, noted as they are read
            for name in (PIPELINE_FILE, dvc.DVC_YAML):
                if (self.project.root / name).is_file():
                    try:
                        return name, loader.load(self.project.root / name, self.project.root)
                    except GitflowmlError:
                        return None
            return None
        for name in (PIPELINE_FILE, dvc.DVC_YAML):
            data = self._git_file(name)
            if data is not None:
                break
        else:
            return None
        try:
            doc = yamlio.loads(data.decode("utf-8", "replace"))
        except yamlio.YamlError:
            return None
        wanted = [DEFAULT_PARAMS]  # the files ${} reads: params.yaml and the `vars` files
        if isinstance(doc, dict) and isinstance(doc.get("vars"), list):
            wanted += [v.partition(":")[0] for v in doc["vars"] if isinstance(v, str)]
        with tempfile.TemporaryDirectory(prefix="gitflowml-rev-") as tmp:
            base = Path(tmp)
            (base / PIPELINE_FILE).write_bytes(data)
            for file in wanted:
                content = self._git_file(posixpath.normpath(file))
                if (
                    content is not None
                    and ".." not in Path(file).parts
                    and not Path(file).is_absolute()
                ):
                    (base / file).parent.mkdir(parents=True, exist_ok=True)
                    (base / file).write_bytes(content)
            try:
                return name, loader.load(base / PIPELINE_FILE, base)
            except GitflowmlError:
                return None

    # -- revisions from before the switch: what DVC tracked ---------------------------------
    def dvc_tracked(self) -> dict[str, dvc.Locked]:
        """Paths DVC tracked here: the outs of its dvc.lock and its .dvc files."""
        if self._dvc is None:
            root = self.project.root
            if self.commit is None:
                names = [dvc.DVC_LOCK, *scm.files_matching(root, dvc.SUFFIX)]
                found = [(n, data) for n in names if (data := self._git_file(n)) is not None]
            else:
                wanted = lambda p: p == dvc.DVC_LOCK or p.endswith(dvc.SUFFIX)  # noqa: E731
                found = [(p, b) for _, p, b in scm.files_at(root, [self.commit], wanted)]
            self._dvc = {}
            for name, data in found:
                try:
                    text = data.decode("utf-8", "replace")
                    if name == dvc.DVC_LOCK:
                        entries = [e for s in dvc.load_lock(text).values() for e in s.outs]
                    else:
                        entries = dvc.load_pointer(text, name)
                except dvc.DvcFormatError:
                    continue  # not DVC's, or broken there: nothing to read from it
                self._dvc.update((e.path, e) for e in entries)
        return self._dvc

    def in_git(self, paths: list[str]) -> list[str]:
        """Which of `paths` git stores at this revision."""
        if not paths:
            return []
        if self.commit is None:
            return scm.tracked(self.project.root, paths)
        wanted = set(paths)
        return [
            p for _, p, _ in scm.files_at(self.project.root, [self.commit], wanted.__contains__)
        ]

    def dvc_listing(self, entry: dvc.Locked) -> list[tuple[str, str]]:
        """(relpath, md5) of the files of a directory DVC tracked."""
        rows = dvc.parse_listing(self._dvc_object(entry.md5, entry.path), entry.path)
        if dvc.listing_md5(rows) != entry.md5:
            raise ObjectCorruptError(
                f"DVC's listing of {entry.path} ({entry.md5}) is corrupt; fetch it again with DVC"
            )
        return rows

    def _dvc_md5_for(self, path: str) -> str | None:
        tracked = self.dvc_tracked()
        if path in tracked:
            if tracked[path].is_dir:
                raise PathError(f"{path} is a directory; name a file inside it")
            return tracked[path].md5
        for top, entry in tracked.items():
            if entry.is_dir and path.startswith(top + "/"):
                rel = path[len(top) + 1 :]
                return dict(self.dvc_listing(entry)).get(rel)
        return None

    def _dvc_object(self, md5: str, path: str) -> bytes:
        if self._dvc_readers is None:
            from gitflowml.remote import dvcread  # DVC's remotes: only for DVC's history

            self._dvc_readers = dvcread.readers(self.project.root)
        data = dvc.fetch_object(md5, self._dvc_readers)
        if data is None:
            raise ObjectMissingError(
                f"{path} at {self.label} is in DVC's storage only, and neither .dvc/cache "
                "nor DVC's remote has it; run 'dvc fetch' for that revision"
            )
        return data

    def manifest(self, oid: str, path: str) -> hashing.Manifest:
        return hashing.Manifest.from_bytes(self._object(oid, path, is_dir=True))

    def _object(self, oid: str, path: str, is_dir: bool = False) -> bytes:
        odb = local_odb(self.project)
        try:
            data = odb.path(oid, is_dir).read_bytes()
        except FileNotFoundError:
            data = self._from_remote(oid, path, is_dir)
        if hashing.hash_bytes(data) != oid:
            raise ObjectCorruptError(
                f"the object of {path} ({oid}) is corrupt; delete it from the cache and fetch "
                "it again"
            )
        return data

    def _from_remote(self, oid: str, path: str, is_dir: bool) -> bytes:
        try:
            config = self.project.config.remote(self.remote)
        except ConfigError:
            raise ObjectMissingError(
                f"{path} at {self.label} is not in the local cache and there is no remote to "
                "read it from; run 'gitflowml fetch' where it exists"
            ) from None
        remote = open_remote(config, self.project.root, self.project.jobs, self.project.cache_dir)
        key = object_key(oid, is_dir)
        if not remote.has([key]):
            raise RemoteError(
                f"{path} at {self.label} is neither in the local cache nor on remote "
                f"'{remote.name}' ({key}); push it from a clone that has it"
            )
        return remote.read(key)


def read(project: Project, path: str, rev: str | None, remote: str | None) -> bytes:
    rel = project.relpath(path) if rev is None else posixpath.normpath(path)
    data = Revision(project, rev, remote).read(rel)
    if data is None:
        raise PathError(f"{path} does not exist at {rev or WORKSPACE}")
    return data
