from __future__ import annotations

import random
from pathlib import Path

import pytest

from gitflowml.errors import PipelineError
from gitflowml.pipeline import lockfile
from gitflowml.pipeline.lockfile import Entry, Lock, StageLock
from tests.conftest import Repo

H = [f"{i:x}" * 32 for i in range(16)]  # realistic: letters and digits
H = [h if any(c.isalpha() for c in h) else "a" + h[1:] for h in H]

TRAIN = StageLock(
    python="src/train.py:main",
    args=(("lr", 0.1),),
    deps=(Entry("data/prepared", H[1], 1024, 3),),
    params=(("params.yaml", (("train.lr", 0.1),)),),
    code=(Entry("src/train.py", H[2]), Entry("src/models.py", H[3])),
    outs=(Entry("model.pkl", H[4], 2048),),
)
PREPARE = StageLock(
    cmd=("python prepare.py",),
    deps=(Entry("raw.csv", H[5], 9),),
    outs=(Entry("data/prepared", H[1], 1024, 3),),
)


def test_the_format_is_the_one_in_the_spec() -> None:
    text = lockfile.dumps(Lock({"train": TRAIN, "prepare": PREPARE}))
    assert (
        text
        == f"""\
schema: 1
stages:
  prepare:
    cmd: python prepare.py
    deps:
    - {{path: raw.csv, hash: {H[5]}, size: 9}}
    outs:
    - {{path: data/prepared, hash: {H[1]}, size: 1024, nfiles: 3}}
  train:
    python: src/train.py:main
    args: {{lr: 0.1}}
    deps:
    - {{path: data/prepared, hash: {H[1]}, size: 1024, nfiles: 3}}
    params:
      params.yaml: {{train.lr: 0.1}}
    code:
    - {{path: src/models.py, hash: {H[3]}}}
    - {{path: src/train.py, hash: {H[2]}}}
    outs:
    - {{path: model.pkl, hash: {H[4]}, size: 2048}}
"""
    )


def test_round_trip_and_determinism(tmp_path: Path) -> None:
    lock = Lock(
        {
            "train": TRAIN,
            "prepare": PREPARE,
            "multi": StageLock(cmd=("a", "b"), outs=(Entry("s3://b/x", "etag:1"),)),
        }
    )
    path = tmp_path / "pipeline.lock"
    lockfile.dump(lock, path)
    again = lockfile.load(path)
    assert again == lock
    shuffled = list(lock.stages.items())
    random.Random(3).shuffle(shuffled)
    assert lockfile.dumps(Lock(dict(shuffled))) == path.read_text()


def test_a_missing_or_empty_lock_is_empty(tmp_path: Path) -> None:
    assert lockfile.load(tmp_path / "nope") == Lock()
    assert lockfile.loads("") == Lock()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [", "malformed YAML"),
        ("schema: 7\nstages: {}\n", "not a schema 1 lock file"),
        ("schema: 1\nstages: []\n", "'stages' must be a mapping"),
        ("schema: 1\nstages: {a: {cmd: x, colour: red}}\n", "stage 'a' is malformed"),
        ("schema: 1\nstages: {a: {cmd: x, outs: [{path: o, hash: nothex}]}}\n", "malformed"),
        ("schema: 1\nstages: {a: {cmd: x, outs: [{path: o}]}}\n", "malformed"),
    ],
)
def test_malformed_locks_say_how_to_recover(text: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message) as info:
        lockfile.loads(text)
    assert "git checkout pipeline.lock" in str(info.value)


def test_the_journal_is_replayed_and_a_torn_line_ignored(tmp_path: Path) -> None:
    lock_path, journal = tmp_path / "pipeline.lock", tmp_path / "tmp" / "lock.journal"
    lockfile.dump(Lock({"prepare": PREPARE, "old": PREPARE}), lock_path)
    writer = lockfile.JournalWriter(journal)
    writer.append("train", TRAIN)
    writer.append("old", None)
    with open(journal, "ab") as f:  # a crash in the middle of writing a third record
        f.write(b'0123 {"stage": "half')
    current = lockfile.load_current(lock_path, journal)  # the run never closed its journal
    writer.close()
    assert current == Lock({"prepare": PREPARE, "train": TRAIN})
    assert lockfile.load(lock_path) == current  # made durable
    assert not journal.exists()
    assert lockfile.load_current(lock_path, journal) == current


def test_branches_that_ran_different_stages_merge_cleanly(git_repo: Repo) -> None:
    base = Lock({"a": PREPARE, "m": PREPARE})
    lock_path = git_repo.root / "pipeline.lock"
    lockfile.dump(base, lock_path)
    git_repo.git("add", "-A")
    git_repo.git("commit", "-qm", "base")
    git_repo.git("checkout", "-qb", "one")
    lockfile.dump(base.with_stage("b", TRAIN), lock_path)
    git_repo.git("commit", "-qam", "ran b")
    git_repo.git("checkout", "-q", "main")
    lockfile.dump(base.with_stage("z", TRAIN), lock_path)
    git_repo.git("commit", "-qam", "ran z")
    git_repo.git("merge", "-q", "one", "-m", "merge")  # raises on a conflict
    merged = lockfile.load(lock_path)
    assert merged == Lock({"a": PREPARE, "b": TRAIN, "m": PREPARE, "z": TRAIN})


def test_the_parsed_lock_is_reused_only_while_the_lock_is_unchanged(tmp_path: Path) -> None:
    import os
    import time

    lock_path, journal = tmp_path / "pipeline.lock", tmp_path / "tmp" / lockfile.JOURNAL
    parsed = journal.parent / lockfile.PARSED
    one = Lock({"a": StageLock(cmd=("echo 1",))})
    two = Lock({"a": StageLock(cmd=("echo 2",))})  # the same size as `one`
    lockfile.dump(one, lock_path)
    assert lockfile.load_current(lock_path, journal) == one
    assert not parsed.exists()  # the lock was written just now: too recent to trust
    time.sleep(lockfile.RACY_NS / 1e9 + 0.02)
    assert lockfile.load_current(lock_path, journal) == one
    assert parsed.exists()
    st = lock_path.stat()
    lock_path.write_text(lockfile.dumps(two))  # same size; mtime put back, ctime moves
    os.utime(lock_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert lockfile.load_current(lock_path, journal) == two
    parsed.write_bytes(b"\x00not marshal")
    assert lockfile.load_current(lock_path, journal) == two


def test_a_lock_written_with_its_parsed_form_loads_the_same_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dump(..., parsed)` keeps what a parse of the written file gives, so the next load
    needs no YAML; params of every YAML kind come back as a fresh parse gives them."""
    lock_path, parsed = tmp_path / "pipeline.lock", tmp_path / "tmp" / lockfile.PARSED
    entry = StageLock(
        cmd=("python train.py", "echo done"),
        deps=(Entry("data", "0" * 32, 10, 2), Entry("a.csv", "1" * 32, 3)),
        params=(
            (
                "params.yaml",
                (
                    ("lr", 0.1),
                    ("layers", [1, 2, 3]),
                    ("opt", {"name": "adam", "betas": [0.9, 0.99], "eps": 1e-8}),
                    ("name", "1.0"),
                    ("on", True),
                    ("none", None),
                    ("map", {1: "int key", "x": {"y": []}}),
                ),
            ),
        ),
        outs=(Entry("model.pkl", "2" * 32, 99),),
    )
    lock = Lock({"train": entry, "zz": StageLock(python="s.py:f", args=(("n", 3),))})
    lockfile.dump(lock, lock_path, parsed)
    assert parsed.exists()
    fresh = lockfile.loads(lock_path.read_text())
    assert fresh == lock
    reads: list[str] = []
    original = lockfile._parse

    def counting(text: str, shown: str) -> object:
        reads.append(shown)
        return original(text, shown)

    monkeypatch.setattr(lockfile, "_parse", counting)
    assert lockfile.load(lock_path, parsed=parsed) == fresh
    assert reads == []  # answered from the parsed form
    lock_path.write_text(lockfile.dumps(Lock()))
    assert lockfile.load(lock_path, parsed=parsed) == Lock()
    assert reads == ["pipeline.lock"]  # the lock changed: parsed again
