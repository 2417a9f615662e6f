"""The content-addressed object store on a local file system.

Layout (SPEC section 4): `<store>/<hex[:2]>/<hex[2:]>` for file contents and
`<store>/<hex[:2]>/<hex[2:]>.dir` for directory manifests. Objects are read-only and appear
whole or not at all, so a crash never leaves a truncated or misnamed object: a small object
(its oid known before writing) is written as an unnamed file and linked in under its name
when complete (`fsutil.create`, Linux `O_TMPFILE`), or, where the system has no unnamed
files, through a temporary (named as `util/tmpfiles.py` says) in its own directory. A large
file, whose hash is known only at the end, is copied to a temporary in `<store>/tmp/` and
then published (`fsutil.publish`). A process lists a fan-out directory once, when it first
writes there, and decides from that listing which objects need writing. Every oid from
outside is validated before it becomes a path. Putting objects into the workspace is
`storage/links`. Remote stores (fsspec) share the layout: `layout` owns the key shapes.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

from gitflowml import quick
from gitflowml.errors import ObjectCorruptError, ObjectMissingError
from gitflowml.storage import hashing, layout
from gitflowml.util import fsutil, tmpfiles

if TYPE_CHECKING:
    from gitflowml.project import Project

TMP_DIR = "tmp"
_LISTED_MAX = 50_000  # fan-out directories with more names are not kept in memory
OBJECT_MODE = 0o444
Later = list[tuple[str, bytes, bool]]  # objects hashed, not yet written: (oid, content, is_dir)


class LocalOdb:
    """Objects under `root`. Safe to use from several threads and processes at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self._made: set[str] = set()
        self._looked: set[str] = set()
        self._listed: dict[str, set[str]] = {}  # fan-out directory -> its names (see _look)
        self.reflink_ok = True  # until a reflink fails here (see storage/links)

    # -- paths ---------------------------------------------------------------------------
    def path(self, oid: str, is_dir: bool = False) -> Path:
        return self.root / layout.checked_key(oid, is_dir)

    def path_str(self, oid: str, is_dir: bool = False) -> str:
        """`path`, as a string (cheaper, for per-file loops)."""
        return f"{self._root}/{layout.checked_key(oid, is_dir)}"

    def exists(self, oid: str, is_dir: bool = False) -> bool:
        path = self.path(oid, is_dir)
        quick.note(path)
        return os.path.exists(path)

    def _dir(self, name: str) -> Path:
        """Directory `name` of the store, made if needed (and looked at, see `_look`)."""
        directory = self.root / name
        if name not in self._made:
            directory.mkdir(parents=True, exist_ok=True)
            self._look(name)
            self._made.add(name)
        return directory

    def _look(self, name: str) -> set[str] | None:
        """List directory `name` of the store once per process, when about to write there:
        a killed command's orphaned temporaries are removed, and what a fan-out directory
        holds is kept for `_present` (None when it is too large to keep)."""
        if name not in self._looked:
            try:
                names = os.listdir(self.root / name)
            except (FileNotFoundError, NotADirectoryError):
                names = []  # made when written to; an obstacle is reported then
            tmpfiles.remove_orphans(str(self.root / name / n) for n in names if tmpfiles.is_tmp(n))
            if name != TMP_DIR and len(names) <= _LISTED_MAX:
                self._listed[name] = set(names)
            self._looked.add(name)
        return self._listed.get(name)

    def _present(self, oid: str, is_dir: bool = False) -> bool:
        """Whether object `oid` (hashed here, so valid) is stored, for a writer deciding
        whether to write it: answered from this process's listing of its fan-out directory
        and what it wrote since, without a stat per object. One that another process
        stored meanwhile is written again, harmlessly: the same bytes under the same name."""
        fan, name = layout.split_key(oid, is_dir)
        listed = self._look(fan)
        if listed is None:  # a fan-out directory too large to keep in memory
            return os.path.exists(f"{self._root}/{fan}/{name}")
        return name in listed

    def _tmp(self, fan: str = TMP_DIR) -> str:
        """A temporary name in the directory the object will be published into when the oid
        is known, else in tmp/. Unique per process (random token) and call (counter)."""
        return tmpfiles.path_in(self._dir(fan))

    def _install(self, tmp: str, oid: str, is_dir: bool) -> None:
        self._dir(layout.fan(oid))
        fsutil.publish(tmp, self.path(oid, is_dir))

    # -- writing -------------------------------------------------------------------------
    def add_bytes(self, data: bytes, is_dir: bool = False) -> str:
        oid = hashing.hash_bytes(data)
        if not self.exists(oid, is_dir):
            self._write_new(oid, data, is_dir)
        return oid

    def _write_new(self, oid: str, data: bytes, is_dir: bool) -> None:
        fan, name = layout.split_key(oid, is_dir)  # oid: hashed here, so valid
        if fan not in self._made:
            self._dir(fan)
        dest = f"{self._root}/{fan}/{name}"
        # unnamed until complete where the system allows; created read-only either way
        if fsutil.create(dest, data, OBJECT_MODE, replace=True) is None:
            self._write_named(fan, dest, data)
        listed = self._listed.get(fan)
        if listed is not None:
            listed.add(name)

    def _write_named(self, fan: str, dest: str, data: bytes) -> None:
        tmp = self._tmp(fan)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            try:
                fsutil.write_all(fd, data)
            finally:
                os.close(fd)
            fsutil.publish(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def add_file(
        self, src: str, size_hint: int | None = None, later: Later | None = None
    ) -> tuple[str, int]:
        """Hash `src` and store it in one pass; returns (oid, size). Reads the file once.

        `size_hint` (from a recent stat) lets a small file be read with one exact-size read.
        With `later`, a file that fits in one read is not written yet: its (oid, bytes) is
        appended there, for `write_later`, so the caller can move the writing off its
        critical path. Larger files are always stored at once."""
        want = hashing.CHUNK
        if size_hint is not None and size_hint < hashing.CHUNK:
            want = size_hint + 1  # one byte more than expected: shows whether it grew
        fd = os.open(src, os.O_RDONLY)
        try:
            first = os.read(fd, want)
            if len(first) < want:  # whole file: the oid is known before writing
                oid = hashing.hash_bytes(first)
                if not self._present(oid):
                    if later is not None:
                        later.append((oid, first, False))
                    else:
                        self._write_new(oid, first, False)
                return oid, len(first)
            return self._add_stream(fd, first)
        finally:
            os.close(fd)

    def write_later(self, later: Later) -> None:
        """Store what `add_file(..., later=...)` held back (the same bytes it hashed)."""
        for oid, data, is_dir in later:  # a manifest comes after its files
            if not self._present(oid, is_dir):
                self._write_new(oid, data, is_dir)

    def _add_stream(self, src_fd: int, first: bytes) -> tuple[str, int]:
        """A large file: copy it into a temporary object in the kernel (copy_file_range: no
        trip through user space, and a shared extent on btrfs/XFS), then hash the copy, so
        the object is named by exactly the bytes it holds even if the source changes."""
        tmp = self._tmp()
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            try:
                fsutil.write_all(fd, first)
                _copy_rest(src_fd, fd)
                os.lseek(fd, 0, os.SEEK_SET)
                with open(fd, "rb", buffering=0, closefd=False) as copy:
                    oid, size = hashing.hash_stream(copy)
            finally:
                os.close(fd)
            if self.exists(oid):
                os.unlink(tmp)
            else:
                self._install(tmp, oid, False)
            return oid, size
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def put_verified(
        self, data: bytes, oid: str, is_dir: bool = False, missing: bool = False
    ) -> bool:
        """Store `data` as object `oid` if it hashes to `oid`; False (nothing stored) if not.
        `missing`: the caller has just seen that the cache lacks it (no stat first; should
        it have appeared since, the same bytes are published over it)."""
        if hashing.hash_bytes(data) != oid:
            return False
        if missing or not self.exists(oid, is_dir):
            self._write_new(oid, data, is_dir)
        return True

    def tmp_path(self) -> Path:
        """A fresh temporary name inside the cache (same file system as its objects)."""
        return Path(self._tmp())

    def adopt(self, tmp: Path, oid: str, is_dir: bool = False) -> bool:
        """Publish the finished temporary file `tmp` as object `oid` if its content hashes to
        `oid` (False, and `tmp` removed, when it does not: nothing unverified enters)."""
        try:
            actual, _ = hashing.hash_file(str(tmp))
            if actual != oid:
                return False
            os.chmod(tmp, OBJECT_MODE)
            if self.exists(oid, is_dir):
                return True
            self._install(str(tmp), oid, is_dir)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def add_manifest(self, manifest: hashing.Manifest, later: Later | None = None) -> str:
        if later is None:
            return self.add_bytes(manifest.to_bytes(), is_dir=True)
        data = manifest.to_bytes()
        oid = hashing.hash_bytes(data)
        later.append((oid, data, True))
        return oid

    def missing(self, oids: set[str]) -> set[str]:
        """Which of `oids` (file objects) are not in `odb`: one listing per fan-out directory."""
        by_fan: dict[str, set[str]] = {}
        for oid in oids:
            layout.check(oid)
            fan, rest = layout.split(oid)
            by_fan.setdefault(fan, set()).add(rest)
        missing: set[str] = set()
        for fan, rests in by_fan.items():
            quick.note(self.root / fan)  # a listing changes its directory's mtime
            if len(rests) <= 4:
                missing.update(fan + r for r in rests if not (self.root / fan / r).exists())
                continue
            try:
                present = set(os.listdir(self.root / fan))
            except FileNotFoundError:
                present = set()
            missing.update(fan + r for r in rests - present)
        return missing

    def listing(self) -> dict[str, int]:
        """Every object key in the store (`ab/cdef…`, `ab/cdef….dir`) with its size."""
        out: dict[str, int] = {}
        try:
            fans = [f for f in os.listdir(self.root) if len(f) == 2]
        except FileNotFoundError:
            return out
        for fan in fans:
            with os.scandir(self.root / fan) as it:
                for entry in it:
                    key = f"{fan}/{entry.name}"
                    if layout.oid_of(key) is not None:
                        out[key] = entry.stat(follow_symlinks=False).st_size
        return out

    # -- reading -------------------------------------------------------------------------
    def read_manifest(self, oid: str) -> hashing.Manifest:
        """Load and verify a directory manifest."""
        path = self.path(oid, is_dir=True)
        quick.note(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ObjectMissingError(f"directory object {oid} is not in the cache") from None
        if hashing.hash_bytes(data) != oid:
            raise ObjectCorruptError(
                f"cache object {path} is corrupt (its content does not match its hash); "
                "delete it and fetch it again with 'gitflowml pull'"
            )
        try:
            return hashing.Manifest.from_bytes(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise ObjectCorruptError(f"cache object {path} is not a valid manifest: {exc}") from exc

    def verify(self, oid: str) -> None:
        """Re-hash a file object; raise when it is missing or its content does not match."""
        path = self.path(oid)
        try:
            actual, _ = hashing.hash_file(str(path))
        except FileNotFoundError:
            raise ObjectMissingError(f"object {oid} is not in the cache") from None
        if actual != oid:
            raise ObjectCorruptError(corrupt_message(path))


def corrupt_message(path: str | Path) -> str:
    return (
        f"cache object {path} is corrupt (its content does not match its hash); "
        "delete it and fetch it again with 'gitflowml pull', or re-add the data"
    )


def _copy_rest(src: int, dst: int) -> None:
    """Copy from src's offset to its end onto dst's offset."""
    try:
        while os.copy_file_range(src, dst, 1 << 30):
            pass
        return
    except OSError as exc:  # older kernels, some file systems: copy through user space
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    buf = bytearray(hashing.CHUNK)
    view = memoryview(buf)
    while n := os.readv(src, [buf]):
        fsutil.write_all(dst, view[:n])


def local_odb(project: Project) -> LocalOdb:
    """The project's local object store."""
    return LocalOdb(project.cache_dir)
