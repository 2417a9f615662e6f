"""Switching a real DVC project (made by DVC 3.67.1: tests/data/dvc/make_project.sh) to
gitflowml: right after `import-dvc` nothing reruns, every output is byte-identical, the
answers about metrics and params are DVC's, and a teammate's clone pulls every output."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, Run, git

PROJECT = Path(__file__).parent / "data" / "dvc" / "project.tar.gz"
STAGES = ["prepare", "report", "train", "evaluate@train", "evaluate@test"]
OUTPUTS = [
    "data/prepared/train.csv",
    "data/prepared/test.csv",
    "model.pkl",
    "logs/train.log",
    "metrics.json",
    "plots/loss.csv",
    "report.txt",
    "eval/train/scores.yaml",
    "eval/train/roc.json",
    "eval/test/scores.yaml",
    "eval/test/roc.json",
    "data/raw.csv",
    "data/images/0.bin",
    "data/images/2.bin",
]


@pytest.fixture
def dvc_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    with tarfile.open(PROJECT) as tar:
        tar.extractall(tmp_path, filter="data")
    root = (tmp_path / "project").resolve()
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    monkeypatch.chdir(root)
    repo = Repo(root)
    repo.age()  # as a project would be: its files were not written a moment ago
    return repo


def expected(repo: Repo, name: str) -> Any:
    """DVC's own answer, recorded by make_project.sh."""
    return json.loads((repo.root.parent / "expected" / name).read_text())


def contents(root: Path) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in OUTPUTS}


def test_import_locks_every_matching_stage_so_nothing_reruns(dvc_project: Repo, run: Run) -> None:
    before = contents(dvc_project.root)
    run("init")
    out = run("import-dvc").stdout
    assert "dvc.yaml converted to pipeline.yaml" in out
    assert f"matches dvc.lock, locked without a rerun: {', '.join(STAGES)}" in out
    assert "stale" not in out
    assert "tracked data/raw.csv -> data/raw.csv.gfml" in out
    # DVC caches metrics and plots by default: the conversion says so explicitly
    assert "plots/loss.csv: DVC caches it, so it is written with cache: true" in out
    pipeline = (dvc_project.root / "pipeline.yaml").read_text()
    assert "plots/loss.csv:\n        cache: true" in pipeline
    assert "metrics.json:\n        cache: false" in pipeline
    assert run("status").stdout == "Pipeline is up to date. (frozen: report)\n"
    repro = run("repro").stdout
    assert repro.endswith("Pipeline is up to date.\n")
    assert "Running" not in repro
    assert "running" not in repro
    assert contents(dvc_project.root) == before  # the persist log has its one line still
    assert (dvc_project.root / "logs" / "train.log").read_text() == "trained lr=0.1 epochs=4\n"
    # DVC's files are read, never changed
    assert git(dvc_project.root, "status", "--short", "--", "dvc.yaml", "dvc.lock", ".dvc") == ""

    lock = (dvc_project.root / "pipeline.lock").read_bytes()
    again = run("import-dvc").stdout  # twice is safe
    assert "pipeline.yaml exists already; dvc.yaml left as it is" in again
    assert f"locked before: {', '.join(STAGES)}" in again
    assert "data/raw.csv: converted before" in again
    assert "remote" not in again
    assert (dvc_project.root / "pipeline.lock").read_bytes() == lock


def test_a_param_change_reruns_only_what_uses_it(dvc_project: Repo, run: Run) -> None:
    run("init")
    run("import-dvc")
    params = dvc_project.root / "params.yaml"
    params.write_text(params.read_text().replace("lr: 0.1", "lr: 0.3"))
    status = run("status").stdout
    assert "train:\n\t\tparam changed: params.yaml:train.lr: 0.1 -> 0.3" in status
    assert "prepare" not in status
    repro = run("repro").stdout
    assert "Stage 'prepare' is up to date" in repro
    assert "Running stage 'train'" in repro
    assert "Running stage 'evaluate@test'" in repro
    log = (dvc_project.root / "logs" / "train.log").read_text()
    assert log == "trained lr=0.1 epochs=4\ntrained lr=0.3 epochs=4\n"  # persist: kept
    # the same answers as DVC gave on its branch with that param
    assert json.loads((dvc_project.root / "metrics.json").read_text())["train"]["loss"] == 0.16


def test_a_teammate_clone_pulls_every_output(dvc_project: Repo, run: Run, tmp_path: Path) -> None:
    before = contents(dvc_project.root)
    run("init")
    run("import-dvc")
    remotes = run("remote", "list").stdout
    assert remotes == "local\t../store/gitflowml\t(default)\n"  # DVC's ../../store is from .dvc/
    assert "uploaded" in run("push").stdout
    store = dvc_project.root.parent / "store"
    assert sorted(p.name for p in store.iterdir()) == ["files", "gitflowml"]  # DVC's, ours
    dvc_project.git("add", "-A")
    dvc_project.git("commit", "-qm", "Switch to gitflowml")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dvc_project.root), str(clone))
    # a teammate's clone sits beside the project, so the relative remote is the same store
    shutil.move(str(clone), dvc_project.root.parent / "clone")
    clone = dvc_project.root.parent / "clone"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(clone)
        out = run("pull").stdout
        assert "restored plots/loss.csv" in out
        assert "restored eval/test/scores.yaml" in out
        assert contents(clone) == before
        assert run("status").stdout == "Pipeline is up to date. (frozen: report)\n"


def test_missing_outputs_come_from_dvc_cache_or_remote(dvc_project: Repo, run: Run) -> None:
    root = dvc_project.root
    before = contents(root)
    (root / "model.pkl").unlink()
    shutil.rmtree(root / "data" / "prepared")
    (root / "data" / "raw.csv").unlink()
    shutil.rmtree(root / ".dvc" / "cache" / "files" / "md5" / "63")  # model.pkl: remote only
    run("init")
    out = run("import-dvc").stdout
    assert "restored model.pkl from DVC's cache or remote" in out
    assert "restored data/prepared from DVC's cache or remote" in out
    assert "restored data/raw.csv from DVC's cache or remote" in out
    assert f"locked without a rerun: {', '.join(STAGES)}" in out
    assert contents(root) == before
    assert run("status").stdout == "Pipeline is up to date. (frozen: report)\n"


def test_a_stage_that_does_not_match_stays_stale_with_the_reason(
    dvc_project: Repo, run: Run
) -> None:
    root = dvc_project.root
    (root / "model.pkl").write_text('{"threshold": 0.9, "depth": 3}')
    shutil.rmtree(root / ".dvc" / "cache")
    shutil.rmtree(root / ".." / "store")
    (root / "report.txt").unlink()
    run("init")
    out = run("import-dvc").stdout
    assert "matches dvc.lock, locked without a rerun: prepare\n" in out
    assert "stale: train: out model.pkl is not the one dvc.lock records" in out
    assert "stale: evaluate@train: dep model.pkl has changed since dvc.lock" in out
    assert (
        "stale: report: out report.txt is missing, and neither DVC's cache nor its remote has it"
    ) in out
    assert "run 'gitflowml repro' to bring the stale stages up to date" in out
    status = run("status").stdout
    assert "train:\n\t\tnever ran" in status
    assert "prepare" not in status


def test_help_says_what_happens_to_each_dvc_file(run: Run) -> None:
    text = " ".join(run("import-dvc", "--help").stdout.split())
    for said in (
        "dvc.yaml -> pipeline.yaml",
        "dvc.lock -> pipeline.lock, for each stage whose command, deps, params and outs match",
        "*.dvc -> *.gfml pointers",
        ".dvc/config -> gitflowml remotes, at DVC's URL + /gitflowml",
        "dvc.yaml, dvc.lock, .dvc/ and DVC's remote are only read",
        "Running it again converts only what is new",
    ):
        assert said in text


def test_dvc_yaml_without_dvc_lock_and_no_dvc_yaml(dvc_project: Repo, run: Run) -> None:
    root = dvc_project.root
    (root / "dvc.lock").unlink()
    run("init")
    out = run("import-dvc").stdout
    assert "there is no dvc.lock, so every stage is new to 'gitflowml repro'" in out
    for name in ("pipeline.yaml", "pipeline.lock", "dvc.yaml"):
        (root / name).unlink(missing_ok=True)
    out = run("import-dvc").stdout
    assert "dvc.lock" not in out
    assert "pipeline" not in out


def test_a_malformed_dvc_lock_is_one_error_line(dvc_project: Repo, run: Run) -> None:
    (dvc_project.root / "dvc.lock").write_text("stages: [unclosed\n")
    run("init")
    err = run("import-dvc", code=1).stderr
    assert err.startswith("error: dvc.lock")
    assert "fix it with DVC" in err
    assert "Traceback" not in err


def test_answers_about_history_are_dvcs(dvc_project: Repo, run: Run) -> None:
    """metrics show / diff, params diff and diff at revisions from before the switch (no
    pipeline.yaml there: read through dvc.yaml, dvc.lock and DVC's cache), in DVC's JSON."""
    run("init")
    run("import-dvc")
    dvc = ("--json-format", "dvc")

    def answer(*args: str) -> object:
        return json.loads(run(*args, *dvc).stdout)

    assert answer("metrics", "show") == expected(dvc_project, "metrics_show.json")
    assert answer("metrics", "show", "-a") == expected(
        dvc_project, "metrics_show_all_branches.json"
    )
    assert answer("metrics", "diff", "main", "feature") == expected(
        dvc_project, "metrics_diff.json"
    )
    assert answer("params", "diff", "main", "feature") == expected(dvc_project, "params_diff.json")
    assert answer("diff", "main", "feature") == expected(dvc_project, "diff.json")
    for sha, value in expected(dvc_project, "metrics_show_all_commits.json").items():
        if sha != "workspace":  # each commit: the first has no dvc.yaml, so no metrics
            assert answer("metrics", "show", "--rev", sha) == {sha: value}
    assert answer("metrics", "diff", "main~1", "main") == expected(
        dvc_project, "metrics_diff_first.json"
    )
    assert answer("params", "diff", "main~1", "main") == expected(
        dvc_project, "params_diff_first.json"
    )
    from gitflowml import api

    old = api.read("eval/test/scores.yaml", rev="feature")  # from DVC's cache, verified
    assert old == "accuracy: 0.84\nrows: 50\n"
    shown = run("metrics", "show", "--rev", "main", "--rev", "feature").stdout
    assert "feature     metrics.json            train.loss   0.16" in shown
    assert "main        eval/test/scores.yaml   accuracy     0.9" in shown  # cached by DVC
    # after the switch is committed, history on both sides of it compares by content
    dvc_project.git("add", "-A")
    dvc_project.git("commit", "-qm", "Switch to gitflowml")
    assert run("diff", "main~1", "HEAD").stdout == "No data changed.\n"
    across = json.loads(run("metrics", "diff", "feature", "HEAD", "--json").stdout)
    assert across["metrics.json"]["train.loss"]["old"] == 0.16
    assert across["metrics.json"]["train.loss"]["new"] == 0.14
    assert across["eval/test/scores.yaml"]["accuracy"] == {
        "old": 0.84,
        "new": 0.9,
        "diff": pytest.approx(0.06),
    }


def test_lineage_after_a_plain_git_commit(dvc_project: Repo, run: Run) -> None:
    """The DVC habit: results committed with `git commit`, so no run record exists; the
    committed pipeline.lock still names each producer, its inputs and params."""
    run("init")
    run("import-dvc")
    dvc_project.git("add", "-A")
    dvc_project.git("commit", "-qm", "Switch to gitflowml")
    tree = run("lineage", "eval/test/scores.yaml").stdout
    lines = tree.splitlines()
    assert lines[0].startswith("eval/test/scores.yaml  [")
    assert "stage 'evaluate@test', no run record, locked in commit" in lines[0]
    assert "    cmd: python3 src/evaluate.py test" in lines
    assert any("model.pkl  stage 'train', no run record" in line for line in lines)
    assert any("params.yaml:train.lr=0.1" in line for line in lines)
    # data/prepared is read by evaluate and by train: its subtree is printed once
    prepared = [line for line in lines if "data/prepared  stage 'prepare'" in line]
    assert len(prepared) == 2
    assert prepared[1].endswith("(its inputs are shown above)")
    assert tree.count("data/raw.csv  added in commit") == 1
    # every code file has the one label, deps and detected code alike
    for script in ("src/evaluate.py", "src/train.py", "src/prepare.py"):
        assert f"{script}  code, last changed in commit" in tree
    inside = run("lineage", "data/prepared/train.csv").stdout
    assert inside.startswith("data/prepared/train.csv  (in data/prepared)  [")
    assert "stage 'prepare', no run record" in inside.splitlines()[0]
    doc = json.loads(run("lineage", "model.pkl", "--json").stdout)
    assert doc["recorded"] is False
    assert doc["stage"] == "train"
    assert doc["params"]["params.yaml:train.lr"] == 0.1
