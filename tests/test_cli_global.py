from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitflowml import __version__, entry
from gitflowml.cli import main
from tests.conftest import Repo, Run


def test_version(run: Run) -> None:
    assert run("--version").stdout == f"gitflowml {__version__}\n"


def test_unknown_command_and_flag_are_usage_errors(run: Run) -> None:
    assert "No such command" in run("frobnicate", code=2).stderr
    assert "No such option" in run("status", "--frobnicate", code=2).stderr


def test_dash_c_runs_in_another_directory(
    project: Repo, run: Run, tmp_path: Path, monkeypatch
) -> None:
    project.gen({"data.csv": "a,b\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run("-C", str(project.root), "add", "data.csv")
    assert (project.root / "data.csv.gfml").exists()
    assert "-C" in run("-C", str(tmp_path / "missing"), "status", code=2).stderr


def test_quiet_prints_nothing_on_success(project: Repo, run: Run) -> None:
    project.gen({"data.csv": "a,b\n"})
    assert run("-q", "add", "data.csv").stdout == ""
    assert run("-q", "status").stdout == ""


def test_verbose_adds_the_traceback_only_on_request(project: Repo) -> None:
    def gitflowml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gitflowml", *args],
            capture_output=True,
            text=True,
            cwd=project.root,
        )

    quiet = gitflowml("add", "nope")
    assert quiet.returncode == 1
    assert quiet.stderr == "error: nope does not exist; check the path\n"
    loud = gitflowml("-v", "add", "nope")
    assert loud.returncode == 1
    assert "Traceback" in loud.stderr
    assert loud.stderr.rstrip().endswith("error: nope does not exist; check the path")


def test_os_errors_become_one_line(project: Repo, run: Run) -> None:
    project.gen({"data": {"f": "x"}})
    (project.root / "data" / "dangling").symlink_to(project.root / "nowhere")
    result = run("add", "data", code=1)
    assert result.stderr.startswith("error: No such file or directory: ")
    assert "dangling" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (project.root / "data.gfml").exists()


def test_main_returns_exit_codes(project: Repo, capsys) -> None:
    assert entry.main(["--version"]) == 0
    assert capsys.readouterr().out == f"gitflowml {__version__}\n"
    assert entry.main(["-q", "status"]) == 0
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # entry.main ignored it
    assert main(["status"]) == 0
    assert main(["add", "nope"]) == 1
    assert main(["--frobnicate"]) == 2
    capsys.readouterr()
