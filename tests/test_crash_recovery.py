"""Crash safety: each command killed with SIGKILL at a random moment, then run again.

For every trial: every object in the cache is named by its hash, every pointer file and
the lock parse, a `status` that says "up to date" is true, the rerun succeeds without
--force, its end state equals an uninterrupted run's byte for byte (workspace, pointer
files, lock, .gitignore files, what git would add, the objects in the cache and on the
remote), its `status` is the uninterrupted run's, and after `gc` no temporary is left
anywhere. Slow: run by `make test-faults` (FAULT_TRIALS trials a scenario; FAULT_FILES
small files and a FAULT_BIG_MB MiB file), with small counts by `.ci/run`. With
FAULT_REPORT=path the figures per scenario are written there as JSON.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gitflowml.pipeline import lockfile
from gitflowml.remote import packfmt
from gitflowml.storage import hashing, layout, pointer
from gitflowml.storage.state import StateDb
from gitflowml.util import tmpfiles
from tests.conftest import git

TRIALS = int(os.environ.get("FAULT_TRIALS", "3"))
FILES = int(os.environ.get("FAULT_FILES", "600"))
BIG_MB = int(os.environ.get("FAULT_BIG_MB", "16"))
SEED = 20261204
CLEAN = ("Pipeline is up to date.", "No pipeline; data is up to date.")

PIPELINE = """\
stages:
  split:
    cmd: python3 stages.py split
    deps: [stages.py, data/small]
    outs: [work/parts]
  big:
    cmd: python3 stages.py big
    deps: [stages.py, data/big.bin]
    outs: [work/big.out]
  count:
    cmd: python3 stages.py count
    deps: [stages.py, work/parts]
    outs: [work/count.txt]
  tree:
    cmd: python3 stages.py tree
    deps: [stages.py, work/parts]
    outs: [work/tree]
  join:
    cmd: python3 stages.py join
    deps: [stages.py, work/count.txt, work/big.out]
    outs: [work/join.txt]
  report:
    cmd: python3 stages.py report
    deps: [stages.py, work/join.txt, work/tree]
    outs: [report.txt]
"""
STAGES = """\
import hashlib, os, sys
step = sys.argv[1]
def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
if step == "split":
    for name in sorted(os.listdir("data/small"))[:400]:
        write(f"work/parts/{name}", open(f"data/small/{name}", "rb").read()[::-1])
elif step == "big":
    with open("data/big.bin", "rb") as f, open("work/big.out", "wb") as out:
        while block := f.read(1 << 20):
            out.write(block[::-1])
elif step == "count":
    write("work/count.txt", str(len(os.listdir("work/parts"))).encode())
elif step == "tree":
    for name in sorted(os.listdir("work/parts")):
        write(f"work/tree/{name[:3]}/{name}", hashlib.md5(name.encode()).digest())
elif step == "join":
    size = os.path.getsize("work/big.out")
    write("work/join.txt", open("work/count.txt", "rb").read() + f" {size}".encode())
else:
    write("report.txt", open("work/join.txt", "rb").read() + b" done")
"""


# -- the projects ----------------------------------------------------------------------------
def _gfml(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitflowml", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def _ok(root: Path, *args: str) -> str:
    done = _gfml(root, *args)
    assert done.returncode == 0, f"gitflowml {' '.join(args)}: {done.stderr}"
    return done.stdout


def _data(root: Path, version: int = 0) -> None:
    rnd = random.Random(SEED + version)
    small = root / "data" / "small"
    small.mkdir(parents=True, exist_ok=True)
    for i in range(FILES):
        (small / f"f{i:05d}.bin").write_bytes(rnd.randbytes(rnd.randint(0, 6000)))
    with open(root / "data" / "big.bin", "wb") as f:
        for _ in range(BIG_MB):
            f.write(rnd.randbytes(1 << 20))


def _project(base: Path) -> Path:
    """`base/project` (git, gitflowml, a local remote at ../remote) and `base/remote`."""
    root = base / "project"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    _ok(root, "init")
    _ok(root, "remote", "add", "-d", "store", "../remote")
    (base / "remote").mkdir()
    return root


def _added(base: Path) -> Path:
    root = _project(base)
    _data(root)
    _ok(root, "add", "data/small", "data/big.bin")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    return root


def setup_add(base: Path) -> list[str]:
    root = _project(base)
    _data(root)
    git(root, "add", ".gitflowml")
    git(root, "commit", "-qm", "nothing tracked yet")
    return ["add", "data/small", "data/big.bin"]


def setup_repro(base: Path) -> list[str]:
    root = _added(base)
    (root / "pipeline.yaml").write_text(PIPELINE)
    (root / "stages.py").write_text(STAGES)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pipeline")
    return ["repro"]


def setup_push(base: Path) -> list[str]:
    _added(base)
    return ["push"]


def setup_pull(base: Path) -> list[str]:
    """A teammate's fresh clone: pointers from git, nothing in the cache or workspace."""
    root = _added(base)
    _ok(root, "push")
    shutil.rmtree(root / ".gitflowml" / "cache")
    (root / ".gitflowml" / "state.db").unlink()
    shutil.rmtree(root / "data")
    return ["pull"]


def setup_checkout_dir(base: Path) -> list[str]:
    """A tracked directory deleted from the workspace; the cache has it."""
    root = _added(base)
    shutil.rmtree(root / "data" / "small")
    return ["checkout"]


def setup_checkout_switch(base: Path) -> list[str]:
    """Back to the first version of every file after a second was added."""
    root = _added(base)
    _data(root, version=1)
    _ok(root, "add", "data/small", "data/big.bin")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "second version")
    git(root, "checkout", "-q", "HEAD~1", "--", "data/small.gfml", "data/big.bin.gfml")
    return ["checkout"]


SCENARIOS: dict[str, Callable[[Path], list[str]]] = {
    "add": setup_add,
    "repro": setup_repro,
    "push": setup_push,
    "pull": setup_pull,
    "checkout a directory": setup_checkout_dir,
    "checkout other versions": setup_checkout_switch,
}


# -- what a state is -------------------------------------------------------------------------
def _snapshot(base: Path) -> dict[str, object]:
    root = base / "project"
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".gitflowml") or path.is_dir():
            continue
        files[rel.as_posix()] = hashing.hash_bytes(path.read_bytes())
    untracked = git(root, "status", "--porcelain", "--untracked-files=all")
    return {
        "workspace": files,
        "git would add": untracked,
        "cache": _objects(root / ".gitflowml" / "cache"),
        "remote": _objects(base / "remote", remote=True),
    }


def _objects(store: Path, remote: bool = False) -> list[str]:
    """The store's objects, loose or packed, each checked against its name; temporaries are
    not objects, and a pack without an index (a killed push's) holds none."""
    found = []
    for path in sorted(store.rglob("*")) if store.exists() else []:
        rel = path.relative_to(store)
        if remote and rel.parts[0] == layout.PACKS_DIR and path.name.endswith(layout.IDX_SUFFIX):
            found += _packed(store, rel.as_posix())
        if path.is_dir() or tmpfiles.is_tmp(path.name) or rel.parts[0] in ("runs", "tmp"):
            continue
        if rel.parts[0] == layout.PACKS_DIR:
            continue
        oid = rel.parts[0] + path.name.removesuffix(".dir")
        assert hashing.is_oid(oid), f"a stray file in {store}: {rel}"
        assert hashing.hash_bytes(path.read_bytes()) == oid, f"a corrupt object: {path}"
        found.append(rel.as_posix())
    return sorted(set(found))


def _packed(store: Path, idx: str) -> list[str]:
    """The objects an index names, each read from its pack and checked against its name."""
    name = layout.idx_name_of(idx)
    assert name is not None, f"a stray file in {store}: {idx}"
    rows, size = packfmt.decode_idx((store / idx).read_bytes())
    data = (store / layout.pack_key(name)).read_bytes()
    assert len(data) == size, f"pack {name} is not as long as its index says"
    keys = []
    for row in rows:
        if row.kind == layout.RUN:
            continue
        piece = data[row.offset : row.offset + row.size]
        assert hashing.hash_bytes(piece) == row.name, f"a corrupt object in pack {name}"
        keys.append(layout.key_of(row.kind, row.name))
    return keys


def _temporaries(base: Path) -> list[str]:
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if tmpfiles.is_tmp(p.name))


def _parses(root: Path) -> None:
    for path in root.rglob(f"*{pointer.SUFFIX}"):
        if ".git" not in path.relative_to(root).parts:
            pointer.load(path)
    lockfile.load_current(
        root / lockfile.LOCK_FILE, root / ".gitflowml" / "tmp" / lockfile.JOURNAL, durable=False
    )
    StateDb.open(root / ".gitflowml" / "state.db").close()


def _assert_tracked_as_expected(root: Path, expected: dict[str, object]) -> None:
    """What the pointer files and lock present now track is what they track after an
    uninterrupted run, byte for byte (a status that says up to date is then true)."""
    lock = lockfile.load_current(
        root / lockfile.LOCK_FILE, root / ".gitflowml" / "tmp" / lockfile.JOURNAL, durable=False
    )
    targets = [e.path for s in lock.stages.values() for e in s.outs]
    for path in root.rglob(f"*{pointer.SUFFIX}"):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(".git"):
            targets.append(rel.removesuffix(pointer.SUFFIX))
    files = _snapshot(root.parent)["workspace"]
    want = expected["workspace"]
    assert isinstance(files, dict)
    assert isinstance(want, dict)
    for target in targets:
        for path, digest in want.items():
            if path == target or path.startswith(target + "/"):
                assert files.get(path) == digest, f"status said up to date, but {path} differs"
        extra = [p for p in files if p.startswith(target + "/") and p not in want]
        assert not extra, f"status said up to date, but {extra[0]} is extra"


def _status(root: Path) -> str:
    done = _gfml(root, "status")
    return done.stdout + done.stderr


# -- the trials --------------------------------------------------------------------------------
@pytest.mark.faults
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_command_killed_anywhere_recovers_on_its_next_run(scenario: str, tmp_path: Path) -> None:
    before = tmp_path / "before"
    argv = SCENARIOS[scenario](before)
    clean = tmp_path / "clean"
    shutil.copytree(before, clean, symlinks=True)
    started = time.perf_counter()
    _ok(clean / "project", *argv)
    duration = time.perf_counter() - started
    expected, expected_status = _snapshot(clean), _status(clean / "project")

    rnd = random.Random(f"{SEED}-{scenario}")
    failures: list[str] = []
    landed = 0
    for trial in range(TRIALS):
        base = tmp_path / f"trial{trial}"
        shutil.copytree(before, base, symlinks=True)
        root = base / "project"
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitflowml", *argv],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rnd.uniform(0.05, duration))
        proc.send_signal(signal.SIGKILL)
        landed += proc.wait() == -signal.SIGKILL
        try:
            _parses(root)
            _snapshot(base)  # every object named by its hash, as it is now
            said = _status(root)
            if said.strip() in CLEAN:  # a status that says up to date must be true
                _assert_tracked_as_expected(root, expected)
            rerun = _gfml(root, *argv)
            last = (rerun.stderr.strip().splitlines() or [""])[-1]
            assert rerun.returncode == 0, f"the rerun failed: {last}\n{rerun.stderr}"
            now = _snapshot(base)
            for part, value in expected.items():
                assert now[part] == value, f"{part} differs from an uninterrupted run's"
            assert _status(root) == expected_status
            _ok(root, "gc", "-w", "-f", "--cloud")
            assert _temporaries(base) == [], "temporaries left after the rerun and gc"
        except AssertionError as exc:
            failures.append(f"trial {trial}: {str(exc).splitlines()[0]}")
        shutil.rmtree(base)
    report = os.environ.get("FAULT_REPORT")
    if report:
        path = Path(report)
        figures = json.loads(path.read_text()) if path.exists() else {}
        figures[scenario] = {
            "trials": TRIALS,
            "killed mid-run": landed,
            "failures": len(failures),
            "uninterrupted s": round(duration, 2),
        }
        path.write_text(json.dumps(figures, indent=2))
    assert not failures, f"{scenario}: {len(failures)} of {TRIALS} trials failed: {failures}"
