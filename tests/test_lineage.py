"""Run records, notes and lineage end to end, with real git (a bare repository as origin)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitflowml.lineage import store
from tests.conftest import Repo, Run, git

PIPELINE = """\
stages:
  prep:
    cmd: python3 prep.py raw clean.csv
    deps: [raw, prep.py]
    outs: [clean.csv]
  train:
    cmd: wc -c clean.csv > model.txt && echo '{"acc":0.5}' > metrics.json
    deps: [clean.csv]
    params: [lr]
    outs: [model.txt]
    metrics: [metrics.json]
"""
PREP = "import sys\nopen(sys.argv[2], 'w').write(open(sys.argv[1] + '/a.csv').read() * 2)\n"


@pytest.fixture
def pipe(project: Repo, run: Run) -> Repo:
    project.gen(
        {
            "raw": {"a.csv": "1,2\n"},
            "prep.py": PREP,
            "pipeline.yaml": PIPELINE,
            "params.yaml": "lr: 1\n",
        }
    )
    run("add", "raw")
    project.git("add", "-A")
    project.git("commit", "-qm", "data and code")
    return project


def _note(repo: Repo, rev: str = "HEAD") -> list[dict[str, Any]]:
    text = git(repo.root, "notes", "--ref=gitflowml", "show", rev)
    return [json.loads(line) for line in text.splitlines()]


def test_every_run_leaves_a_pending_record(pipe: Repo, run: Run) -> None:
    run("repro")
    pending = store.pending(pipe.root / ".gitflowml")
    assert sorted(r.stage for _, r in pending) == ["prep", "train"]
    rec = next(r for _, r in pending if r.stage == "train")
    assert rec.outs["model.txt"]
    assert rec.params == {"params.yaml": {"lr": 1}}
    assert (
        rec.deps["clean.csv"] == next(r for _, r in pending if r.stage == "prep").outs["clean.csv"]
    )
    doc = rec.to_dict()
    for name in (
        "key",
        "started",
        "duration_s",
        "exit_code",
        "attempts",
        "restored",
        "user",
        "host",
        "python_version",
        "platform",
        "gitflowml_version",
        "schema",
        "code",
    ):
        assert name in doc


def test_record_attaches_matching_runs_once(pipe: Repo, run: Run) -> None:
    run("repro")
    pipe.git("add", "-A")
    pipe.git("commit", "-qm", "results")
    assert "Attached 2 run record(s)" in run("record").stdout
    assert sorted(r["stage"] for r in _note(pipe)) == ["prep", "train"]
    assert "Attached 0 run record(s)" in run("record").stdout
    pipe.gen({"raw": {"a.csv": "3,4\n"}})
    run("add", "raw")
    run("repro")  # prep's new out is not in HEAD's lock; train's (same bytes) is
    result = run("record").stdout
    assert "Attached 1 run record(s)" in result
    assert "1 still pending" in result
    assert len(_note(pipe)) == 3
    # the run's file keeps just the record that was not attached
    left = store.pending(pipe.root / ".gitflowml")
    assert [r.stage for _, r in left] == ["prep"]
    assert len(list((pipe.root / ".gitflowml" / "runs").iterdir())) == 1


def test_a_run_still_writing_its_records_is_left_alone(pipe: Repo, run: Run) -> None:
    """`record` never rewrites the record file of a repro that is still running (it holds
    the file locked); a line torn by a crash is skipped."""
    run("repro")
    pipe.git("add", "-A")
    pipe.git("commit", "-qm", "results")
    dot = pipe.root / ".gitflowml"
    (path, rec), *_ = store.pending(dot)
    log = store.PendingLog(dot)
    log.append(rec)  # as a running repro would: the file is now held
    try:
        result = run("record").stdout
        assert "Attached 2 run record(s)" in result
        assert "1 still pending" in result  # the same run again, in the busy file
        assert log.path.exists()
        assert not path.exists()  # the finished run's file is settled
    finally:
        log.close()
    with log.path.open("a") as fh:
        fh.write('{"stage": "torn')  # a crash mid-line
    assert [r.stage for _, r in store.pending(dot)] == [rec.stage]
    result = run("record").stdout  # attached already: settled, not attached twice
    assert "Attached 0 run record(s)" in result
    assert "0 still pending" in result
    assert not log.path.exists()
    assert len(_note(pipe)) == 2


def test_repro_commit(pipe: Repo, run: Run) -> None:
    out = run("repro", "--commit").stdout
    assert "Committed" in out
    assert pipe.git("log", "-1", "--format=%s").strip() == "gitflowml repro: ran prep, train"
    files = pipe.git("show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == [".gitignore", "metrics.json", "pipeline.lock"]
    assert len(_note(pipe)) == 2
    assert pipe.git("status", "--porcelain") == ""
    pipe.gen({"params.yaml": "lr: 3\n", "unrelated.txt": "x"})
    pipe.git("add", "unrelated.txt")
    err = run("repro", "--commit", code=1).stderr
    assert "unrelated.txt" in err
    assert "unstage" in err
    assert pipe.git("log", "-1", "--format=%s").strip() == "gitflowml repro: ran prep, train"
    pipe.git("restore", "--staged", "unrelated.txt")
    pipe.git("add", "params.yaml")  # pipeline files the user staged go along
    run("repro", "--commit", "-m", "lr 3")
    assert pipe.git("log", "-1", "--format=%s").strip() == "lr 3"
    assert "params.yaml" in pipe.git("show", "--name-only", "--format=", "HEAD").split()
    assert [r["stage"] for r in _note(pipe)] == ["train"]


def test_log_and_lineage(pipe: Repo, run: Run) -> None:
    run("repro", "--commit")
    pipe.gen({"params.yaml": "lr: 2\n"})
    run("repro", "--commit")
    text = run("log").stdout.splitlines()
    assert [line.split()[3] for line in text if not line.startswith(" ")] == [
        "train",
        "train",
        "prep",
    ]
    assert "acc=0.5" in run("log", "train", "-n", "1").stdout
    assert len(json.loads(run("log", "model.txt", "--json").stdout)) == 2
    tree = run("lineage", "model.txt").stdout
    assert tree.startswith("model.txt  [")
    assert "stage 'train'" in tree
    assert "params: params.yaml:lr=2" in tree
    assert "clean.csv  stage 'prep'" in tree
    assert "raw  added in commit" in tree
    assert "prep.py  code, last changed in commit" in tree  # a dep that is code
    doc = json.loads(run("lineage", "model.txt", "--json", "--rev", "HEAD~1").stdout)
    assert doc["params"] == {"params.yaml:lr": 1}
    assert doc["inputs"][0]["inputs"][1]["kind"] == "added"
    assert "neither a stage out" in run("lineage", "nope.txt", code=1).stderr


def _published(pipe: Repo, run: Run, tmp_path: Path) -> Path:
    """Run with --commit, then push the branch to a bare `origin` and the artifacts (and
    notes) with gitflowml push; returns origin."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    pipe.git("remote", "add", "origin", str(origin))
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    pipe.git("add", "-A")
    pipe.git("commit", "-qm", "remote")
    run("repro", "--commit")
    pipe.git("push", "-q", "origin", "main")
    run("push")
    return origin


def _pulled_clone(origin: Path, dest: Path, run: Run) -> Path:
    """A fresh clone of `origin` (another user), initialised and pulled; the cwd."""
    git(dest.parent, "clone", "-q", str(origin), str(dest))
    git(dest, "config", "user.name", "Other")
    git(dest, "config", "user.email", "other@example.invalid")
    os.chdir(dest)
    run("init")
    run("pull")
    return dest


def test_round_trip_through_origin_and_a_remote(pipe: Repo, run: Run, tmp_path: Path) -> None:
    origin = _published(pipe, run, tmp_path)
    assert "refs/notes/gitflowml" in git(tmp_path, "ls-remote", str(origin))
    clone = _pulled_clone(origin, tmp_path / "clone", run)
    assert (clone / "model.txt").exists()
    tree = run("lineage", "model.txt").stdout
    assert "stage 'train'" in tree
    assert "raw  added in commit" in tree


def test_notes_from_two_clones_merge(pipe: Repo, run: Run, tmp_path: Path) -> None:
    origin = _published(pipe, run, tmp_path)
    _pulled_clone(origin, tmp_path / "other", run)
    run("repro", "-f", "-s", "train")  # the same results, run again here
    assert "Attached 1 run record(s)" in run("record").stdout
    run("push")
    os.chdir(pipe.root)
    run("repro", "-f", "-s", "prep")  # and once more in the first clone
    run("record")
    run("fetch")  # merges the other clone's notes (cat_sort_uniq)
    stages = sorted(r["stage"] for r in _note(pipe))
    assert stages == ["prep", "prep", "train", "train"]


def test_install_hooks_chains_an_existing_hook(pipe: Repo, run: Run, tmp_path: Path) -> None:
    hooks = pipe.root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    marker = tmp_path / "mine.txt"
    mine = hooks / "pre-commit"
    mine.write_text(f"#!/bin/sh\necho mine >> {marker}\n")
    mine.chmod(0o755)
    pipe.git("remote", "add", "origin", str(tmp_path / "nowhere.git"))
    out = run("install").stdout
    assert "installed pre-commit (the hook that was there runs first)" in out
    assert "origin: fetches refs/notes/gitflowml now" in out
    assert run("install").stdout.count("already installed") == 4
    for name in ("pre-commit", "post-checkout", "post-commit", "pre-push"):
        assert (hooks / name).stat().st_mode & stat.S_IXUSR
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    pipe.gen({"note.txt": "x"})
    pipe.git("add", "note.txt")
    proc = subprocess.run(
        ["git", "commit", "-qm", "stale pipeline"], cwd=pipe.root, env=env, capture_output=True
    )
    assert proc.returncode != 0  # our pre-commit: status --check finds stages never run
    assert marker.read_text() == "mine\n"  # and the user's hook ran first
    run("repro")
    pipe.git("add", "-A")
    proc = subprocess.run(
        ["git", "commit", "-qm", "results"], cwd=pipe.root, env=env, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    assert len(_note(pipe)) == 2  # post-commit attached the records
