"""index: what the project tracks, in the workspace and at a revision, read from a real
git repository (pointer files written by `add`, a lock written by hand)."""

from __future__ import annotations

import dataclasses

import pytest

from gitflowml import index
from gitflowml.errors import PathError, PipelineError
from gitflowml.pipeline import lockfile
from gitflowml.project import Project
from tests.conftest import Repo, Run

A = "a" * 32
B = "b" * 32
C = "c" * 32
PIPELINE = """\
stages:
  train:
    cmd: echo
    deps: [data]
    outs: [model.pkl, {local.bin: {push: false}}]
    metrics: [{metrics.json: {cache: false}}]
"""


def _lock(model: str = A) -> str:
    entry = lockfile.StageLock(
        cmd=("echo",),
        outs=(
            lockfile.Entry("local.bin", C, 1),
            lockfile.Entry("metrics.json", B, 2),
            lockfile.Entry("model.pkl", model, 3),
        ),
    )
    return lockfile.dumps(lockfile.Lock({"train": entry}))


@pytest.fixture
def tracked(project: Repo, run: Run) -> Project:
    project.gen({"data": {"x.csv": "1"}, "pipeline.yaml": PIPELINE, "pipeline.lock": _lock()})
    run("add", "data")
    project.gen({}, commit="first")
    return Project.find()


def test_workspace_entries_are_pointers_and_cached_outs(tracked: Project) -> None:
    entries = index.workspace_entries(tracked)
    assert [(e.target, e.pointer_file) for e in entries] == [
        ("data", "data.gfml"),
        ("model.pkl", "pipeline.lock"),
        ("local.bin", "pipeline.lock"),
    ]  # pointers, then outs in pipeline order; metrics.json is `cache: false`: git stores it


def test_moving_leaves_push_false_outs_behind(tracked: Project) -> None:
    targets = [e.target for e in index.workspace_entries(tracked, moving=True)]
    assert targets == ["data", "model.pkl"]


def test_targets_name_paths_or_stages(tracked: Project) -> None:
    assert [e.target for e in index.workspace_entries(tracked, ["train"])] == [
        "local.bin",
        "model.pkl",
    ]  # chosen entries come sorted
    assert [e.target for e in index.workspace_entries(tracked, ["data"])] == ["data"]
    with pytest.raises(PathError, match="not tracked"):
        index.workspace_entries(tracked, ["nope"])


def test_what_a_revision_tracks_is_read_from_git(tracked: Project, project: Repo) -> None:
    first = project.git("rev-parse", "HEAD").strip()
    project.gen({"pipeline.lock": _lock(model=C)}, commit="second")
    then = index.tracked_at(tracked, first)
    now = index.tracked_at(tracked, None)
    assert then["model.pkl"].pointer.oid == A
    assert now["model.pkl"].pointer.oid == C
    assert then["data"].pointer.is_dir
    assert then["data"].pointer_file == "data.gfml"
    assert set(then) == {"data", "local.bin", "metrics.json", "model.pkl"}  # every lock out
    assert index.oid_at(tracked.root, first, "model.pkl") == A
    assert index.oid_at(tracked.root, first, "data") == then["data"].pointer.oid
    assert index.oid_at(tracked.root, first, "nothing") is None


def test_history_scope_adds_every_commit(tracked: Project, project: Repo) -> None:
    project.gen({"pipeline.lock": _lock(model=C)}, commit="second")
    plain = index.scope_entries(tracked, index.Scope(), moving=False)
    everything = index.scope_entries(tracked, index.Scope(all_commits=True), moving=False)
    assert {e.pointer.oid for e in plain if e.target == "model.pkl"} == {C}
    assert {e.pointer.oid for e in everything if e.target == "model.pkl"} == {A, C}
    assert index.Scope(all_branches=True).history
    assert not index.Scope(("x",)).history


def test_a_stage_out_cannot_be_added_and_an_added_path_cannot_be_an_out(
    tracked: Project,
) -> None:
    with pytest.raises(PathError, match="output of stage 'train'"):
        index.refuse_stage_outs(tracked, ["model.pkl"])
    index.refuse_stage_outs(tracked, ["elsewhere.csv"])  # no clash: nothing raised
    found = index.load(tracked)
    assert found is not None
    clash = index.stage_out_clash(found[0], ["model.pkl/inner"])
    assert clash is not None
    assert clash[2] == "model.pkl"
    loaded = found[0]
    index.refuse_added_outs(tracked, loaded)  # no out is added data: nothing raised
    stage = loaded.stages["train"]
    data_out = dataclasses.replace(stage.outs[0], path="data")
    clashing = dataclasses.replace(
        loaded, stages={"train": dataclasses.replace(stage, outs=(data_out,))}
    )
    with pytest.raises(PipelineError, match=r"data\.gfml tracks 'data'"):
        index.refuse_added_outs(tracked, clashing)


def test_no_pipeline_means_no_stage_outs(project: Repo, run: Run) -> None:
    project.gen({"d.txt": "x"})
    run("add", "d.txt")
    proj = Project.find()
    assert index.load(proj) is None
    assert [e.target for e in index.workspace_entries(proj)] == ["d.txt"]
    assert index.local_only(None) == set()
