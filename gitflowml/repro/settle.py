"""The writes of a `repro` that need not hold up the next command: the objects of small
outs, each stage's line in the lock journal, its run-cache entry and its run record, and
the deletion of old outs. They go, in order, to one background thread, a stage's writes as
one task: a journal line is written only once its objects are in the cache, and if one
write of a stage fails the rest of that stage's are not done."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitflowml.errors import StageFailedError
from gitflowml.pipeline import lockfile
from gitflowml.storage.odb import Later, LocalOdb
from gitflowml.util import fsutil

if TYPE_CHECKING:
    from gitflowml.lineage.record import RunRecord
    from gitflowml.lineage.store import PendingLog

TRASH_DIR = "trash"  # beside the journal, in .gitflowml/tmp
Write = tuple[Callable[..., object], tuple[Any, ...]]


class Settler:
    def __init__(self, odb: LocalOdb, journal: Path, dot_dir: Path, started_ns: int) -> None:
        self.odb, self.dot_dir, self.started_ns = odb, dot_dir, started_ns
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gitflowml-write")
        self.trash = str(journal.parent / TRASH_DIR)  # old outs, until deleted
        if os.path.isdir(self.trash):  # left by a run that was killed
            self.background.submit(_empty_trash, self.trash)
        self.writes: list[Future[object]] = []
        self.queued: list[Write] = []  # the stage being settled's
        self.write_failed = False
        self.records: PendingLog | None = None  # made with the first record
        self.journal_writer = lockfile.JournalWriter(journal)

    def later(self, fn: Callable[..., object], *args: Any) -> None:
        """Queue a write of the stage being settled; `hand_over` sends the stage's writes."""
        self.queued.append((fn, args))

    def hand_over(self) -> None:
        """The queued writes of one stage go to the background thread as one task, run in
        order: if one fails (its objects could not be stored), the rest are not done."""
        if self.queued:
            writes, self.queued = self.queued, []
            self.writes.append(self.background.submit(_in_order, writes))

    def discard(self, path: str) -> None:
        """An old out: renamed aside now, deleted on the background thread (deleting a file
        written moments ago can wait on its writeback)."""
        trashed = fsutil.move_aside(path, self.trash)
        if trashed is not None:
            self.later(_discard, trashed)  # with the next writes handed over

    def entry(self, name: str, entry: lockfile.StageLock, objects: Later) -> None:
        """The stage's objects, then its journal line."""
        self.later(self._settle, objects, name, entry)

    def record(self, make: Callable[[], RunRecord]) -> None:
        """A run record (pending until `record` attaches it to a commit), made and written
        on the background thread: the run waits for it at the end, not the next stage."""
        self.later(lambda: self._pending_log().append(make()))

    def close(self) -> BaseException | None:
        """Wait for every write; the first that failed, if one did."""
        self.hand_over()  # anything a stage left queued when the run stopped
        self.background.shutdown(wait=True)  # each write is atomic
        with contextlib.suppress(OSError):
            os.rmdir(self.trash)  # empty by now, unless a deletion failed
        if self.records is not None:
            self.records.close()
        self.journal_writer.close()
        return next((e for f in self.writes if (e := f.exception()) is not None), None)

    def _settle(self, later: Later, name: str, entry: lockfile.StageLock) -> None:
        try:
            self.odb.write_later(later)
        except OSError as exc:
            self.write_failed = True
            raise StageFailedError(
                f"stage '{name}' ran, but its outs could not be stored in the cache "
                f"({exc.strerror or exc}: {exc.filename or self.odb.root}); fix that and "
                "run repro again: the stage will run again"
            ) from exc
        self.journal_writer.append(name, entry)

    def _pending_log(self) -> PendingLog:
        if self.records is None:
            # imported with the first record, not at start-up (the first command starts sooner)
            from gitflowml.lineage import store

            self.records = store.PendingLog(self.dot_dir, self.started_ns)
        return self.records


def _discard(trashed: str) -> None:
    """Delete an old out moved aside; one left behind (an error, a crash) goes with the
    next run's `_empty_trash`."""
    with contextlib.suppress(OSError):
        fsutil.remove(trashed)


def _empty_trash(trash: str) -> None:
    with contextlib.suppress(OSError):
        for name in os.listdir(trash):
            _discard(os.path.join(trash, name))


def _in_order(writes: list[Write]) -> None:
    for fn, args in writes:
        fn(*args)
