"""Small file-system helpers shared by the modules that write files: atomic writes."""

from __future__ import annotations

import contextlib
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
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove(path: Path) -> None:
    """Remove a file, link or directory tree (read-only files inside writable dirs included)."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    import shutil

    shutil.rmtree(path)
