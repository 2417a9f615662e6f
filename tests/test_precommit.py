"""The hooks of .pre-commit-hooks.yaml, run through the real pre-commit framework
(`pre-commit try-repo` against this checkout) in temporary repositories. pre-commit builds
the hooks' environment once per test worker, from the package registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import gitflowml
from tests.conftest import Repo, Run

CHECKOUT = Path(gitflowml.__file__).resolve().parent.parent
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def hook(repo: Repo, home: Path, hook_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(CHECKOUT), hook_id, "--verbose", *args],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_hook_definitions_name_the_spec_ids() -> None:
    import yaml

    hooks = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == [
        "gitflowml-validate",
        "gitflowml-status",
        "gitflowml-large-files",
        "gitflowml-pushed",
        "gitflowml-checkout",
    ]
    assert all(h["language"] == "python" for h in hooks)


def test_hooks_through_pre_commit(
    project: Repo, run: Run, pre_commit_home: Path, tmp_path: Path
) -> None:
    project.gen(
        {
            "pipeline.yaml": "stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
            "    outs: [out.txt]\n",
            "in.txt": "hello\n",
            "big.bin": b"\x00" * (600 * 1024),
            "small.txt": "ok\n",
        }
    )
    project.git("add", "pipeline.yaml", "in.txt", "big.bin", "small.txt")

    result = hook(project, pre_commit_home, "gitflowml-large-files", "--files", "big.bin")
    assert result.returncode == 1, result.stdout
    assert "big.bin (600.0 KiB)" in result.stdout
    assert (
        hook(project, pre_commit_home, "gitflowml-large-files", "--files", "small.txt").returncode
        == 0
    )

    result = hook(project, pre_commit_home, "gitflowml-status", "--all-files")
    assert result.returncode == 1, result.stdout
    assert "never ran" in result.stdout
    run("repro")
    assert hook(project, pre_commit_home, "gitflowml-status", "--all-files").returncode == 0

    assert hook(project, pre_commit_home, "gitflowml-validate", "--all-files").returncode == 0
    project.gen({"pipeline.yaml": "stages:\n  s:\n    cmdd: x\n"})
    result = hook(project, pre_commit_home, "gitflowml-validate", "--all-files")
    assert result.returncode == 1
    assert "unknown key 'cmdd'" in result.stdout
    project.git("checkout", "--", "pipeline.yaml")

    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    stage = ("--hook-stage", "pre-push", "--all-files")
    result = hook(project, pre_commit_home, "gitflowml-pushed", *stage)
    assert result.returncode == 1
    assert "out.txt" in result.stdout
    run("push")
    assert hook(project, pre_commit_home, "gitflowml-pushed", *stage).returncode == 0

    (project.root / "out.txt").unlink()
    checkout = ("--hook-stage", "post-checkout", "--from-ref", "HEAD", "--to-ref", "HEAD")
    result = hook(project, pre_commit_home, "gitflowml-checkout", *checkout, "--checkout-type", "1")
    assert result.returncode == 0, result.stdout
    assert (project.root / "out.txt").read_text() == "hello\n"
