"""Owns the pending records in `.gitflowml/runs/`: records of runs not yet attached to a
commit, one JSON Lines file per run."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from gitflowml.lineage.record import RunRecord, parse_lines
from gitflowml.util import fsutil

RUNS_DIR = "runs"  # in .gitflowml/


LOG_SUFFIX = ".jsonl"


# -- pending records ---------------------------------------------------------------------------
class PendingLog:
    """One run's pending records: a JSON Lines file in `.gitflowml/runs/`, one line appended
    (one write) as each stage ends. The file is held locked (flock) while the run goes on,
    so `record` leaves it alone until the run is over; a crash releases the lock, and a line
    torn by it is skipped. Names sort by start time."""

    def __init__(self, dot_dir: Path, started_ns: int | None = None) -> None:
        started = time.time_ns() if started_ns is None else started_ns
        name = f"{started}-{os.urandom(4).hex()}{LOG_SUFFIX}"
        self.path = dot_dir / RUNS_DIR / name
        self._fd: int | None = None

    def append(self, record: RunRecord) -> None:
        if self._fd is None:
            self.path.parent.mkdir(exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
        os.write(self._fd, (record.line() + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # and with it the lock
            self._fd = None


def pending(dot_dir: Path) -> list[tuple[Path, RunRecord]]:
    """Every pending record, oldest run first, with the file that holds it."""
    directory = dot_dir / RUNS_DIR
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith((".json", LOG_SUFFIX)))
    except FileNotFoundError:
        return []
    out: list[tuple[Path, RunRecord]] = []
    for name in names:
        path = directory / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        out.extend((path, rec) for rec in parse_lines(data))
    return out


def settle_pending(path: Path, attached: set[str]) -> bool:
    """Drop the `attached` records (by line) from a pending file: unlink it when nothing
    else is left, else rewrite it atomically. False when a run still writes it (locked)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        keep = [r.line() for r in parse_lines(path.read_bytes()) if r.line() not in attached]
        if keep:
            fsutil.atomic_write_text(path, "".join(line + "\n" for line in keep))
        else:
            path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
