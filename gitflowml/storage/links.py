"""Objects of the local cache put into the workspace with the configured `cache.type`:
reflink, hardlink, symlink or copy, the first that works. A copy is verified against the
object's hash on its way out, so a corrupt object never lands; a small one is one read and
one write (unnamed until complete, see `fsutil.create`)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from gitflowml.config import LinkType
from gitflowml.errors import ObjectCorruptError, ObjectMissingError
from gitflowml.storage import hashing
from gitflowml.storage.odb import LocalOdb, corrupt_message
from gitflowml.util import fsutil

FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
_NO_REFLINK = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS}


def materialise(
    odb: LocalOdb,
    oid: str,
    dest: str | Path,
    link_types: tuple[LinkType, ...],
    isexec: bool,
    verified: bool,
    size: int | None = None,
) -> None:
    """Put object `oid` at `dest` (replacing it atomically) with the first link type that
    works. The object is verified on the way unless `verified` says it already was.
    `size` (the object's, when known) lets a small copy be one read and one write."""
    mode = 0o777 if isexec else 0o666
    if size is not None and size < hashing.CHUNK and _plain_copy(odb, link_types):
        fsutil.atomic_write_bytes(dest, _read_verified(oid, odb.path_str(oid), size), mode)
        return
    src = odb.path(oid)
    if not src.exists():
        raise ObjectMissingError(f"object {oid} is not in the cache")
    tmp = Path(fsutil.tmp_name(dest))  # in the project's private directory if it can be
    try:
        for link in link_types:
            if _try_link(odb, link, oid, src, tmp, mode, verified):
                fsutil.publish(tmp, dest)
                return
        raise OSError(errno.ENOTSUP, "none of the configured cache.type link types worked")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _plain_copy(odb: LocalOdb, link_types: tuple[LinkType, ...]) -> bool:
    """Whether the first link type to try is a copy (reflink known not to work here)."""
    for link in link_types:
        if link is not LinkType.REFLINK or odb.reflink_ok:
            return link is LinkType.COPY
    return False


def _read_verified(oid: str, src: str, size: int) -> bytes:
    """A small object's bytes, read in one call and checked against its hash."""
    try:
        fd = os.open(src, os.O_RDONLY)
    except FileNotFoundError:
        raise ObjectMissingError(f"object {oid} is not in the cache") from None
    try:
        data = os.read(fd, size + 1)  # one byte more: shows whether it is longer
    finally:
        os.close(fd)
    if hashing.hash_bytes(data) != oid:
        raise ObjectCorruptError(corrupt_message(src))
    return data


def copies_to(odb: LocalOdb, directory: Path, link_types: tuple[LinkType, ...]) -> bool:
    """Whether `materialise` into `directory` would make a plain copy (the first of
    `link_types` that works here is `copy`): then a caller holding an object's bytes
    may write the workspace file itself. Reflink is tried once, with a scratch file."""
    for link in link_types:
        if link is LinkType.COPY:
            return True
        if link is not LinkType.REFLINK:
            return False
        if odb.reflink_ok and _reflink_probe(odb, directory):
            return False
    return False


def _reflink_probe(odb: LocalOdb, directory: Path) -> bool:
    src = odb.tmp_path()
    dst = Path(fsutil.tmp_name(directory / "probe"))
    try:
        with open(src, "w+b") as f_in, open(dst, "wb") as f_out:
            f_in.write(b"x")
            f_in.flush()
            fcntl.ioctl(f_out.fileno(), FICLONE, f_in.fileno())
        return True
    except OSError as exc:
        if exc.errno in _NO_REFLINK:
            odb.reflink_ok = False
            return False
        raise
    finally:
        for path in (src, dst):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _try_link(
    odb: LocalOdb, link: LinkType, oid: str, src: Path, tmp: Path, mode: int, verified: bool
) -> bool:
    if link is LinkType.COPY:
        _verified_copy(oid, src, tmp, mode)
        return True
    if link is LinkType.REFLINK:
        if not odb.reflink_ok:
            return False
        if not verified:
            odb.verify(oid)
        fd_out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with open(src, "rb") as f_in:
                fcntl.ioctl(fd_out, FICLONE, f_in.fileno())
        except OSError as exc:
            os.close(fd_out)
            os.unlink(tmp)
            if exc.errno in _NO_REFLINK:
                odb.reflink_ok = False
                return False
            raise
        os.close(fd_out)
        return True
    if not verified:
        odb.verify(oid)
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


def _verified_copy(oid: str, src: Path, tmp: Path, mode: int) -> None:
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
        raise ObjectCorruptError(corrupt_message(src))


def probe(odb: LocalOdb, directory: Path) -> dict[LinkType, bool]:
    """Which link types work from the cache into `directory` (for `doctor`): each is tried
    on a scratch file, and nothing is left behind."""
    works = {LinkType.COPY: True, LinkType.REFLINK: _reflink_probe(odb, directory)}
    src = odb.tmp_path()
    src.write_bytes(b"x")
    try:
        for link, make in ((LinkType.HARDLINK, os.link), (LinkType.SYMLINK, os.symlink)):
            dst = fsutil.tmp_name(directory / "probe")
            try:
                make(src, dst)
                works[link] = True
            except OSError:
                works[link] = False
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(dst)
    finally:
        src.unlink()
    return works
