from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import Repo, Run


def test_init_creates_the_project_layout(git_repo: Repo, run: Run) -> None:
    result = run("init")
    dot = git_repo.root / ".gitflowml"
    assert "Initialised gitflowml" in result.stdout
    assert (dot / "config.yaml").read_text().startswith("schema: 1\n")
    ignored = (dot / ".gitignore").read_text().splitlines()
    assert {"/cache/", "/state.db*", "/runs/", "/config.local.yaml"} <= set(ignored)
    # git sees the config but never the cache
    (dot / "cache").mkdir()
    (dot / "cache" / "x").write_text("x")
    status = git_repo.git("status", "--porcelain", "--untracked-files=all")
    assert ".gitflowml/config.yaml" in status
    assert ".gitflowml/cache" not in status


def test_init_twice_is_harmless(git_repo: Repo, run: Run) -> None:
    run("init")
    config = git_repo.root / ".gitflowml" / "config.yaml"
    config.write_text("schema: 1\ncache: {type: copy}\n")
    result = run("init")
    assert "already set up" in result.stdout
    assert config.read_text() == "schema: 1\ncache: {type: copy}\n"


def test_init_in_a_subdirectory_sets_up_the_repository_top(
    git_repo: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = git_repo.root / "src" / "pkg"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    run("init")
    assert (git_repo.root / ".gitflowml").is_dir()
    assert not (sub / ".gitflowml").exists()


def test_init_outside_git_is_a_clear_error(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    result = run("init", code=1)
    assert result.stderr.startswith("error: ")
    assert "not inside a git repository" in result.stderr
    assert "git init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (plain / ".gitflowml").exists()


def test_commands_outside_a_project_say_to_run_init(git_repo: Repo, run: Run) -> None:
    for command in (["status"], ["add", "x"], ["checkout"]):
        result = run(*command, code=1)
        assert "gitflowml init" in result.stderr


def test_the_console_script_and_module_entry_points(git_repo: Repo) -> None:
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "gitflowml", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().startswith("gitflowml ")
    exe = Path(sys.executable).parent / "gitflowml"
    out = subprocess.run([str(exe), "init"], capture_output=True, text=True, check=True)
    assert "Initialised" in out.stdout
