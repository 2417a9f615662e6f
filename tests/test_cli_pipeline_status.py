"""`status` and `dag` on a real pipeline in a git repository (repro itself comes later; the
lock a finished run would write is made here from what the workspace holds)."""

from __future__ import annotations

import json

import pytest

from gitflowml import index
from gitflowml.pipeline import lockfile, observe, plan
from gitflowml.project import Project
from gitflowml.storage.odb import local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.workspace import DirInfo, Scanner
from tests.conftest import Repo, Run, Tree

PIPELINE = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [raw.csv, prepare.py]
    params: [prepare.split]
    outs: [data/prepared]
  train:
    cmd: python train.py
    deps: [data/prepared]
    params: [train]
    outs: [model.pkl]
    metrics: [{metrics.json: {cache: false}}]
  report:
    cmd: echo report
    deps: [metrics.json]
    outs: [report.md]
    frozen: true
"""
FILES: Tree = {
    "pipeline.yaml": PIPELINE,
    "params.yaml": "prepare: {split: 0.2}\ntrain: {lr: 0.1, epochs: 3}\n",
    "raw.csv": "a,b\n1,2\n",
    "prepare.py": "print('prepare')\n",
    "data": {"prepared": {"x.csv": "1", "y.csv": "2"}},
    "model.pkl": "model",
    "metrics.json": '{"acc": 0.9}',
}


def _record_run(names: list[str]) -> None:
    """Write the lock entries a successful run of `names` would leave."""
    project = Project.find()
    loaded, _ = index.load(project) or (None, None)
    assert loaded is not None
    state = open_state(project)
    try:
        now = observe.observe(project.root, loaded.stages.values(), Scanner(state, 1))
        # a run caches its outs: store them, as the runner does
        odb = local_odb(project)
        outs = [project.root / o.path for n in names for o in loaded.stages[n].outs]
        for info in Scanner(state, 1, store=odb).scan_many(outs):
            if isinstance(info, DirInfo):
                odb.add_manifest(info.files)
    finally:
        state.close()
    lock_path, _journal = index.lock_paths(project)
    lock = lockfile.load(lock_path)
    for name in names:
        stage = loaded.stages[name]
        entry = lockfile.StageLock(
            cmd=stage.cmd,
            deps=tuple(e for p in stage.deps if (e := now.paths[p]) is not None),
            params=plan.param_values(stage, now),
            code=now.code[name],
            outs=tuple(e for o in stage.outs if (e := now.paths[o.path]) is not None),
        )
        lock = lock.with_stage(name, entry)
    lockfile.dump(lock, lock_path)


@pytest.fixture
def pipe(project: Repo) -> Repo:
    project.gen(FILES)
    return project


def test_never_run_stages_are_stale(pipe: Repo, run: Run) -> None:
    text = run("status").stdout
    assert "prepare:\n\t\tnever ran" in text
    assert "train:\n\t\tnever ran" in text
    assert "frozen (never run by repro): report" in text
    run("status", "--check", code=1)
    doc = json.loads(run("status", "--json").stdout)
    assert doc["prepare"] == [{"reason": "new"}]
    assert doc["report"] == [{"reason": "frozen"}]


def test_each_change_is_reported_with_old_and_new(pipe: Repo, run: Run) -> None:
    _record_run(["prepare", "train"])
    assert run("status").stdout == "Pipeline is up to date. (frozen: report)\n"
    run("status", "--check")

    pipe.gen({"params.yaml": "prepare: {split: 0.3}\ntrain: {lr: 0.1, epochs: 3}\n"})
    text = run("status").stdout
    assert "param changed: params.yaml:prepare.split: 0.2 -> 0.3" in text
    assert "train:" not in text  # train's params did not change

    pipe.gen({"params.yaml": "prepare: {split: 0.2}\ntrain: {lr: 0.1, epochs: 3}\nnew: 1\n"})
    assert "Pipeline is up to date." in run("status").stdout  # an unlisted key

    pipe.gen({"raw.csv": "a,b\n9,9\n"})
    (pipe.root / "model.pkl").unlink()
    doc = json.loads(run("status", "--json").stdout)
    assert doc["prepare"][0]["reason"] == "dep"
    assert doc["prepare"][0]["path"] == "raw.csv"
    assert doc["train"] == [
        {"reason": "out", "path": "model.pkl", "old": "present", "new": "missing"}
    ]


def test_targets_select_stages_and_what_they_need(pipe: Repo, run: Run) -> None:
    _record_run(["prepare"])
    text = run("status", "train").stdout
    assert "train:" in text
    assert "prepare:" not in text  # up to date, so not listed
    assert "'nope' is not a stage" not in text
    result = run("status", "nope", code=1)
    assert "nope is not tracked by gitflowml" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("ascii", "prepare\ntrain    <- prepare\nreport   <- train"),
        (
            "dot",
            'digraph pipeline {\n  "prepare";\n  "train";\n  "report";\n'
            '  "prepare" -> "train";\n  "train" -> "report";\n}',
        ),
        (
            "mermaid",
            'flowchart TD\n  s0["prepare"]\n  s1["train"]\n  s2["report"]\n'
            "  s0 --> s1\n  s1 --> s2",
        ),
    ],
)
def test_dag_formats(pipe: Repo, run: Run, fmt: str, expected: str) -> None:
    assert run("dag", "--format", fmt).stdout == expected + "\n"


def test_dag_json_and_target(pipe: Repo, run: Run) -> None:
    doc = json.loads(run("dag", "train", "--format", "json").stdout)
    assert doc == {"nodes": ["prepare", "train"], "edges": [["prepare", "train"]]}
    assert "'nope' is not a stage" in run("dag", "nope", code=1).stderr


def test_pipeline_errors_are_one_line(pipe: Repo, run: Run) -> None:
    pipe.gen(
        {
            "pipeline.yaml": "stages:\n  a:\n    cmd: x\n    deps: [b.out]\n    outs: [a.out]\n"
            "  b:\n    cmd: y\n    deps: [a.out]\n    outs: [b.out]\n"
        }
    )
    result = run("status", code=1)
    assert result.stderr.count("\n") == 1
    assert "stages form a cycle" in result.stderr
    pipe.gen({"pipeline.yaml": "stages:\n  a:\n    cmd: x\n    colour: red\n"})
    assert "pipeline.yaml:4: stage 'a': unknown key 'colour'" in run("dag", code=1).stderr


def test_no_pipeline(project: Repo, run: Run) -> None:
    """status says what is true, and agrees with dag and repro."""
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    assert json.loads(run("status", "--json").stdout) == {}
    assert "there is no pipeline.yaml" in run("dag", code=1).stderr
    assert "there is no pipeline.yaml" in run("repro", code=1).stderr
    project.gen({"d.csv": "1"})
    run("add", "d.csv")
    project.gen({"d.csv": "2"})
    out = run("status").stdout
    assert "modified:" in out
    assert "up to date" not in out


def test_dag_md_is_mermaid_in_a_code_block(pipe: Repo, run: Run) -> None:
    mermaid = run("dag", "--format", "mermaid").stdout
    assert run("dag", "--md").stdout == f"```mermaid\n{mermaid}```\n"


def test_dag_outs_draws_outputs(pipe: Repo, run: Run) -> None:
    width = len("data/prepared") + 2
    assert run("dag", "--outs").stdout == (
        "data/prepared\n"
        f"{'model.pkl'.ljust(width)}<- data/prepared\n"
        f"{'metrics.json'.ljust(width)}<- data/prepared\n"
        f"{'report.md'.ljust(width)}<- metrics.json\n"
    )
    doc = json.loads(run("dag", "train", "--outs", "--format", "json").stdout)
    assert doc == {
        "nodes": ["data/prepared", "model.pkl", "metrics.json"],
        "edges": [["data/prepared", "model.pkl"], ["data/prepared", "metrics.json"]],
    }
