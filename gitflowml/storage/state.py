"""The stat cache: (path, inode, size, mtime_ns) -> oid, so an unchanged file is never re-read.

A directory is also remembered whole: the fingerprint of its files' stat data -> its oid,
so that an unchanged directory costs one stat per file and nothing else. It also remembers
which directory oids had every file object in the local cache, so that
`status` need not list the cache each time; whatever removes objects must `forget_complete`.

An entry is trusted only while the file's inode, size and mtime_ns are what they were when it
was hashed, and only if the file had not been modified within `RACY_NS` before it was hashed
(git's "racy clean" problem: a write inside the same timestamp tick would go unnoticed).

A long command (`repro`) can `hold` its entries: they are kept in memory and written in one
transaction when it ends, instead of one transaction per stage. While held, an entry this
process made is trusted for the rest of the command whenever the stat data still match, even
a "racy" one: a stage's out, hashed once after its stage ended, is not read again for each
stage that depends on it. (If the command is killed first, the held entries are lost, which
only costs hashing those files again.) `read_ahead` fetches many rows in one query.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gitflowml import quick

if TYPE_CHECKING:
    from gitflowml.project import Project

SCHEMA = 4
RACY_NS = 50_000_000  # 50 ms: well above the coarsest common mtime granularity (4 ms ticks)


class Stat(NamedTuple):
    """What stat() says of a file, as far as the cache cares (a tuple: cheap by the 100,000)."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stat:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns)


_Row = tuple[int, int, int, int, str]  # inode, size, mtime_ns, checked_ns, oid


class StateDb:
    """A small SQLite table. Paths are absolute strings; open with `StateDb.open(path)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self._conn = conn
        self._path = path
        self._held: dict[str, _Row] | None = None  # made by this process, not yet written
        self._ahead: dict[str, _Row | None] = {}  # rows read ahead (None: there is none)

    @classmethod
    def open(cls, path: Path) -> StateDb:
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            cls._create_schema(conn)
        return cls(conn, path)

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # all of the schema or none of it
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA:
            conn.execute("COMMIT")  # another process created it while we waited
            return
        for table in ("state", "complete", "dirs", "code"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            "CREATE TABLE state (path TEXT PRIMARY KEY, inode INTEGER, size INTEGER,"
            " mtime_ns INTEGER, checked_ns INTEGER, oid TEXT) WITHOUT ROWID"
        )
        # directory oids whose every file object was seen in the local cache
        conn.execute("CREATE TABLE complete (oid TEXT PRIMARY KEY) WITHOUT ROWID")
        # a directory's oid keyed by the fingerprint of its files' stat data
        conn.execute(
            "CREATE TABLE dirs (path TEXT PRIMARY KEY, fingerprint TEXT, oid TEXT) WITHOUT ROWID"
        )
        # what a Python file imports and its syntax-tree hash, by the file's content hash
        conn.execute(
            "CREATE TABLE code (oid TEXT PRIMARY KEY, ast_oid TEXT, imports TEXT) WITHOUT ROWID"
        )
        conn.execute(f"PRAGMA user_version={SCHEMA}")
        conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    @staticmethod
    def _trusted(row: _Row, stat: Stat) -> str | None:
        inode, size, mtime_ns, checked_ns, oid = row
        if (inode, size, mtime_ns) != (stat.inode, stat.size, stat.mtime_ns):
            return None
        if checked_ns - mtime_ns < RACY_NS:
            return None
        return oid

    def _mine(self, path: str, stat: Stat) -> str | None:
        """The oid of a held entry whose stat data still match (no racy check: see above)."""
        row = self._held.get(path) if self._held is not None else None
        if row is None or (row[0], row[1], row[2]) != (stat.inode, stat.size, stat.mtime_ns):
            return None
        return row[4]

    def get(self, path: str, stat: Stat) -> str | None:
        if self._held and (oid := self._mine(path, stat)) is not None:
            return oid
        if path in self._ahead:
            row = self._ahead[path]
        else:
            row = self._conn.execute(
                "SELECT inode, size, mtime_ns, checked_ns, oid FROM state WHERE path = ?", (path,)
            ).fetchone()
        return self._trusted(row, stat) if row else None

    def read_ahead(self, paths: Iterable[str]) -> None:
        """Fetch the rows of `paths` in a few queries, for the `get` calls to come."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self._ahead]
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            self._ahead.update(dict.fromkeys(chunk))
            marks = ",".join("?" * len(chunk))
            for path, *row in self._conn.execute(
                "SELECT path, inode, size, mtime_ns, checked_ns, oid FROM state"
                f" WHERE path IN ({marks})",
                chunk,
            ):
                self._ahead[path] = (row[0], row[1], row[2], row[3], row[4])

    def get_under(self, prefix: str) -> dict[str, _Row]:
        """Every row whose path starts with `prefix` + '/', in one range query."""
        lo = prefix.rstrip("/") + "/"
        hi = lo[:-1] + "0"  # '0' sorts right after '/'
        rows = self._conn.execute(
            "SELECT path, inode, size, mtime_ns, checked_ns, oid FROM state"
            " WHERE path >= ? AND path < ?",
            (lo, hi),
        )
        return {r[0]: r[1:] for r in rows}

    def lookup(self, rows: dict[str, _Row], path: str, stat: Stat) -> str | None:
        if self._held and (oid := self._mine(path, stat)) is not None:
            return oid
        row = rows.get(path)
        return self._trusted(row, stat) if row else None

    def set_many(self, items: Iterable[tuple[str, Stat, str]], now_ns: int | None = None) -> None:
        checked = time.time_ns() if now_ns is None else now_ns
        rows = [(p, s.inode, s.size, s.mtime_ns, checked, oid) for p, s, oid in items]
        if self._held is not None:
            for path, inode, size, mtime_ns, checked_ns, oid in rows:
                self._held[path] = (inode, size, mtime_ns, checked_ns, oid)
            return
        for path, *_ in rows:
            self._ahead.pop(path, None)
        if rows:
            self._write(rows)

    def _write(self, rows: list[tuple[str, int, int, int, int, str]]) -> None:
        with self.transaction():
            self._conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?, ?)", rows)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the entries made inside in memory; write them all when it ends (also when
        it ends with an exception, Ctrl-C included)."""
        self._held = {}
        failed = True
        try:
            yield
            failed = False
        finally:
            held, self._held = self._held, None
            self._ahead.clear()
            # a cache: when the command fails, its own error is the one to see
            with contextlib.suppress(sqlite3.Error) if failed else contextlib.nullcontext():
                if held:
                    self._write([(path, *row) for path, row in held.items()])

    def get_dir(self, path: str, fingerprint: str) -> str | None:
        row = self._conn.execute(
            "SELECT oid FROM dirs WHERE path = ? AND fingerprint = ?", (path, fingerprint)
        ).fetchone()
        return row[0] if row else None

    def set_dir(self, path: str, fingerprint: str, oid: str) -> None:
        """Only for a fingerprint taken when no file was modified within RACY_NS of hashing."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO dirs VALUES (?, ?, ?)", (path, fingerprint, oid)
            )

    def is_complete(self, oid: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM complete WHERE oid = ?", (oid,)).fetchone()
        return row is not None

    def mark_complete(self, oids: Iterable[str]) -> None:
        rows = [(oid,) for oid in oids]
        if rows:
            with self.transaction():
                self._conn.executemany("INSERT OR IGNORE INTO complete VALUES (?)", rows)

    def get_code(self, oids: list[str]) -> dict[str, tuple[str, str]]:
        """Known analyses of Python files by content hash: oid -> (ast hash, imports JSON)."""
        found: dict[str, tuple[str, str]] = {}
        for i in range(0, len(oids), 500):
            chunk = oids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for oid, ast_oid, imports in self._conn.execute(
                f"SELECT oid, ast_oid, imports FROM code WHERE oid IN ({marks})", chunk
            ):
                found[oid] = (ast_oid, imports)
        return found

    def set_code(self, rows: Iterable[tuple[str, str, str]]) -> None:
        with self.transaction():
            self._conn.executemany("INSERT OR REPLACE INTO code VALUES (?, ?, ?)", rows)

    def forget_complete(self) -> None:
        """Call whenever objects may have left the cache (gc). Quick answers trusted these
        marks, so they go too."""
        with self.transaction():
            self._conn.execute("DELETE FROM complete")
        if self._path is not None:
            quick.forget_all(self._path.parent)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


def open_state(project: Project) -> StateDb:
    """The project's hash state (`.gitflowml/state.db`)."""
    return StateDb.open(project.state_path)
