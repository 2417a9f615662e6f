"""Environments (SPEC section 16): `--env NAME` / GITFLOWML_ENV overlay `P.NAME.yaml` on
each params file `P.yaml` the stages read, without rewriting any tracked file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gitflowml.pipeline import params
from tests.conftest import Repo, Run

PIPELINE = """\
stages:
  train:
    cmd: echo lr=${train.lr} epochs=${train.epochs} > model.txt
    params: [train.lr, train.epochs]
    outs: [model.txt]
  report:
    cmd: echo ${title} > report.txt
    params: [title]
    outs: [report.txt]
  show:
    cmd: cat "$GITFLOWML_PARAMS_FILE" > seen.yaml
    params: [train.lr]
    outs: [seen.yaml]
"""
BASE = "title: weekly\ntrain:\n  lr: 0.1\n  epochs: 3\n  layers: [1, 2, 3]\n"
PROD = "train:\n  lr: 0.01\n  layers: [64]\n"


@pytest.fixture
def envs(project: Repo, run: Run) -> Repo:
    project.gen({"pipeline.yaml": PIPELINE, "params.yaml": BASE, "params.prod.yaml": PROD})
    run("repro")
    return project


def _stale(run: Run, *args: str) -> list[str]:
    return sorted(json.loads(run("status", "--json", *args).stdout))


def test_merge_follows_kedros_rule() -> None:
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "l": [1, 2], "s": "x"}
    over = {"a": {"c": {"d": 20}}, "l": [9], "s": {"now": "a mapping"}}
    assert params.merge(base, over) == {
        "a": {"b": 1, "c": {"d": 20, "e": 3}},  # mappings merge all the way down
        "l": [9],  # lists replace
        "s": {"now": "a mapping"},  # and so does anything that is not a mapping on both sides
    }
    assert params.overlay_name("conf/params.yaml", "prod") == "conf/params.prod.yaml"
    assert params.overlay_name("train.json", "dev") == "train.dev.json"


def test_an_env_makes_exactly_the_stages_that_read_a_changed_key_stale(
    envs: Repo, run: Run
) -> None:
    tracked = {p: (envs.root / p).read_text() for p in ("params.yaml", "params.prod.yaml")}
    assert _stale(run) == []
    assert _stale(run, "--env", "prod") == ["show", "train"]  # report reads only `title`
    out = run("repro", "--env", "prod").stdout
    assert "Running stage 'train'" in out
    assert "Running stage 'report'" not in out
    assert (envs.root / "model.txt").read_text() == "lr=0.01 epochs=3\n"  # merged, not replaced
    assert _stale(run, "--env", "prod") == []
    lock = (envs.root / "pipeline.lock").read_text()
    assert "env: prod" in lock
    assert {p: (envs.root / p).read_text() for p in tracked} == tracked  # never rewritten
    # back to no environment: the run-cache has those results, nothing runs
    out = run("repro").stdout
    assert "Running" not in out
    assert "Restored stage 'train' from the run-cache" in out
    assert (envs.root / "model.txt").read_text() == "lr=0.1 epochs=3\n"
    assert "env:" not in (envs.root / "pipeline.lock").read_text().split("train:")[1]


def test_gitflowml_env_is_the_same_as_the_flag_and_the_flag_wins(
    envs: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs.gen({"params.dev.yaml": "title: daily\n"})
    monkeypatch.setenv("GITFLOWML_ENV", "prod")
    assert _stale(run) == ["show", "train"]
    assert _stale(run, "--env", "dev") == ["report"]
    monkeypatch.delenv("GITFLOWML_ENV")
    result = run("status", "--env", "../x", code=2)
    assert "not an environment name" in result.stderr


def test_shell_stages_read_the_merged_values_from_gitflowml_params_file(
    envs: Repo, run: Run
) -> None:
    import yaml

    seen = yaml.safe_load((envs.root / "seen.yaml").read_text())
    assert seen["train"]["lr"] == 0.1  # no environment: params.yaml itself
    run("repro", "--env", "prod")
    seen = yaml.safe_load((envs.root / "seen.yaml").read_text())
    assert seen == {"title": "weekly", "train": {"lr": 0.01, "epochs": 3, "layers": [64]}}


def test_params_show_and_diff_between_environments(envs: Repo, run: Run) -> None:
    shown = run("params", "show", "--env", "prod", "--show-origin").stdout.splitlines()
    assert "params.prod.yaml\tparams.yaml:train.lr=0.01" in shown
    assert "params.yaml\tparams.yaml:train.epochs=3" in shown
    assert "params.yaml\tparams.yaml:title=weekly" in shown
    doc = json.loads(run("params", "show", "--json").stdout)
    assert doc["params.yaml"]["train.lr"] == 0.1
    rows = json.loads(run("params", "diff", "--env", "dev", "--env", "prod", "--json").stdout)
    assert rows["params.yaml"]["train.lr"] == {
        "old": 0.1,
        "new": 0.01,
        "diff": pytest.approx(-0.09),
    }
    assert "title" not in rows["params.yaml"]  # the same in both
    assert (
        "two environments"
        in run("params", "diff", "--env", "a", "--env", "b", "--env", "c", code=1).stderr
    )


def test_the_run_record_and_lineage_name_the_environment(envs: Repo, run: Run) -> None:
    run("repro", "--env", "prod", "--commit", "-m", "prod run")
    out = run("lineage", "model.txt").stdout
    assert "stage 'train', env prod" in out
    doc = json.loads(run("lineage", "model.txt", "--json").stdout)
    assert doc["env"] == "prod"


def test_a_queued_experiment_keeps_its_environment(envs: Repo, run: Run) -> None:
    envs.git("add", "-A")
    envs.git("commit", "-qm", "pipeline")
    run("exp", "run", "--env", "prod", "--queue", "-n", "in-prod")
    done = subprocess.run(
        [sys.executable, "-m", "gitflowml", "exp", "run", "--run-all"],
        cwd=envs.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ref = envs.git("for-each-ref", "--format=%(refname)", "refs/gitflowml/exps/").split()
    assert len(ref) == 1
    assert ref[0].endswith("/in-prod")
    lock = envs.git("show", f"{ref[0]}:pipeline.lock")  # what the queued run recorded
    assert "env: prod" in lock
    assert "lr: 0.01" in lock


def test_metrics_say_when_they_were_made_in_another_environment(project: Repo, run: Run) -> None:
    project.gen(
        {
            "params.yaml": BASE,
            "params.prod.yaml": PROD,
            "pipeline.yaml": "stages:\n  score:\n"
            "    cmd: >-\n      echo '{\"lr\": ${train.lr}}' > score.json\n"
            "    params: [train.lr]\n    metrics: [score.json]\n",
        }
    )
    run("repro", "--env", "prod")
    shown = run("metrics", "show", "--env", "prod")
    assert "0.01" in shown.stdout
    assert shown.stderr == ""
    other = run("metrics", "show", "--env", "dev")
    assert other.stderr == (
        "warning: score.json was made with env prod, not dev (pipeline.lock); "
        "'gitflowml repro --env dev' remakes it\n"
    )
    project.git("add", "-A")
    project.git("commit", "-qm", "scored in prod")
    assert "made with env prod" in run("metrics", "diff", "--env", "dev").stderr
    assert run("metrics", "show").stderr == ""  # no --env: nothing to check against
