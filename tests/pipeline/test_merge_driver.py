"""pipeline.lock merges per stage through the git merge driver that `install` registers."""

from __future__ import annotations

import os
import subprocess
import sys

from gitflowml.pipeline import lockfile
from gitflowml.pipeline.lockfile import Lock, StageLock
from tests.conftest import Repo, Run

PIPELINE = """\
stages:
  a:
    cmd: cp x.txt a.out
    deps: [x.txt]
    outs: [a.out]
  b:
    cmd: cp y.txt b.out
    deps: [y.txt]
    outs: [b.out]
"""


def test_three_way_rules() -> None:
    one, two, three = (StageLock(cmd=(c,)) for c in ("1", "2", "3"))
    base = Lock({"a": one, "b": one, "c": one, "gone": one})
    ours = Lock({"a": two, "b": one, "c": two, "new": one})
    theirs = Lock({"a": one, "b": three, "c": three, "gone": one})
    merged, dropped = lockfile.merge(base, ours, theirs)
    assert merged.stages == {"a": two, "b": three, "new": one}
    assert dropped == ["c"]


def _git(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    return subprocess.run(["git", *args], cwd=repo.root, env=env, capture_output=True, text=True)


def _setup(project: Repo, run: Run) -> None:
    project.gen({"pipeline.yaml": PIPELINE, "x.txt": "x0\n", "y.txt": "y0\n"})
    run("repro")
    run("install")
    assert (project.root / ".gitattributes").read_text() == "pipeline.lock merge=gitflowml-lock\n"
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    project.git("checkout", "-qb", "feature")


def test_branches_that_ran_different_stages_merge_cleanly(project: Repo, run: Run) -> None:
    _setup(project, run)
    project.gen({"y.txt": "y1\n"})
    run("repro")
    project.git("commit", "-qam", "feature ran b")
    project.git("checkout", "-q", "main")
    project.gen({"x.txt": "x1\n"})
    run("repro")
    project.git("commit", "-qam", "main ran a")
    merge = _git(project, "merge", "-q", "--no-edit", "feature")
    assert merge.returncode == 0, merge.stdout + merge.stderr
    lock = lockfile.load(project.root / "pipeline.lock")
    assert set(lock.stages) == {"a", "b"}
    run("checkout")
    assert (project.root / "b.out").read_text() == "y1\n"
    assert (project.root / "a.out").read_text() == "x1\n"
    assert run("status").stdout == "Pipeline is up to date.\n"


def test_a_stage_changed_on_both_sides_is_dropped_and_rerun(project: Repo, run: Run) -> None:
    _setup(project, run)
    project.gen({"x.txt": "feature\n"})
    run("repro")
    project.git("commit", "-qam", "feature ran a")
    project.git("checkout", "-q", "main")
    project.gen({"x.txt": "main\n"})
    run("repro")
    project.git("commit", "-qam", "main ran a")
    merge = _git(project, "merge", "--no-edit", "feature")
    # x.txt itself conflicts (a text file both sides changed); the lock does not
    assert "CONFLICT (content): Merge conflict in x.txt" in merge.stdout
    assert "pipeline.lock" not in merge.stdout.replace("Auto-merging pipeline.lock", "")
    assert "stage 'a' ran differently on both sides" in merge.stderr
    lock = lockfile.load(project.root / "pipeline.lock")
    assert set(lock.stages) == {"b"}
    project.gen({"x.txt": "resolved\n"})
    project.git("add", "x.txt")
    project.git("commit", "-qm", "merged")
    assert "a:\n\t\tnever ran" in run("status").stdout
    run("repro")
    assert (project.root / "a.out").read_text() == "resolved\n"
