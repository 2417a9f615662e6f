from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from gitflowml.storage.state import RACY_NS, Stat, StateDb

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


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM state").fetchone()[0])


def test_held_entries_are_written_once_at_the_end(tmp_path: Path) -> None:
    """While held, entries stay in memory and this process trusts its own even when they
    are racy (a stage's out, hashed just after it was written); they reach the database,
    racy check and all, only when the hold ends."""
    db = StateDb.open(tmp_path / "state.db")
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    fresh.write_bytes(b"new")
    new_stat, old_stat = Stat.of(fresh.stat()), _old_file(old)
    try:
        with db.hold():
            db.set_many([(str(fresh), new_stat, OID), (str(old), old_stat, OID)])
            assert _count(tmp_path / "state.db") == 0
            assert db.get(str(fresh), new_stat) == OID  # racy, but hashed by us
            assert db.lookup({}, str(fresh), new_stat) == OID
            changed = new_stat._replace(mtime_ns=new_stat.mtime_ns + 1)
            assert db.get(str(fresh), changed) is None
        assert _count(tmp_path / "state.db") == 2
        assert db.get(str(fresh), new_stat) is None  # from the database: racy again
        assert db.get(str(old), old_stat) == OID
    finally:
        db.close()


def test_held_entries_are_written_when_the_command_is_interrupted(tmp_path: Path) -> None:
    db = StateDb.open(tmp_path / "state.db")
    f = tmp_path / "f"
    stat = _old_file(f)
    try:

        def interrupted() -> None:
            with db.hold():
                db.set_many([(str(f), stat, OID)])
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            interrupted()
        assert db.get(str(f), stat) == OID
        assert _count(tmp_path / "state.db") == 1
    finally:
        db.close()


def test_rows_read_ahead_answer_like_the_database(db: StateDb, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    stat_a, stat_b = _old_file(a), _old_file(b, b"other")
    db.set_many([(str(a), stat_a, OID)])
    db.read_ahead([str(a), str(b), str(a)])
    assert db.get(str(a), stat_a) == OID
    assert db.get(str(b), stat_b) is None  # no row
    db.set_many([(str(b), stat_b, "cd" * 16)])  # a write replaces what was read ahead
    assert db.get(str(b), stat_b) == "cd" * 16
