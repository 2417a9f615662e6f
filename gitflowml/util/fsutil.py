"""Small file-system helpers shared by the modules that write files: atomic writes."""

from __future__ import annotations

import contextlib
import errno
import functools
import marshal
import os
from pathlib import Path
from typing import Any

from gitflowml.util import tmpfiles

_PRIVATE: dict[str, Path] = {}  # project root (with a slash) -> its private directory
_DEVICES: dict[str, int] = {}  # directory -> st_dev, for the same-file-system test


def use_private_dir(root: Path, private: Path) -> None:
    """Temporaries of files written under `root` go to `private` (made when first used)
    when it is on their file system, so that a crash leaves nothing among the user's
    files. `Project` registers its `.gitflowml/tmp/work` here."""
    _PRIVATE[os.fspath(root).rstrip("/") + "/"] = private


def tmp_name(path: str | os.PathLike[str], via: str | os.PathLike[str] | None = None) -> str:
    """A temporary name (see `tmpfiles`) for a file to be published as `path`: in `via` if
    given, else in the private directory of the project `path` is in (when it is on the
    same file system), else beside `path`."""
    target = os.fspath(path)
    directory = os.path.dirname(target)
    if via is None:
        via = _private_for(target, directory)
    return tmpfiles.path_in(via if via is not None else directory)


def _private_for(target: str, directory: str) -> Path | None:
    for root, private in _PRIVATE.items():
        if not target.startswith(root) or target.startswith(os.fspath(private)):
            continue
        try:
            here = _DEVICES.get(directory)
            if here is None:
                here = _DEVICES[directory] = os.stat(directory).st_dev
            key = os.fspath(private)
            there = _DEVICES.get(key)
            if there is None:
                private.mkdir(parents=True, exist_ok=True)
                there = _DEVICES[key] = os.stat(private).st_dev
        except OSError:
            return None  # the directory is missing (the write will say so) or unwritable
        return private if here == there else None
    return None


def atomic_write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    mode: int = 0o666,
    via: str | os.PathLike[str] | None = None,
) -> None:
    """Write `data` to `path` so that readers see either the old file or the whole new one.
    Where the system allows, the file is written unnamed and named when complete (see
    `create`); else the temporary is beside `path`, or in `via` (a private directory on
    its file system)."""
    if create(path, data, mode, replace=True, via=via) is not None:
        return
    tmp = tmp_name(path, via)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        publish(tmp, path)  # a new file is linked into place; an existing one is replaced
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- unnamed files: written first, given their name only when complete ---------------------
_NO_UNNAMED: set[str] = set()  # directories (on file systems) without O_TMPFILE
_PROC_FD = "/proc/self/fd/"


def create(
    path: str | os.PathLike[str],
    data: bytes | memoryview,
    mode: int,
    replace: bool,
    via: str | os.PathLike[str] | None = None,
) -> bool | None:
    """Write `data` as a file with no name in `path`'s directory (Linux `O_TMPFILE`), then
    link it in as `path`: readers see no file or all of it, and a crash at any point leaves
    nothing behind, not even a temporary. One creation and no unlink, where a named
    temporary costs two directory changes more. When `path` exists: replaced (through a
    temporary name in `via` or beside it) if `replace`, else left as it is and False
    returned. None when this system or file system has no unnamed files: nothing was
    written, the caller writes through a named temporary instead."""
    target = os.fspath(path)
    directory = os.path.dirname(target) or "."
    if directory in _NO_UNNAMED or not _unnamed_supported():
        return None
    try:
        fd = os.open(directory, os.O_WRONLY | os.O_TMPFILE, mode)
    except OSError as exc:  # EISDIR: a kernel without O_TMPFILE; the others: no support here
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS):
            raise
        _NO_UNNAMED.add(directory)
        return None
    try:
        write_all(fd, data)
        try:
            _name(fd, target)
            return True
        except FileExistsError:
            if not replace:
                return False
        tmp = tmp_name(target, via)
        _name(fd, tmp)
        try:
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return True
    finally:
        os.close(fd)


def _name(fd: int, path: str) -> None:
    """Link the open unnamed file `fd` in as `path` (linkat through /proc, which needs no
    privilege; a directory fd is passed only so that Python calls linkat with
    AT_SYMLINK_FOLLOW: the path is absolute, so the kernel ignores it)."""
    os.link(f"{_PROC_FD}{fd}", path, src_dir_fd=fd, follow_symlinks=True)


@functools.cache
def _unnamed_supported() -> bool:
    return hasattr(os, "O_TMPFILE") and os.path.isdir(_PROC_FD)


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


def write_new(
    dest: str | os.PathLike[str], data: bytes, mode: int, via: Path | None = None
) -> bool:
    """Create `dest` holding `data`, atomically, unless something is there already (then
    nothing is written and False is returned: never clobbers). Unnamed until complete
    where the system allows (`create`), else through a temporary beside `dest` or in `via`."""
    made = create(dest, data, mode, replace=False)
    if made is not None:
        return made
    tmp = tmp_name(dest, via)
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


def remove(path: str | os.PathLike[str]) -> None:
    """Remove a file, link or directory tree (read-only files inside writable dirs included).
    Nothing there, or a file or link, costs one system call."""
    try:
        os.unlink(path)
        return
    except FileNotFoundError:
        return
    except OSError:  # a directory (EISDIR on Linux, EPERM elsewhere), or not ours to remove
        if os.path.islink(path) or not os.path.isdir(path):
            raise
    import shutil

    shutil.rmtree(path)


def move_aside(path: str | os.PathLike[str], trash: str) -> str | None:
    """Take `path` (a file, link or directory tree) out of the way by renaming it into the
    directory `trash` on the same file system, so that the caller can delete it later, off
    its critical path (deleting a file written a moment ago can wait on its writeback).
    Returns the new name, or None when nothing was there. Where a rename cannot be (another
    file system), `path` is removed here and now."""
    dest = tmpfiles.path_in(trash)
    try:
        os.rename(path, dest)
        return dest
    except FileNotFoundError:
        if not os.path.lexists(path):
            return None
        os.makedirs(trash, exist_ok=True)  # the trash itself was missing
        with contextlib.suppress(OSError):
            os.rename(path, dest)
            return dest
    except OSError:  # another file system, or not ours to rename
        pass
    remove(path)
    return None


def stat_key(path: str | os.PathLike[str], st: os.stat_result) -> tuple[str, int, int, int, int]:
    """What says a file is unchanged, for `kept`: path, inode, size, mtime and ctime."""
    return (os.fspath(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def kept(store: Path, key: tuple[Any, ...]) -> Any:
    """The value `keep` stored in `store` under exactly `key`; None when there is none."""
    try:
        kept_key, value = marshal.loads(store.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return value if kept_key == key else None


def keep(store: Path, key: tuple[Any, ...], value: Any) -> None:
    """Store `value` (marshal's types only) for `kept`; silently nothing when it cannot be
    (a value marshal cannot hold, an unwritable directory): it is only a cache."""
    try:
        data = marshal.dumps((key, value))
    except ValueError:
        return
    with contextlib.suppress(OSError):
        store.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(store, data)
