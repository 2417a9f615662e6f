"""The content-addressed object store on a local file system.

Layout (SPEC section 4): `<store>/<hex[:2]>/<hex[2:]>` for file contents and
`<store>/<hex[:2]>/<hex[2:]>.dir` for directory manifests. An object is written to a
temporary file (named as `util/tmpfiles.py` says) and published (hard-linked, see
`fsutil.publish`) under its name only when complete, so a crash never leaves a truncated or
misnamed object. Objects are read-only. The temporary sits in the object's own directory
when the oid is known before writing (every file that fits in one read), and in
`<store>/tmp/` for larger files, whose hash is known only at the end. Workspace files are
written through a temporary in the project's private `.gitflowml/tmp/work` when it is on
their file system, else beside them. Every oid is validated before it becomes a path.
Remote stores (fsspec) share the layout: `layout` owns the key shapes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

from gitflowml import quick
from gitflowml.config import LinkType
from gitflowml.errors import ObjectCorruptError, ObjectMissingError
from gitflowml.storage import hashing, layout
from gitflowml.util import fsutil, tmpfiles

if TYPE_CHECKING:
    from gitflowml.project import Project

TMP_DIR = "tmp"
OBJECT_MODE = 0o444
FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
Later = list[tuple[str, bytes, bool]]  # objects hashed, not yet written: (oid, content, is_dir)
_NO_REFLINK = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS}


class LocalOdb:
    """Objects under `root`. Safe to use from several threads and processes at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[str] = set()
        self._reflink_ok = True

    # -- paths ---------------------------------------------------------------------------
    def path(self, oid: str, is_dir: bool = False) -> Path:
        return self.root / layout.checked_key(oid, is_dir)

    def exists(self, oid: str, is_dir: bool = False) -> bool:
        path = self.path(oid, is_dir)
        quick.note(path)
        return os.path.exists(path)

    def _dir(self, name: str) -> Path:
        directory = self.root / name
        if name not in self._made:
            directory.mkdir(parents=True, exist_ok=True)
            tmpfiles.clean_dir(directory)  # a killed command's orphans, where this one writes
            self._made.add(name)
        return directory

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
            self._write_new(oid, (data,), is_dir)
        return oid

    def _write_new(self, oid: str, blocks: tuple[bytes, ...], is_dir: bool) -> None:
        tmp = self._tmp(layout.fan(oid))
        try:
            # created read-only: the new descriptor may still write, nobody else can
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            try:
                for block in blocks:
                    fsutil.write_all(fd, block)
            finally:
                os.close(fd)
            self._install(tmp, oid, is_dir)
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
                if not os.path.exists(f"{self.root}/{layout.object_key(oid)}"):
                    if later is not None:
                        later.append((oid, first, False))
                    else:
                        self._write_new(oid, (first,), False)
                return oid, len(first)
            return self._add_stream(fd, first)
        finally:
            os.close(fd)

    def write_later(self, later: Later) -> None:
        """Store what `add_file(..., later=...)` held back (the same bytes it hashed)."""
        for oid, data, is_dir in later:  # a manifest comes after its files
            if not os.path.exists(self.path(oid, is_dir)):
                self._write_new(oid, (data,), is_dir)

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
            self._write_new(oid, (data,), is_dir)
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
            raise ObjectCorruptError(_corrupt_message(path))

    # -- materialising -------------------------------------------------------------------
    def materialise(
        self, oid: str, dest: Path, link_types: tuple[LinkType, ...], isexec: bool, verified: bool
    ) -> None:
        """Put object `oid` at `dest` (replacing it atomically) with the first link type that
        works. The object is verified on the way unless `verified` says it already was."""
        src = self.path(oid)
        if not src.exists():
            raise ObjectMissingError(f"object {oid} is not in the cache")
        tmp = Path(fsutil.tmp_name(dest))  # in the project's private directory if it can be
        mode = 0o777 if isexec else 0o666
        try:
            for link in link_types:
                if self._try_link(link, oid, src, tmp, mode, verified):
                    fsutil.publish(tmp, dest)
                    return
            raise OSError(errno.ENOTSUP, "none of the configured cache.type link types worked")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def copies_to(self, directory: Path, link_types: tuple[LinkType, ...]) -> bool:
        """Whether `materialise` into `directory` would make a plain copy (the first of
        `link_types` that works here is `copy`): then a caller holding an object's bytes
        may write the workspace file itself. Reflink is tried once, with a scratch file."""
        for link in link_types:
            if link is LinkType.COPY:
                return True
            if link is not LinkType.REFLINK:
                return False
            if self._reflink_ok and self._reflink_probe(directory):
                return False
        return False

    def _reflink_probe(self, directory: Path) -> bool:
        src = self._tmp()
        dst = Path(fsutil.tmp_name(directory / "probe"))
        try:
            with open(src, "w+b") as f_in, open(dst, "wb") as f_out:
                f_in.write(b"x")
                f_in.flush()
                fcntl.ioctl(f_out.fileno(), FICLONE, f_in.fileno())
            return True
        except OSError as exc:
            if exc.errno in _NO_REFLINK:
                self._reflink_ok = False
                return False
            raise
        finally:
            for path in (src, dst):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def _try_link(
        self, link: LinkType, oid: str, src: Path, tmp: Path, mode: int, verified: bool
    ) -> bool:
        if link is LinkType.COPY:
            self._verified_copy(oid, src, tmp, mode)
            return True
        if link is LinkType.REFLINK:
            if not self._reflink_ok:
                return False
            if not verified:
                self.verify(oid)
            fd_out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                with open(src, "rb") as f_in:
                    fcntl.ioctl(fd_out, FICLONE, f_in.fileno())
            except OSError as exc:
                os.close(fd_out)
                os.unlink(tmp)
                if exc.errno in _NO_REFLINK:
                    self._reflink_ok = False
                    return False
                raise
            os.close(fd_out)
            return True
        if not verified:
            self.verify(oid)
        try:
            if link is LinkType.HARDLINK:
                os.link(src, tmp)
            else:
                os.symlink(src, tmp)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP):
                return False
            raise
        return True

    def _verified_copy(self, oid: str, src: Path, tmp: Path, mode: int) -> None:
        fd_in = os.open(src, os.O_RDONLY)
        try:
            size = os.fstat(fd_in).st_size
            fd_out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                if size < hashing.CHUNK:  # one exact read: no large buffer per small file
                    data = os.read(fd_in, size + 1)
                    digest = hashing.hash_bytes(data)
                    fsutil.write_all(fd_out, data)
                else:
                    hasher = hashing.new_hasher()
                    buf = bytearray(hashing.CHUNK)
                    view = memoryview(buf)
                    while n := os.readv(fd_in, [buf]):
                        block = view[:n]
                        hasher.update(block)
                        fsutil.write_all(fd_out, block)
                    digest = hasher.hexdigest()
            finally:
                os.close(fd_out)
        finally:
            os.close(fd_in)
        if digest != oid:
            os.unlink(tmp)
            raise ObjectCorruptError(_corrupt_message(src))


def _corrupt_message(path: Path) -> str:
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
