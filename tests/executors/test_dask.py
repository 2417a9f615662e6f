"""repro --executor dask on a real distributed.LocalCluster (processes, 2 workers), with the
remote cache as the only way data reaches the workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, Run
from tests.test_remote import _s3_remote

DIAMOND = """\
stages:
  prepare:
    cmd: python3 prep.py data clean.txt
    deps: [data, prep.py]
    outs: [clean.txt]
  left:
    cmd: mkdir -p left && tr a-z A-Z < clean.txt > left/upper.txt && wc -l < clean.txt > left/n
    deps: [clean.txt]
    outs: [left]
  right:
    python: lib/stats.py:main
    args: {scale: 3}
    deps: [clean.txt]
    outs: [right.json]
  join:
    cmd: cat left/upper.txt right.json > joined.txt
    deps: [left, right.json]
    outs: [joined.txt]
"""
FILES: dict[str, Any] = {
    "data": {"a.txt": "alpha\n", "b.txt": "beta\n"},
    "prep.py": (
        "import pathlib, sys\nsrc, dst = sys.argv[1:]\n"
        "lines = sorted(p.read_text() for p in pathlib.Path(src).iterdir())\n"
        "pathlib.Path(dst).write_text(''.join(lines))\n"
    ),
    "lib": {
        "helpers.py": "def count(text):\n    return len(text.split())\n",
        "stats.py": (
            "import json\nfrom lib.helpers import count\n\n"
            "def main(scale):\n    text = open('clean.txt').read()\n"
            "    json.dump({'words': count(text) * scale}, open('right.json', 'w'))\n"
        ),
    },
}
OUTS = ["clean.txt", "left/upper.txt", "left/n", "right.json", "joined.txt"]


def _outs(root: Path) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in OUTS}


@pytest.fixture
def diamond(project: Repo, run: Run, tmp_path: Path) -> Repo:
    project.gen({**FILES, "pipeline.yaml": DIAMOND})
    run("add", "data")
    return project


def test_a_diamond_on_dask_matches_a_local_run(diamond: Repo, run: Run, tmp_path: Path) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    result = run("repro", "--executor", "dask", "-j", "2")
    assert "Pipeline reproduced: ran 4." in result.stdout
    remote_outs = _outs(diamond.root)
    remote_lock = (diamond.root / "pipeline.lock").read_text()
    assert run("status").stdout == "Pipeline is up to date.\n"
    for path in ["clean.txt", "left", "right.json", "joined.txt", "pipeline.lock"]:
        target = diamond.root / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    shutil.rmtree(diamond.root / ".gitflowml" / "cache" / "runs")
    run("repro", "--no-run-cache")
    assert _outs(diamond.root) == remote_outs
    assert (diamond.root / "pipeline.lock").read_text() == remote_lock
    assert b'{"words": 6}' in remote_outs["joined.txt"]


def test_dask_with_the_s3_remote(
    diamond: Repo,
    run: Run,
    bucket: str,
    s3_endpoint: str,
) -> None:
    _s3_remote(run, bucket, s3_endpoint)
    run("repro", "--executor", "dask", "-j", "2")
    assert (diamond.root / "left" / "upper.txt").read_text() == "ALPHA\nBETA\n"


def test_failures_and_resources_on_dask(project: Repo, run: Run, tmp_path: Path) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.gen(
        {
            "pipeline.yaml": "stages:\n  bad:\n    cmd: echo broken >&2 && exit 3\n"
            "    outs: [x]\n  big:\n    cmd: echo hi > y\n    outs: [y]\n"
            "    resources: {cpus: 4}\n",
        }
    )
    result = run("repro", "--executor", "dask", "-k", code=1)
    assert "stage 'bad' exited with code 3" in result.stderr
    assert "[bad] broken" in result.stdout
    assert "needs cpus=4 but no Dask worker has that" in result.stderr


def test_dask_needs_a_remote_the_workers_can_reach(project: Repo, run: Run) -> None:
    project.gen({"pipeline.yaml": "stages:\n  s:\n    cmd: echo hi > o\n    outs: [o]\n"})
    assert "no default remote" in run("repro", "--executor", "dask", code=1).stderr
    run("remote", "add", "-d", "mem", "memory://x")
    assert "Dask workers cannot reach" in run("repro", "--executor", "dask", code=1).stderr


def test_a_lost_worker_is_retried_elsewhere(project: Repo, run: Run, tmp_path: Path) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    marker = tmp_path / "killed-once"
    project.gen(
        {
            "pipeline.yaml": "stages:\n  fragile:\n"
            f'    cmd: "if [ ! -f {marker} ]; then touch {marker}; kill -9 $PPID; sleep 5; fi;'
            ' echo done > out.txt"\n    outs: [out.txt]\n    retries: 1\n'
        }
    )
    run("repro", "--executor", "dask", "-j", "2")
    assert marker.exists()  # the first worker died mid-stage
    assert (project.root / "out.txt").read_text() == "done\n"


def test_an_experiment_runs_its_stages_on_dask(diamond: Repo, run: Run, tmp_path: Path) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    templated = DIAMOND.replace("args: {scale: 3}", 'args: {scale: "${scale}"}')
    diamond.gen({"pipeline.yaml": templated})
    diamond.gen({"params.yaml": "scale: 3\n"}, commit="diamond")
    out = run("exp", "run", "--temp", "-S", "scale=5", "-n", "big", "--executor", "dask").stdout
    assert "Ran experiment big" in out
    from gitflowml import api

    assert '{"words": 10}' in str(api.read("joined.txt", rev="big"))
    assert not (diamond.root / "joined.txt").exists()  # --temp: the workspace is untouched


def test_an_environment_reaches_the_workers(project: Repo, run: Run, tmp_path: Path) -> None:
    """--env on Dask: ${} values and GITFLOWML_PARAMS_FILE are the merged params there too."""
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.gen(
        {
            "params.yaml": "lr: 0.1\nname: base\n",
            "params.prod.yaml": "lr: 0.01\n",
            "pipeline.yaml": "stages:\n  s:\n"
            '    cmd: echo ${lr} > lr.txt && cat "$GITFLOWML_PARAMS_FILE" > seen.yaml\n'
            "    params: [lr, name]\n    outs: [lr.txt, seen.yaml]\n",
        }
    )
    run("repro", "--executor", "dask", "--env", "prod")
    assert (project.root / "lr.txt").read_text() == "0.01\n"
    assert (project.root / "seen.yaml").read_text() == "lr: 0.01\nname: base\n"
    assert "env: prod" in (project.root / "pipeline.lock").read_text()
