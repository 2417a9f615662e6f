from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from gitflowml.state import RACY_NS, Stat, StateDb

OID = "ab" * 16


@pytest.fixture
def db(tmp_path: Path):
    state = StateDb.open(tmp_path / "state.db")
    yield state
    state.close()


def _old_file(path: Path, content: bytes = b"data") -> Stat:
    path.write_bytes(content)
    old = 1_600_000_000_000_000_000
    os.utime(path, ns=(old, old))
    return Stat.of(path.stat())


def test_entry_is_trusted_while_the_file_is_unchanged(db: StateDb, tmp_path: Path) -> None:
    f = tmp_path / "f"
    stat = _old_file(f)
    db.set_many([(str(f), stat, OID)])
    assert db.get(str(f), Stat.of(f.stat())) == OID


@pytest.mark.parametrize("change", ["mtime", "size", "inode"])
def test_entry_is_invalidated_by_any_stat_change(db: StateDb, tmp_path: Path, change: str) -> None:
    f = tmp_path / "f"
    stat = _old_file(f)
    db.set_many([(str(f), stat, OID)])
    if change == "mtime":
        os.utime(f, ns=(stat.mtime_ns + 1, stat.mtime_ns + 1))
    elif change == "size":
        with open(f, "ab") as fh:
            fh.write(b"!")
        os.utime(f, ns=(stat.mtime_ns, stat.mtime_ns))
    else:  # a new file with the same size and mtime replaces the old one (new inode)
        other = tmp_path / "g"
        _old_file(other)  # created while f still holds its inode, so it gets another
        os.replace(other, f)
    new = Stat.of(f.stat())
    assert new != stat
    assert db.get(str(f), new) is None


def test_a_file_modified_just_before_hashing_is_not_trusted(db: StateDb, tmp_path: Path) -> None:
    """Racy git: a write within the same mtime tick after hashing would go unseen."""
    f = tmp_path / "f"
    stat = _old_file(f)
    db.set_many([(str(f), stat, OID)], now_ns=stat.mtime_ns + RACY_NS - 1)
    assert db.get(str(f), stat) is None
    db.set_many([(str(f), stat, OID)], now_ns=stat.mtime_ns + RACY_NS)
    assert db.get(str(f), stat) == OID


def test_get_under_returns_only_that_directory(db: StateDb) -> None:
    stat = Stat(1, 2, 3)
    paths = ["/r/data/a", "/r/data/sub/b", "/r/data0/c", "/r/dat", "/r/data"]
    db.set_many([(p, stat, OID) for p in paths], now_ns=4 * 10**18)
    rows = db.get_under("/r/data")
    assert sorted(rows) == ["/r/data/a", "/r/data/sub/b"]
    assert db.lookup(rows, "/r/data/a", stat) == OID
    assert db.lookup(rows, "/r/data/zzz", stat) is None


def test_a_database_of_another_schema_is_reset(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE state (x)")
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    db = StateDb.open(path)
    try:
        db.set_many([("/a", Stat(1, 1, 1), OID)], now_ns=4 * 10**18)
        assert db.get("/a", Stat(1, 1, 1)) == OID
    finally:
        db.close()


def test_a_failed_transaction_writes_nothing(db: StateDb) -> None:
    def failing() -> None:
        with db.transaction():
            db._conn.execute("INSERT INTO state VALUES ('/x', 1, 1, 1, 99999999999, ?)", (OID,))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    assert db.get("/x", Stat(1, 1, 1)) is None


def test_directory_fingerprints(db: StateDb) -> None:
    assert db.get_dir("/r/data", "f1") is None
    db.set_dir("/r/data", "f1", OID)
    assert db.get_dir("/r/data", "f1") == OID
    assert db.get_dir("/r/data", "f2") is None
    db.set_dir("/r/data", "f2", "cd" * 16)
    assert db.get_dir("/r/data", "f1") is None


def test_completeness_memo(db: StateDb) -> None:
    assert not db.is_complete(OID)
    db.mark_complete([OID])
    assert db.is_complete(OID)
    db.forget_complete()
    assert not db.is_complete(OID)


def test_two_openers_of_a_new_database_agree(tmp_path: Path) -> None:
    first = StateDb.open(tmp_path / "s.db")
    first.set_many([("/a", Stat(1, 1, 1), OID)], now_ns=4 * 10**18)
    second = StateDb.open(tmp_path / "s.db")  # sees the schema: must not recreate it
    try:
        assert second.get("/a", Stat(1, 1, 1)) == OID
    finally:
        first.close()
        second.close()
