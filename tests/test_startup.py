"""`--version` and a no-op `status` stay light: no GitPython, fsspec, s3fs or dask."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import Repo, Run

HEAVY = {"git", "fsspec", "s3fs", "dask", "distributed", "boto3", "botocore", "tabulate"}


def _imported(args: list[str], cwd) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitflowml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            modules.add(name.split(".")[0])
    assert "gitflowml" in modules
    return modules


def test_version_imports_not_even_click(project: Repo) -> None:
    assert not {"click", "typing", "signal"} & _imported(["--version"], project.root)


@pytest.mark.parametrize("args", [["--version"], ["status"], ["status", "--json"]])
def test_hot_commands_import_nothing_heavy(project: Repo, run: Run, args: list[str]) -> None:
    project.gen({"data": {"a": "a"}})
    run("add", "data")
    assert _imported(args, project.root) & HEAVY == set()


def test_status_of_a_pipeline_imports_nothing_heavy(project: Repo, run: Run) -> None:
    project.gen(
        {
            "pipeline.yaml": "stages:\n  s:\n    cmd: echo\n    deps: [d.csv]\n    outs: [o.csv]\n",
            "d.csv": "1",
        }
    )
    assert _imported(["status"], project.root) & HEAVY == set()
