"""The repository lock (`.gitflowml/lock`): one `repro` at a time per repository.

An advisory `flock`, released by the kernel when its holder dies, so a killed run never
leaves a stale lock behind. The file holds the holder's pid, for the waiting message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from gitflowml.errors import RepoLockedError

LOCK_NAME = "lock"
POLL_SECONDS = 0.1


@contextlib.contextmanager
def hold(
    dot_dir: Path, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock; while another process holds it, wait (`None`: as long as it takes),
    telling `on_wait` the holder's pid once, then give up with RepoLockedError after `wait`
    seconds."""
    path = dot_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait, on_wait)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the flock


def _acquire(
    fd: int, path: Path, wait: float | None, on_wait: Callable[[str], None] | None
) -> None:
    deadline = None if wait is None else time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = path.read_text().strip() or "?"
        if deadline is not None and time.monotonic() >= deadline:
            raise RepoLockedError(
                f"another gitflowml command (pid {holder}) holds {path}; wait for it to "
                "finish, or give it longer with --wait SECONDS"
            )
        if not told and on_wait is not None:
            on_wait(holder)
            told = True
        time.sleep(POLL_SECONDS)
