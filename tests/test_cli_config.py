"""`gitflowml config` at its four levels, `-c KEY=VALUE`, and what bad input does (SPEC
section 16). The global and system levels live under XDG_CONFIG_HOME / XDG_CONFIG_DIRS,
which the autouse fixture points into a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo, Run


def _global() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "gitflowml" / "config.yaml"


def _system() -> Path:
    return Path(os.environ["XDG_CONFIG_DIRS"]) / "gitflowml" / "config.yaml"


def test_levels_merge_highest_first_and_say_where_each_value_comes_from(
    project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("config", "--system", "core.jobs", "2")
    run("config", "--system", "core.executor", "dask")
    run("config", "--global", "core.jobs", "3")
    run("config", "core.scheduler", "tcp://127.0.0.1:8786")
    run("config", "--local", "core.executor", "local")
    assert _system().exists()
    assert _global().exists()
    assert run("config", "core.jobs").stdout == "3\n"  # global over system
    assert run("config", "--system", "core.jobs").stdout == "2\n"  # one level only
    assert run("config", "core.executor").stdout == "local\n"  # local over system
    root = project.root / ".gitflowml"
    listed = run("config", "--list", "--show-origin").stdout.splitlines()
    assert listed == [
        f"file:{root / 'config.yaml'}\tcache.type=reflink,copy",
        f"file:{root / 'config.local.yaml'}\tcore.executor=local",
        f"file:{_global()}\tcore.jobs=3",
        f"file:{root / 'config.yaml'}\tcore.scheduler=tcp://127.0.0.1:8786",
    ]
    monkeypatch.setenv("GITFLOWML_JOBS", "5")  # the environment is above every file
    assert run("config", "core.jobs", "--show-origin").stdout == "env:GITFLOWML_JOBS\t5\n"
    doc = json.loads(run("-c", "core.jobs=7", "config", "--list", "--json").stdout)
    assert doc["core.jobs"] == {"value": 7, "origin": "command line:-c"}  # -c above all
    assert json.loads(run("config", "--list", "--json").stdout)["core.jobs"]["value"] == "5"
    monkeypatch.delenv("GITFLOWML_JOBS")
    run("config", "--global", "--unset", "core.jobs")
    assert run("config", "core.jobs").stdout == "2\n"
    assert "jobs" not in _global().read_text()


def test_settings_reach_the_commands_that_use_them(project: Repo, run: Run) -> None:
    """cache.type set with `config` (and overridden with -c) decides how checkout links."""
    project.gen({"data": {"a.txt": "hello"}})
    run("add", "data")
    run("config", "cache.type", "hardlink")
    (project.root / "data" / "a.txt").unlink()
    run("checkout")
    assert (project.root / "data" / "a.txt").stat().st_nlink == 2
    (project.root / "data" / "a.txt").unlink()
    run("-c", "cache.type=copy", "checkout")
    assert (project.root / "data" / "a.txt").stat().st_nlink == 1
    assert "GITFLOWML_CONFIG_PARAMETERS" not in os.environ  # -c lasts one command


def test_c_reaches_the_processes_a_command_starts(project: Repo) -> None:
    """-c travels in the environment, as git's does: a stage's own gitflowml sees it."""
    cmd = f"{sys.executable} -m gitflowml config core.jobs > jobs.txt"
    project.gen({"pipeline.yaml": f"stages:\n  s:\n    cmd: {cmd}\n    outs: [jobs.txt]\n"})
    gitflowml = [sys.executable, "-m", "gitflowml"]
    subprocess.run([*gitflowml, "-c", "core.jobs=3", "repro"], cwd=project.root, check=True)
    assert (project.root / "jobs.txt").read_text() == "3\n"


def test_remote_options_and_credentials(project: Repo, run: Run) -> None:
    run("remote", "add", "-d", "s3", "s3://bucket/prefix")
    run("config", "remote.s3.endpoint_url", "http://127.0.0.1:9")
    run("config", "remote.s3.pack_threshold", "512KiB")
    before = (project.root / ".gitflowml" / "config.yaml").read_text()
    for level in ("--repo", "--system"):
        result = run("config", level, "remote.s3.secret_access_key", "abc", code=1)
        assert "is a credential" in result.stderr
    assert (project.root / ".gitflowml" / "config.yaml").read_text() == before
    assert not _system().exists()
    run("config", "--local", "remote.s3.secret_access_key", "abc")
    listed = run("config", "--list").stdout
    assert "remote.s3.secret_access_key=********" in listed  # never shown in a listing
    assert "abc" not in listed
    assert run("config", "remote.s3.secret_access_key").stdout == "abc\n"  # asked by name
    from gitflowml import api

    remote = api.remote_list()[0][0]
    assert dict(remote.options)["endpoint_url"] == "http://127.0.0.1:9"
    assert dict(remote.options)["secret_access_key"] == "abc"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("core.job", "2"), "did you mean 'core.jobs'?"),
        (("cache.typ",), "did you mean 'cache.type'?"),
        (("core.jobs", "lots"), "must be a whole number"),
        (("core.jobs", "0"), "at least 1"),
        (("cache.type", "teleport"), "not valid"),
        (("core.executor", "cloud"), "must be 'local' or 'dask'"),
        (("core.remote", "nowhere"), "not a remote"),
        (("remote.nowhere.region", "x"), "remote 'nowhere' does not exist"),
        (("remote.s3.pack_size", "0"), "at least 1 byte"),
        (("--unset", "core.jobs"), "core.jobs is not set in the repo settings"),
        (("--unset", "remote.s3.url"), "core.remote names 's3'"),  # would break the settings
        (("core.scheduler",), "core.scheduler is not set"),
        (("--local", "x.y", "1"), "is not a gitflowml setting"),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(
    project: Repo, run: Run, args: tuple[str, ...], message: str
) -> None:
    run("remote", "add", "-d", "s3", "s3://bucket/prefix")
    files = sorted((project.root / ".gitflowml").glob("config*.yaml"))
    before = {p: p.read_text() for p in files}
    result = run("config", *args, code=1)
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert {p: p.read_text() for p in files} == before
    assert sorted((project.root / ".gitflowml").glob("config*.yaml")) == files


@pytest.mark.parametrize(
    "args",
    [
        ("config",),
        ("config", "--list", "core.jobs"),
        ("config", "--unset", "core.jobs", "3"),
        ("config", "core.jobs", "--json"),
        ("-c", "core.jobs", "status"),
        ("-c", "core.jbos=2", "status"),
    ],
)
def test_misuse_is_a_usage_error(project: Repo, run: Run, args: tuple[str, ...]) -> None:
    result = run(*args, code=2)
    assert "Traceback" not in result.stderr


def test_global_and_system_work_outside_a_repository(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run("config", "--global", "cache.type", "copy")
    assert run("config", "cache.type").stdout == "copy\n"
    result = run("config", "core.jobs", "2", code=1)  # the repo level needs a repository
    assert "--global or --system" in result.stderr


def test_a_broken_setting_can_be_repaired_with_config(project: Repo, run: Run) -> None:
    path = project.root / ".gitflowml" / "config.yaml"
    path.write_text(path.read_text() + "core:\n  jobs: lots\n")
    assert "core.jobs must be a whole number" in run("status", code=1).stderr
    run("config", "core.jobs", "2")
    run("status")
