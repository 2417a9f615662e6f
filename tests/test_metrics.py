"""metrics show/diff, params diff, diff and api.read at any revision, never checking out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitflowml import api, metrics
from tests.conftest import Repo, Run

PIPELINE = """\
metrics: [eval/summary.yaml]
stages:
  train:
    cmd: cp params.yaml model.txt && cp src/scores.json scores.json
    deps: [data, src]
    params: [train.lr, model]
    outs: [model.txt]
    metrics: [scores.json]
"""


@pytest.fixture
def branches(project: Repo, run: Run) -> Repo:
    """main and feature differ in metrics, params and data; a third branch is checked out
    and the workspace is dirty when the tests compare them."""
    project.gen(
        {
            "pipeline.yaml": PIPELINE,
            "params.yaml": "train: {lr: 0.1, epochs: 3}\nmodel: {depth: 4}\nunused: 1\n",
            "data": {"a.csv": "1\n", "b.csv": "2\n"},
            "src": {"scores.json": json.dumps({"test": {"acc": 0.8, "f1": 0.5}, "model": "v1"})},
            "eval": {"summary.yaml": "loss: 0.4\n"},
        }
    )
    run("add", "data")
    run("repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "main")
    project.git("checkout", "-qb", "feature")
    project.gen(
        {
            "params.yaml": "train: {lr: 0.2, epochs: 3}\nmodel: {depth: 6}\nunused: 2\n",
            "data": {"b.csv": "22\n", "c.csv": "3\n"},
            "src": {"scores.json": json.dumps({"test": {"acc": 0.9, "f1": 0.5}, "model": "v2"})},
        }
    )
    (project.root / "data" / "a.csv").unlink()
    (project.root / "eval" / "summary.yaml").unlink()
    run("add", "data")
    run("repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "feature")
    project.git("checkout", "-qb", "third", "main")
    run("checkout")
    project.gen({"scores.json": "{}", "scratch.txt": "dirty"})
    return project


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and ".git" not in p.relative_to(root).parts[:1]
        and ".gitflowml" not in p.relative_to(root).parts[:1]
    }


def test_compare_two_branches_without_touching_the_workspace(branches: Repo, run: Run) -> None:
    before = _snapshot(branches.root)
    status = branches.git("status", "--porcelain")
    doc = json.loads(run("metrics", "diff", "main", "feature", "--json").stdout)
    assert doc["scores.json"]["test.acc"]["old"] == 0.8
    assert doc["scores.json"]["test.acc"]["new"] == 0.9
    assert doc["scores.json"]["test.acc"]["diff"] == pytest.approx(0.1)
    assert doc["scores.json"]["model"] == {"old": "v1", "new": "v2", "diff": None}
    assert "test.f1" not in doc["scores.json"]  # unchanged: only with --all
    assert doc["eval/summary.yaml"]["loss"] == {"old": 0.4, "new": None, "diff": None}
    table = run("metrics", "diff", "main", "feature", "--all", "--md").stdout
    header = table.splitlines()[0].split("|")
    assert [c.strip() for c in header] == ["", "Path", "Metric", "main", "feature", "Change", ""]
    row = next(line for line in table.splitlines() if "eval/summary.yaml" in line)
    assert [c.strip() for c in row.split("|")][2:6] == ["loss", "0.4", "-", "-"]
    assert "test.f1" in table
    params = json.loads(run("params", "diff", "main", "feature", "--json").stdout)
    assert params == {
        "params.yaml": {
            "model.depth": {"old": 4, "new": 6, "diff": 2},
            "train.lr": {"old": 0.1, "new": 0.2, "diff": pytest.approx(0.1)},
        }
    }
    everything = run("params", "diff", "main", "feature", "--all", "--json").stdout
    assert "unused" in everything
    data = json.loads(run("diff", "main", "feature", "--json").stdout)
    assert data == {
        "added": ["data/c.csv"],
        "modified": ["data/b.csv", "model.txt", "scores.json"],
        "deleted": ["data/a.csv"],
    }
    assert _snapshot(branches.root) == before
    assert branches.git("status", "--porcelain") == status


def test_workspace_is_the_default_b_and_head_the_default_a(branches: Repo, run: Run) -> None:
    doc = json.loads(run("metrics", "diff", "--json").stdout)  # third = main, dirty scores
    assert doc["scores.json"]["test.acc"] == {"old": 0.8, "new": None, "diff": None}
    shown = json.loads(run("metrics", "show", "--rev", "feature", "--json").stdout)
    assert shown["feature"]["scores.json"]["test.acc"] == 0.9
    assert set(json.loads(run("metrics", "show", "-a", "--json").stdout)) == {
        "workspace",
        "feature",
        "main",
        "third",
    }


def test_a_bad_revision_is_one_clear_error(branches: Repo, run: Run) -> None:
    err = run("metrics", "diff", "main", "nope", code=1).stderr
    assert err == (
        "error: 'nope' is not a revision of this repository (a branch, tag, commit, "
        "HEAD~N or experiment); check 'git log' or 'gitflowml exp show'\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("m.json", '{"a": {"b": 1}, "c": "x"}', {"a.b": 1, "c": "x"}),
        ("m.yaml", "a:\n  b: 1.5\nc: [1, 2]\n", {"a.b": 1.5, "c.0": 1, "c.1": 2}),
        ("m.toml", "[a]\nb = 2\n", {"a.b": 2}),
        ("m.csv", "epoch,acc\n1,0.5\n2,0.75\n", {"epoch": 2, "acc": 0.75}),
        ("m.tsv", "epoch\tname\n1\tfirst\n", {"epoch": 1, "name": "first"}),
        (
            "c.csv",
            "class,p,r\ncat,0.5,0.25\ndog,1,0\n",
            {"cat.p": 0.5, "cat.r": 0.25, "dog.p": 1, "dog.r": 0},
        ),
        ("m.json", "{broken", {}),
    ],
)
def test_each_file_format(name: str, text: str, expected: dict[str, object]) -> None:
    assert metrics.parse(name, text.encode()) == expected


def test_read_an_old_version_whose_object_is_only_on_the_remote(
    branches: Repo, run: Run, tmp_path: Path
) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    run("push", "--all-branches")
    shutil.rmtree(branches.root / ".gitflowml" / "cache")
    assert api.read("data/b.csv", rev="feature") == "22\n"
    model = api.read("model.txt", rev="main", mode="rb")
    assert isinstance(model, bytes)
    assert model.startswith(b"train")
    with api.open("data/a.csv", rev="main") as f:
        assert f.read() == "1\n"
    scores = api.read("scores.json", rev="main")  # a stage out: from the remote too
    assert isinstance(scores, str)
    assert json.loads(scores)["test"]["acc"] == 0.8
    with pytest.raises(Exception, match="does not exist at feature"):
        api.read("data/a.csv", rev="feature")
