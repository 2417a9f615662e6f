"""`gitflowml exp` end to end: real git, real stages, real worktrees and processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gitflowml import api
from gitflowml.errors import GitflowmlError
from tests.conftest import Repo, Run, git

TRAIN = """\
import json, sys, time, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
time.sleep(p.get("sleep", 0))
if p["lr"] > 5:
    sys.exit("lr too large")
data = open("data.txt").read()
json.dump({"acc": round(p["lr"] * p["depth"], 4), "n": len(data)}, open("metrics.json", "w"))
open("model.txt", "w").write(f"{p}\\n")
"""
PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    deps: [train.py, data.txt]
    params: [train]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
"""
PARAMS = "train:\n  lr: 0.1\n  depth: 3\n  sleep: 0\n"


@pytest.fixture
def exps(project: Repo, run: Run) -> Repo:
    project.gen(
        {"train.py": TRAIN, "pipeline.yaml": PIPELINE, "params.yaml": PARAMS, "data.txt": "abc"}
    )
    run("repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "baseline")
    return project


def _show(run: Run, *args: str) -> list[dict[str, Any]]:
    rows = json.loads(run("exp", "show", "--json", *args).stdout)
    assert isinstance(rows, list)
    return rows


def _metric(row: dict[str, Any]) -> Any:
    return row["metrics"]["metrics.json"]["acc"]


def test_a_workspace_run_is_a_commit_on_the_baseline_with_its_note(exps: Repo, run: Run) -> None:
    head = exps.git("rev-parse", "HEAD").strip()
    out = run("exp", "run", "-S", "train.lr=0.2", "-n", "lr2").stdout
    assert "Running stage 'train'" in out
    assert out.rstrip().endswith(")")
    assert "Ran experiment lr2" in out
    ref = f"refs/gitflowml/exps/{head}/lr2"
    commit = exps.git("rev-parse", ref).strip()
    assert exps.git("rev-parse", f"{commit}^").strip() == head
    assert exps.git("show", f"{commit}:params.yaml").startswith("train:\n  lr: 0.2\n")
    assert json.loads(exps.git("show", f"{commit}:metrics.json"))["acc"] == 0.6
    assert "model.txt" in exps.git("show", f"{commit}:pipeline.lock")
    note = exps.git("notes", "--ref=gitflowml", "show", commit)
    assert json.loads(note.splitlines()[0])["stage"] == "train"
    # the results stay in the workspace, HEAD and the branch do not move
    assert (exps.root / "params.yaml").read_text().startswith("train:\n  lr: 0.2")
    assert exps.git("rev-parse", "HEAD").strip() == head
    assert exps.git("diff", "--cached", "--name-only") == ""
    # the name is a revision everywhere
    diff = json.loads(run("metrics", "diff", "HEAD", "lr2", "--json").stdout)
    assert diff["metrics.json"]["acc"] == {"old": 0.3, "new": 0.6, "diff": pytest.approx(0.3)}
    assert str(api.read("params.yaml", rev="lr2")).startswith("train:\n  lr: 0.2")
    assert "model.txt" in run("diff", "HEAD", "lr2").stdout
    assert "stage 'train'" in run("lineage", "model.txt", "--rev", "lr2").stdout
    assert "lr2" in run("metrics", "show", "--rev", "lr2").stdout
    rows = json.loads(run("params", "diff", "HEAD", "lr2", "--json").stdout)
    assert rows["params.yaml"]["train.lr"]["new"] == 0.2


def test_show_json_table_md_csv(exps: Repo, run: Run) -> None:
    head = exps.git("rev-parse", "HEAD").strip()
    run("exp", "run", "-S", "train.lr=0.2", "-n", "a")
    run("exp", "run", "-S", "train.lr=0.5", "-S", "train.depth=1", "-n", "b")
    rows = _show(run)
    assert [r["name"] for r in rows] == ["main", "a", "b"]
    assert rows[0]["baseline"] is None
    assert rows[0]["rev"] == head[:7]
    assert rows[1]["baseline"] == head
    assert rows[1]["state"] == "success"
    assert [_metric(r) for r in rows] == [0.3, 0.6, 0.5]
    assert rows[2]["params"] == {
        "params.yaml": {"train.lr": 0.5, "train.depth": 1, "train.sleep": 0}
    }
    assert set(rows[1]) == {
        "name",
        "rev",
        "baseline",
        "created",
        "state",
        "params",
        "metrics",
        "deps",
    }
    assert rows[1]["deps"] == {
        "data.txt": rows[0]["deps"]["data.txt"],
        "train.py": rows[0]["deps"]["train.py"],
    }
    assert str(rows[1]["created"]).endswith("Z")
    # the API gives the same data
    assert [r.as_json() for r in api.exp_show()] == rows
    table = run("exp", "show").stdout
    assert "├── a" in table
    assert "└── b" in table
    assert "acc" in table
    md = run("exp", "show", "--md").stdout
    assert md.splitlines()[1].startswith("|---")
    csv_lines = run("exp", "show", "--csv").stdout.splitlines()
    assert csv_lines[0] == (
        "name,rev,baseline,created,state,metrics.json:acc,metrics.json:n,"
        "params.yaml:train.lr,params.yaml:train.depth,params.yaml:train.sleep"
    )
    assert csv_lines[3].startswith(f"b,{rows[2]['rev']},{head},")
    # sorting keeps the baseline first
    ordered = _show(run, "--sort-by", "acc", "--sort-order", "desc")
    assert [r["name"] for r in ordered] == ["main", "a", "b"]
    ordered = _show(run, "--sort-by", "params.yaml:train.lr")
    assert [r["name"] for r in ordered] == ["main", "a", "b"]
    ordered = _show(run, "--sort-by", "metrics.json:acc")
    assert [r["name"] for r in ordered] == ["main", "b", "a"]
    # only-changed < drop < keep
    changed = _show(run, "--only-changed")
    assert changed[0]["params"] == {"params.yaml": {"train.lr": 0.1, "train.depth": 3}}
    assert changed[0]["metrics"] == {"metrics.json": {"acc": 0.3}}
    dropped = _show(run, "--only-changed", "--drop", "depth")
    assert dropped[0]["params"] == {"params.yaml": {"train.lr": 0.1}}
    kept = _show(run, "--only-changed", "--drop", "train", "--keep", "sleep")
    assert kept[0]["params"] == {"params.yaml": {"train.sleep": 0}}


def test_show_n_commits_of_history_each_with_its_experiments(exps: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.2", "-n", "old")
    exps.gen({"data.txt": "abcd"}, commit="more data")
    run("exp", "run", "--temp", "-S", "train.lr=0.3", "-n", "new")
    assert [r["name"] for r in _show(run)] == ["main", "new"]
    rows = _show(run, "-n", "2")
    assert [r["name"] for r in rows] == ["main", "new", rows[2]["rev"], "old"]
    assert rows[3]["baseline"] == exps.git("rev-parse", "HEAD~1").strip()


def test_show_errors(exps: Repo, run: Run) -> None:
    run("exp", "run", "-n", "a")
    err = run("exp", "show", "--sort-by", "nope", code=1).stderr
    assert err.startswith("error: --sort-by nope: no such param or metric")
    err = run("exp", "show", "--drop", "(", code=1).stderr
    assert err.startswith("error: --drop '(' is not a valid regular expression")


def test_queue_and_run_all_in_parallel_worktrees(exps: Repo, run: Run) -> None:
    before = (exps.root / "params.yaml").read_text()
    out = run(
        "exp", "run", "--queue", "-S", "train.lr=0.2,0.4", "-S", "train.depth=range(1,3)"
    ).stdout
    assert "Queued" in out
    status = run("exp", "queue", "status").stdout
    assert status.count("queued") == 4
    rows = _show(run)
    assert [r["state"] for r in rows[1:]] == ["queued"] * 4
    assert (exps.root / "params.yaml").read_text() == before  # queueing changes nothing
    out = run("exp", "run", "--run-all", "-j", "2").stdout
    assert "Ran 4 experiments: 4 saved" in out
    rows = _show(run)
    assert [r["state"] for r in rows[1:]] == ["success"] * 4
    got = sorted(
        (
            r["params"]["params.yaml"]["train.lr"],
            r["params"]["params.yaml"]["train.depth"],
            _metric(r),
        )
        for r in rows[1:]
    )
    assert got == [(0.2, 1, 0.2), (0.2, 2, 0.4), (0.4, 1, 0.4), (0.4, 2, 0.8)]
    assert (exps.root / "params.yaml").read_text() == before
    assert exps.git("status", "--porcelain") == ""
    assert exps.git("worktree", "list").count("\n") == 1
    assert run("exp", "queue", "status").stdout.strip() == "The queue is empty."


def test_temp_runs_in_a_worktree_and_keeps_uncommitted_changes(exps: Repo, run: Run) -> None:
    (exps.root / "data.txt").write_text("abcdef")  # uncommitted: part of the experiment
    out = run("exp", "run", "--temp", "-S", "train.depth=2", "-n", "t").stdout
    assert "Ran experiment t" in out
    rows = _show(run)
    assert rows[1]["name"] == "t"
    assert rows[1]["metrics"]["metrics.json"] == {"acc": 0.2, "n": 6}
    assert (exps.root / "params.yaml").read_text() == PARAMS
    assert exps.git("status", "--porcelain") == " M data.txt\n"
    assert not (exps.root / ".gitflowml/tmp/exps/wt/t").exists()


def test_a_temp_sweep_runs_every_experiment(exps: Repo, run: Run) -> None:
    out = run("exp", "run", "--temp", "-S", "train.lr=0.2,0.3", "-n", "t").stdout
    assert "Ran experiment t-1" in out
    assert "Ran experiment t-2" in out
    assert [r["state"] for r in _show(run)] == ["success"] * 3


def test_forcing_a_failed_name_replaces_its_entry(exps: Repo, run: Run) -> None:
    run("exp", "run", "-S", "train.lr=9", "-n", "x", code=1)
    assert [r["state"] for r in _show(run)] == ["success", "failed"]
    run("exp", "run", "-S", "train.lr=0.2", "-n", "x", "-f")
    assert [(r["name"], r["state"]) for r in _show(run)] == [("main", "success"), ("x", "success")]


def test_a_sweep_runs_at_once_with_run(exps: Repo, run: Run) -> None:
    out = run("exp", "run", "-S", "train.lr=0.2,0.3", "-n", "s", "--run").stdout
    assert "Ran experiment s-1" in out
    assert "Ran experiment s-2" in out
    assert [r["name"] for r in _show(run)] == ["main", "s-1", "s-2"]


def test_a_failed_experiment_is_kept_with_its_log(exps: Repo, run: Run) -> None:
    run("exp", "run", "--queue", "-S", "train.lr=9", "-n", "bad")
    run("exp", "run", "--queue", "-S", "train.lr=1", "-n", "good")
    out = run("exp", "run", "--run-all", code=1).stdout
    assert "1 failed (bad;" in out
    rows = {r["name"]: r for r in _show(run)}
    assert rows["bad"]["state"] == "failed"
    assert rows["good"]["state"] == "success"
    assert "lr too large" in run("exp", "queue", "logs", "bad").stdout
    assert "failed" in run("exp", "queue", "status").stdout
    # in the workspace: the error, exit 1, and a failed entry
    err = run("exp", "run", "-S", "train.lr=8", "-n", "bad2", code=1).stderr
    assert "stage 'train'" in err
    assert {r["name"]: r["state"] for r in _show(run)}["bad2"] == "failed"
    run("exp", "queue", "remove", "bad")
    assert "bad" not in {r["name"] for r in _show(run)}
    run("exp", "remove", "--queue")
    assert [r["name"] for r in _show(run)] == ["main", "good"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-S", "train.lrr=1"], "'train.lrr' is not in params.yaml; use '+train.lrr=1'"),
        (["-S", "train.lr"], "has no '='"),
        (["-S", "train.lr=[1"], "unbalanced"),
        (["-n", "bad/name"], "cannot name an experiment"),
        (["-S", "x.toml:a=2"], "TOML, which gitflowml can read but not write"),
        (["-S", "+x.toml:a=2"], "'a' is in x.toml already"),
        (["-S", "missing.yaml:a=2"], "'a' is not in missing.yaml"),
    ],
)
def test_bad_input_is_one_error_and_changes_nothing(
    exps: Repo, run: Run, args: list[str], says: str
) -> None:
    (exps.root / "x.toml").write_text("a = 1\n")
    err = run("exp", "run", *args, code=1).stderr
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert says in err
    assert (exps.root / "params.yaml").read_text() == PARAMS
    assert exps.git("for-each-ref", "refs/gitflowml") == ""


def test_names_are_unique_per_baseline_unless_forced(exps: Repo, run: Run) -> None:
    run("exp", "run", "-n", "x", "-S", "train.lr=0.2")
    err = run("exp", "run", "-n", "x", "-S", "train.lr=0.3", code=1).stderr
    assert "experiment 'x' exists already" in err
    out = run("exp", "run", "-n", "x", "-f", "-S", "train.lr=0.3").stdout
    assert "Running stage 'train'" in out
    assert [_metric(r) for r in _show(run)] == [0.3, pytest.approx(0.9)]
    generated = run("exp", "run", "-S", "train.lr=0.4").stdout
    name = generated.rsplit("Ran experiment ", 1)[1].split()[0]
    assert len(name.split("-")) == 2


def test_untracked_deps_are_named_before_a_queued_run(exps: Repo, run: Run) -> None:
    exps.gen({"pipeline.yaml": PIPELINE.replace("data.txt]", "data.txt, extra.csv]")})
    (exps.root / "extra.csv").write_text("1\n")
    err = run("exp", "run", "--queue", "-n", "q", code=1).stderr
    assert "deps not in git and not tracked by gitflowml: extra.csv" in err
    assert run("exp", "queue", "status").stdout.strip() == "The queue is empty."
    run("add", "extra.csv")  # tracked data is fine: the worktree gets it from the cache
    exps.git("add", "-A")
    exps.git("commit", "-qm", "extra")
    run("exp", "run", "--temp", "-n", "q")
    assert _show(run)[1]["state"] == "success"


def test_unknown_experiment_is_one_error(exps: Repo, run: Run) -> None:
    for args in (
        ["apply", "nope"],
        ["branch", "nope", "b"],
        ["remove", "nope"],
        ["queue", "logs", "nope"],
    ):
        err = run("exp", *args, code=1).stderr
        assert err.startswith("error: ")
        assert "nope" in err
        assert err.count("\n") == 1
    err = run("metrics", "diff", "HEAD", "nope", code=1).stderr
    assert "or experiment" in err


def test_apply_refuses_then_forces_with_an_undo(exps: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.5", "-n", "best")
    (exps.root / "params.yaml").write_text(PARAMS.replace("depth: 3", "depth: 4"))
    err = run("exp", "apply", "best", code=1).stderr
    assert "would overwrite uncommitted changes to params.yaml" in err
    assert "depth: 4" in (exps.root / "params.yaml").read_text()
    out = run("exp", "apply", "best", "--force").stdout
    assert "to undo: git checkout refs/gitflowml/exps/apply/stash" in out
    assert "lr: 0.5" in (exps.root / "params.yaml").read_text()
    assert "'lr': 0.5" in (exps.root / "model.txt").read_text()  # the out, from the cache
    assert json.loads((exps.root / "metrics.json").read_text())["acc"] == 1.5
    stash = exps.git("show", "refs/gitflowml/exps/apply/stash:params.yaml")
    assert "depth: 4" in stash
    assert "Pipeline is up to date." in run("status").stdout
    # a clean workspace applies without --force
    exps.git("checkout", "--", ".")
    run("checkout", "--force")
    run("exp", "apply", "best")
    assert "lr: 0.5" in (exps.root / "params.yaml").read_text()


def test_apply_never_drops_data_changes_the_cache_has_not_seen(exps: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.5", "-n", "best")
    (exps.root / "model.txt").chmod(0o644)
    (exps.root / "model.txt").write_text("edited by hand\n")
    err = run("exp", "apply", "best", code=1).stderr
    assert "have changes that are not in the cache: model.txt" in err
    assert (exps.root / "model.txt").read_text() == "edited by hand\n"
    assert (exps.root / "params.yaml").read_text() == PARAMS  # nothing was applied
    run("exp", "apply", "best", "--force")
    assert "'lr': 0.5" in (exps.root / "model.txt").read_text()


def test_branch_and_remove(exps: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.5", "-n", "keep")
    run("exp", "run", "--temp", "-S", "train.lr=0.6", "-n", "drop")
    commit = exps.git(
        "rev-parse", "refs/gitflowml/exps/" + exps.git("rev-parse", "HEAD").strip() + "/keep"
    ).strip()
    run("exp", "branch", "keep", "best")
    assert exps.git("rev-parse", "best").strip() == commit
    assert "train" in run("lineage", "model.txt", "--rev", "best").stdout
    run("exp", "remove", "drop")
    assert [r["name"] for r in _show(run)] == ["main", "keep"]
    run("exp", "remove", "--rev", "HEAD")
    assert [r["name"] for r in _show(run)] == ["main"]
    run("exp", "run", "--temp", "-n", "again")
    run("exp", "remove", "--all")
    assert exps.git("for-each-ref", "refs/gitflowml/exps") == ""
    assert run("exp", "remove", code=2).stderr.count("name experiments") == 1


def test_a_rebased_baseline_is_still_listed(exps: Repo, run: Run) -> None:
    old = exps.git("rev-parse", "HEAD").strip()
    run("exp", "run", "--temp", "-S", "train.lr=0.2", "-n", "before")
    exps.git("commit", "-q", "--amend", "-m", "baseline, reworded")  # history rewritten
    assert [r["name"] for r in _show(run)] == ["main"]
    rows = _show(run, "-a")
    labels = [r["name"] for r in rows]
    assert labels == ["main", f"{old[:7]} (not in history)", "before"]
    assert _show(run, "--rev", old)[1]["name"] == "before"


def test_gc_keeps_what_experiments_use(exps: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.7", "-n", "kept")
    oid = api.exp_show()[1].rev
    assert oid
    run("gc", "-w", "-f")
    assert "'lr': 0.7" in api.read("model.txt", rev="kept")
    run("gc", "-w", "-f", "--no-exps")
    with pytest.raises(GitflowmlError, match=r"model\.txt"):
        api.read("model.txt", rev="kept")


def test_push_pull_and_list_through_a_git_remote(exps: Repo, run: Run, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    storage = tmp_path / "storage"
    run("remote", "add", "-d", "store", str(storage))
    exps.git("commit", "-qam", "a data remote")
    exps.git("remote", "add", "origin", str(bare))
    exps.git("push", "-q", "origin", "main")
    run("exp", "run", "--temp", "-S", "train.lr=0.8", "-n", "shared")
    run("exp", "run", "--temp", "-S", "train.lr=0.9", "-n", "private")
    out = run("exp", "push", "origin", "shared").stdout
    assert out.startswith("Pushed 1 experiments to origin; ")
    listed = run("exp", "list", "origin").stdout
    assert "shared" in listed
    assert "private" not in listed
    assert run("exp", "push", "origin", code=1).stderr.startswith("error: name the experiments")
    # a colleague's clone
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    os.chdir(other)
    out = run("exp", "pull", "origin", "--all").stdout
    assert out.startswith("Pulled 1 experiments from origin; ")
    assert "'lr': 0.8" in api.read("model.txt", rev="shared")
    with pytest.raises(GitflowmlError, match=r"'private' is not a revision"):
        api.read("model.txt", rev="private")  # not pulled
    assert "shared" in run("exp", "list").stdout
    rows = _show(run)
    assert [r["name"] for r in rows] == ["main", "shared"]
    assert rows[1]["metrics"] == {"metrics.json": {"acc": 2.4, "n": 3}}
    shared = api.exp_list()[0].commit
    assert '"stage":"train"' in git(other, "notes", "--ref=gitflowml", "show", shared)
    err = run("exp", "list", "nowhere", code=1).stderr
    assert "cannot read experiments from git remote 'nowhere'" in err


def _cli(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitflowml", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(predicate: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _states(root: Path) -> dict[str, str]:
    found = {}
    for path in (root / ".gitflowml/tmp/exps").glob("*.json"):
        found[path.stem] = json.loads(path.read_text())["state"]
    return found


def test_ctrl_c_stops_running_keeps_logs_and_leaves_the_rest_queued(exps: Repo, run: Run) -> None:
    run("exp", "run", "--queue", "-S", "train.sleep=30", "-S", "train.lr=0.1,0.2,0.3")
    proc = _cli(exps.root, "exp", "run", "--run-all", "-j", "2")
    _wait_for(lambda: list(_states(exps.root).values()).count("running") == 2)
    _wait_for(
        lambda: (
            len(list((exps.root / ".gitflowml/tmp/exps/wt").glob("*/model.txt"))) == 0
            and len(list((exps.root / ".gitflowml/tmp/exps/wt").glob("*/.gitflowml/tmp"))) == 2
        )
    )
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().endswith("interrupted; the cache and pointer files are left valid")
    assert sorted(_states(exps.root).values()) == ["failed", "failed", "queued"]
    assert exps.git("worktree", "list").count("\n") == 1
    for name, state in _states(exps.root).items():
        if state == "failed":
            assert (exps.root / f".gitflowml/tmp/exps/{name}.log").exists()
    assert "interrupted" in run("exp", "queue", "status").stdout


def test_a_killed_queue_is_shown_failed_and_cleaned_up(exps: Repo, run: Run) -> None:
    run("exp", "run", "--queue", "-S", "train.sleep=30", "-n", "slow")
    proc = _cli(exps.root, "exp", "run", "--run-all")
    _wait_for(lambda: _states(exps.root).get("slow") == "running")
    _wait_for(lambda: (exps.root / ".gitflowml/tmp/exps/wt/slow/.gitflowml/tmp").exists())
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    _wait_for(lambda: "died" in run("exp", "queue", "status").stdout)
    assert exps.git("worktree", "list").count("\n") == 1
    assert _show(run)[1]["state"] == "failed"


@pytest.mark.parametrize("args", [("exp", "show"), ("exp", "show", "--json")])
def test_exp_show_of_nothing_new_is_a_quick_answer_and_never_stale(
    exps: Repo, run: Run, args: tuple[str, ...]
) -> None:
    from tests.test_quick import gfml, settled

    run("exp", "run", "--temp", "-S", "train.lr=0.2", "-n", "one")
    first = settled(exps.root, *args)
    assert "one" in first

    def changes(change: Any, expect: str | None = None, absent: str | None = None) -> None:
        change()
        time.sleep(0.06)  # past the racy window, so the next answer may be saved
        out, was_quick = gfml(exps.root, *args)
        full, _ = gfml(exps.root, *args, quick_on=False)
        assert out == full
        assert not was_quick, "a changed repository was answered from the old answer"
        if expect is not None:
            assert expect in out
        if absent is not None:
            assert absent not in out
        assert settled(exps.root, *args) == full

    changes(lambda: run("exp", "run", "--temp", "-S", "train.lr=0.3", "-n", "two"), expect="two")
    changes(lambda: run("exp", "remove", "one"), absent="one")
    changes(lambda: run("exp", "run", "--queue", "-n", "later"), expect="later")
    changes(lambda: exps.gen({"data.txt": "abcd"}, commit="new baseline"), absent="two")
    changes(lambda: exps.git("checkout", "-q", "-b", "other"), expect="other")
    changes(lambda: exps.git("pack-refs", "--all"))  # refs move into packed-refs
