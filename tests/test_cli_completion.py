"""`gitflowml completion`: the script click writes, run by a real bash, completes commands,
stage names, remote names and experiment names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitflowml.scm import exprefs
from tests.conftest import Repo, Run

PIPELINE = "stages:\n  prepare:\n    cmd: echo p\n  train:\n    cmd: echo t\n"


def _env(tmp_path: Path) -> dict[str, str]:
    """PATH with a `gitflowml` that runs this checkout, as an installed one would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "gitflowml"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitflowml "$@"\n')
    exe.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _bash(cwd: Path, env: dict[str, str], words: list[str]) -> list[str]:
    """What bash offers for `words` (the last one being completed) with our script loaded."""
    quoted = " ".join(f"'{w}'" for w in words)
    script = (
        "source <(gitflowml completion bash)\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        "_gitflowml_completion gitflowml 2>/dev/null\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return [line for line in done.stdout.splitlines() if line]


def _protocol(cwd: Path, env: dict[str, str], words: list[str]) -> list[str]:
    """click's answer to the shell: `type,value` lines."""
    done = subprocess.run(
        ["gitflowml"],
        cwd=cwd,
        env={
            **env,
            "_GITFLOWML_COMPLETE": "bash_complete",
            "COMP_WORDS": " ".join(words),
            "COMP_CWORD": str(len(words) - 1),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_stages_remotes_and_experiments(
    project: Repo, run: Run, tmp_path: Path
) -> None:
    project.gen({"pipeline.yaml": PIPELINE}, commit="pipeline")
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    run("remote", "add", "spare", str(tmp_path / "spare"))
    head = project.git("rev-parse", "HEAD").strip()
    project.git("update-ref", exprefs.ref_for(head, "lr-small"), head)
    env = _env(tmp_path)
    assert _bash(project.root, env, ["gitflowml", "re"]) == ["record", "remote", "remove", "repro"]
    assert _bash(project.root, env, ["gitflowml", "push", "-r", "s"]) == ["spare", "store"]
    assert _bash(project.root, env, ["gitflowml", "remote", "remove", "st"]) == ["store"]
    assert _bash(project.root, env, ["gitflowml", "exp", "apply", "lr"]) == ["lr-small"]
    assert _protocol(project.root, env, ["gitflowml", "repro", "tr"]) == [
        "plain,train",
        "file,tr",  # and the shell's own file names
    ]
    assert "plain,prepare" in _protocol(project.root, env, ["gitflowml", "status", ""])


def test_completion_outside_a_repository_offers_files_only(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _protocol(tmp_path, env, ["gitflowml", "repro", "x"]) == ["file,x"]


@pytest.mark.parametrize(("shell", "marker"), [("zsh", "#compdef gitflowml"), ("fish", "complete")])
def test_scripts_for_zsh_and_fish(run: Run, shell: str, marker: str) -> None:
    script = run("completion", shell).stdout
    assert marker in script
    assert "_GITFLOWML_COMPLETE" in script


def test_an_unknown_shell_is_a_usage_error(run: Run) -> None:
    assert "tcsh" in run("completion", "tcsh", code=2).stderr
