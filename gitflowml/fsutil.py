"""Small file-system helpers shared by the modules that write files: atomic writes."""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path


def tmp_name(directory: Path, stem: str = "tmp") -> Path:
    return directory / f".{stem}-{uuid.uuid4().hex}"


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write `data` to `path` so that readers see either the old file or the whole new one."""
    tmp = tmp_name(path.parent, path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        publish(tmp, path)  # a new file is linked into place; an existing one is replaced
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def publish(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Give the complete file `tmp` the name `dest`, atomically: readers see no file or all of it.

    A hard link plus unlink is used while `dest` does not exist: on ext4 it costs a tenth of a
    rename of a freshly written file, which forces the data's block allocation. An existing
    `dest` is replaced with a rename, and so is everything on file systems without hard links.
    """
    try:
        os.link(tmp, dest)
    except OSError as exc:
        if exc.errno not in (
            errno.EEXIST,
            errno.EPERM,
            errno.EOPNOTSUPP,
            errno.EXDEV,
            errno.EMLINK,
            errno.ENOSYS,
        ):
            raise
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until all of `data` is written (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_new(dest: Path, data: bytes, mode: int) -> bool:
    """Create `dest` holding `data`, atomically, unless something is there already (then
    nothing is written and False is returned: never clobbers)."""
    tmp = tmp_name(dest.parent, dest.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        try:
            os.link(tmp, dest)
        except FileExistsError:
            return False
        except OSError as exc:  # no hard links here: rename, if the name is still free
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            if os.path.lexists(dest):
                return False
            os.rename(tmp, dest)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove(path: Path) -> None:
    """Remove a file, link or directory tree (read-only files inside writable dirs included).
    Nothing there, or a file or link, costs one system call."""
    try:
        os.unlink(path)
        return
    except FileNotFoundError:
        return
    except OSError:  # a directory (EISDIR on Linux, EPERM elsewhere), or not ours to remove
        if path.is_symlink() or not path.is_dir():
            raise
    import shutil

    shutil.rmtree(path)
