"""Owns the names of gitflowml's temporary files, wherever they are: in the workspace, the
cache, `.gitflowml/tmp/` or a remote.

A temporary is named `.gfml-tmp.<host>.<pid>.<token>.<n>`: the host (a short hash of its
name) and pid of the process that made it, a per-process random token and a counter. So
anyone can tell a temporary from user data (it is never scanned, hashed or checked out),
and judge whether it is an orphan: its process is gone from this host, or (from another
host, or a pid that was reused) it is older than a limit. A process never takes its own
temporaries for orphans.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
import zlib
from collections.abc import Iterable

PREFIX = ".gfml-tmp."
LOCAL_AGE_S = 3600.0  # a temporary of a live process on this host is left this long
REMOTE_AGE_S = 86400.0  # on a remote a push may be running elsewhere: a day
HOST = f"{zlib.crc32(os.uname().nodename.encode()):08x}"  # this host, in 8 hex digits
_TOKEN = os.urandom(6).hex()  # drawn again in a forked child
_COUNTER = itertools.count()
_STEM = f"{PREFIX}{HOST}.{os.getpid()}.{_TOKEN}."  # what this process's names start with


def _reseed() -> None:
    global _TOKEN, _STEM
    _TOKEN = os.urandom(6).hex()
    _STEM = f"{PREFIX}{HOST}.{os.getpid()}.{_TOKEN}."


os.register_at_fork(after_in_child=_reseed)


def name() -> str:
    """A new temporary's file name, unique per host, process and call."""
    return f"{_STEM}{next(_COUNTER)}"


def path_in(directory: str | os.PathLike[str]) -> str:
    """A new temporary's path in `directory` (joined as `os.path.join` would)."""
    base = os.fspath(directory)
    sep = "/" if base and not base.endswith("/") else ""
    return f"{base}{sep}{_STEM}{next(_COUNTER)}"


def is_tmp(basename: str) -> bool:
    return basename.startswith(PREFIX)


def orphaned(
    basename: str, mtime: float, max_age: float = LOCAL_AGE_S, now: float | None = None
) -> bool:
    """Whether the temporary `basename` (last modified at `mtime`) belongs to nobody: its
    process is dead on this host, or it is older than `max_age` seconds."""
    if not is_tmp(basename):
        return False
    parts = basename[len(PREFIX) :].split(".")
    ours = len(parts) == 4 and parts[0] == HOST
    if ours and parts[1] == str(os.getpid()) and parts[2] == _TOKEN:
        return False  # this process's own, in use
    if ours and parts[1].isdigit() and not alive(int(parts[1])):
        return True
    return (time.time() if now is None else now) - mtime > max_age


def alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (a zombie, killed and never reaped by its
    parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc here: trust kill


def orphans(
    paths: Iterable[str | os.PathLike[str]], max_age: float = LOCAL_AGE_S
) -> list[str | os.PathLike[str]]:
    """The orphaned temporaries among `paths` (one that vanished meanwhile is left out)."""
    found = []
    for path in paths:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if orphaned(os.path.basename(os.fspath(path)), st.st_mtime, max_age):
            found.append(path)
    return found


def remove_orphans(paths: Iterable[str | os.PathLike[str]], max_age: float = LOCAL_AGE_S) -> int:
    """Remove the orphaned temporaries among `paths` (files, or trees moved aside);
    returns how many. One that vanished meanwhile is fine."""
    removed = 0
    for path in orphans(paths, max_age):
        with contextlib.suppress(FileNotFoundError):
            _remove(path)
            removed += 1
    return removed


def clean_dir(directory: str | os.PathLike[str], max_age: float = LOCAL_AGE_S) -> int:
    """Remove the orphaned temporaries directly inside `directory`."""
    try:
        names = [n for n in os.listdir(directory) if is_tmp(n)]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return remove_orphans((os.path.join(directory, n) for n in names), max_age)


def in_tree(root: str | os.PathLike[str]) -> list[str]:
    """Every temporary anywhere under `root` (a temporary directory counts once)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [os.path.join(dirpath, n) for n in filenames if is_tmp(n)]
        found += [os.path.join(dirpath, n) for n in dirnames if is_tmp(n)]
        dirnames[:] = [d for d in dirnames if not is_tmp(d)]
    return found


def clean_tree(root: str | os.PathLike[str], max_age: float = LOCAL_AGE_S) -> int:
    """Remove the orphaned temporaries anywhere under `root` (for gc)."""
    return remove_orphans(in_tree(root), max_age)


def _remove(path: str | os.PathLike[str]) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
