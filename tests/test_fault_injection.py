"""`add` killed with SIGKILL at random moments never leaves a bad object behind."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitflowml.storage import hashing, pointer
from gitflowml.storage.state import StateDb
from gitflowml.util import tmpfiles
from tests.conftest import Repo, Run

TRIALS = 24
SEED = 20261122


def _make_data(root: Path) -> None:
    rnd = random.Random(SEED)
    data = root / "data"
    for i in range(400):
        sub = data / f"d{i % 8}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.bin").write_bytes(rnd.randbytes(rnd.randint(0, 48 * 1024)))
    for i in range(3):  # larger than one read, so they are streamed into the store
        (data / f"big{i}.bin").write_bytes(rnd.randbytes(3 * hashing.CHUNK + i))


def _check_cache(cache: Path) -> int:
    """Every object is complete and named by its hash; returns how many there are."""
    count = 0
    if not cache.exists():
        return 0
    for path in cache.rglob("*"):
        if path.is_dir() or tmpfiles.is_tmp(path.name) or path.name.startswith("."):
            continue  # an incomplete temporary, never an object; gc removes leftovers
        if path.relative_to(cache).parts[0] == "runs":  # run-cache entries: named by key
            assert json.loads(path.read_bytes())["outs"], f"truncated run entry {path}"
            continue
        fan, rest = path.parent.name, path.name
        is_dir = rest.endswith(".dir")
        oid = fan + rest.removesuffix(".dir")
        assert hashing.is_oid(oid), f"stray file in the cache: {path}"
        assert hashing.hash_bytes(path.read_bytes()) == oid, f"truncated object {path}"
        if is_dir:
            hashing.Manifest.from_bytes(path.read_bytes())
        count += 1
    return count


def _drop_state(dot: Path, keep_cache: bool = False) -> None:
    """Forget every hash (so add must read every file) and, unless kept, the cache."""
    if not keep_cache:
        shutil.rmtree(dot / "cache", ignore_errors=True)
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (dot / name).unlink(missing_ok=True)


def _gitflowml(root: Path, *args: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitflowml", *args],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


@pytest.mark.slow
def test_add_survives_sigkill_at_random_moments(project: Repo, run: Run) -> None:
    _make_data(project.root)
    run("add", "data")
    expected = pointer.load(project.root / "data.gfml").oid
    dot = project.root / ".gitflowml"

    def reset(keep_cache: bool = False) -> None:
        _drop_state(dot, keep_cache)
        (project.root / "data.gfml").unlink(missing_ok=True)

    reset()
    started = time.perf_counter()
    assert _gitflowml(project.root, "add", "data").wait() == 0
    full = time.perf_counter() - started

    rnd = random.Random(SEED)
    killed_mid_way = 0
    for trial in range(TRIALS):
        reset(keep_cache=trial % 3 != 0)  # two in three resume on what a killed run left
        proc = _gitflowml(project.root, "add", "data")
        time.sleep(rnd.uniform(0.0, full * 0.8))
        proc.send_signal(signal.SIGKILL)
        code = proc.wait()
        killed_mid_way += code == -signal.SIGKILL

        _check_cache(dot / "cache")
        if (project.root / "data.gfml").exists():  # missing is fine; half-written is not
            pointer.load(project.root / "data.gfml")
        StateDb.open(dot / "state.db").close()  # what a killed run left can always be opened

        finish = _gitflowml(project.root, "add", "data", stderr=subprocess.PIPE)
        _, err = finish.communicate()
        assert finish.returncode == 0, err.decode()
        assert pointer.load(project.root / "data.gfml").oid == expected
        assert _check_cache(dot / "cache") == 404  # 403 distinct files + the manifest
        assert (
            "No pipeline; data is up to date."
            in subprocess.run(
                [sys.executable, "-m", "gitflowml", "status"],
                cwd=project.root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    assert killed_mid_way >= TRIALS // 4, "too few kills landed while add was running"


@pytest.mark.slow
def test_ctrl_c_during_add_exits_130_and_leaves_the_cache_valid(project: Repo, run: Run) -> None:
    _make_data(project.root)
    run("add", "data")
    expected = pointer.load(project.root / "data.gfml").oid
    dot = project.root / ".gitflowml"

    _drop_state(dot)
    started = time.perf_counter()
    assert _gitflowml(project.root, "add", "data").wait() == 0
    full = time.perf_counter() - started

    interrupted = 0
    for fraction in (0.0, 0.1, 0.25, 0.4, 0.6):
        _drop_state(dot)
        proc = _gitflowml(project.root, "add", "data", stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not (dot / "cache").exists() and proc.poll() is None:  # add is at work
            assert time.monotonic() < deadline
            time.sleep(0.002)
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
        if proc.returncode == 0:
            continue  # finished before the signal arrived
        interrupted += 1
        assert proc.returncode == 130, err.decode()
        assert err.decode().startswith("error: interrupted"), err.decode()
        assert "Traceback" not in err.decode()
        _check_cache(dot / "cache")
    assert interrupted >= 2, "too few runs were interrupted mid-way"
    run("add", "data")
    assert pointer.load(project.root / "data.gfml").oid == expected


REPRO_PIPELINE = "stages:\n" + "".join(
    f"  s{i}:\n"
    f"    cmd: sleep 0.03 && mkdir -p out && "
    f"(cat {'seed.txt' if i == 0 else f'out/s{i - 1}.txt'}; echo step {i}) > out/s{i}.txt"
    f" && mkdir -p dirs/s{i} && echo {i} > dirs/s{i}/a && echo x{i} > dirs/s{i}/b\n"
    f"    deps: [{'seed.txt' if i == 0 else f'out/s{i - 1}.txt'}]\n"
    f"    outs: [out/s{i}.txt, dirs/s{i}]\n"
    for i in range(8)
)


@pytest.mark.slow
def test_repro_survives_sigkill_at_random_moments(project: Repo, run: Run) -> None:
    from gitflowml.pipeline import lockfile

    project.gen({"pipeline.yaml": REPRO_PIPELINE, "seed.txt": "seed\n"})
    root = project.root
    cache = root / ".gitflowml" / "cache"
    expected = "seed\n" + "".join(f"step {i}\n" for i in range(8))

    def check_lock() -> None:
        lock = lockfile.load_current(
            root / "pipeline.lock", root / ".gitflowml" / "tmp" / "lock.journal", durable=False
        )  # parses, journal included
        for entry in lock.stages.values():
            for out in entry.outs:
                suffix = ".dir" if out.nfiles is not None else ""
                assert (cache / out.oid[:2] / (out.oid[2:] + suffix)).exists(), out

    started = time.perf_counter()
    assert _gitflowml(root, "repro").wait() == 0
    full = time.perf_counter() - started
    rnd = random.Random(SEED)
    landed = 0
    for trial in range(TRIALS):
        project.gen({"seed.txt": f"seed\n{trial}\n"})  # every stage is stale again
        proc = _gitflowml(root, "repro")
        time.sleep(rnd.uniform(0.0, full))
        proc.send_signal(signal.SIGKILL)
        landed += proc.wait() == -signal.SIGKILL
        check_lock()
        _check_cache(cache)
        finish = _gitflowml(root, "repro", stderr=subprocess.PIPE)
        _, err = finish.communicate()
        assert finish.returncode == 0, err.decode()
        check_lock()
        assert (root / "out" / "s7.txt").read_text() == expected.replace(
            "seed\n", f"seed\n{trial}\n"
        )
        status = subprocess.run(
            [sys.executable, "-m", "gitflowml", "status"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "Pipeline is up to date." in status.stdout
    assert landed >= TRIALS // 4, "too few kills landed while repro was running"
