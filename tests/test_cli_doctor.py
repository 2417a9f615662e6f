"""`gitflowml doctor` / `version`: what it reports, and that it names what is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitflowml import __version__
from gitflowml.util import tmpfiles
from tests.conftest import Repo, Run, _free_port


def test_outside_a_repository_it_gives_versions(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = run("version").stdout
    assert out.splitlines()[0].split() == ["gitflowml", __version__]
    assert "python" in out
    assert "git " in out
    assert "fsspec" in out
    assert out.endswith("No problems found.\n")


def test_a_healthy_repository(project: Repo, run: Run, tmp_path: Path) -> None:
    project.gen({"data": {"a.txt": "a"}})
    run("add", "data")
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    run("push")
    doc = json.loads(run("doctor", "--json", "--verify").stdout)
    assert doc["versions"]["gitflowml"] == __version__
    assert doc["cache"] == str(project.root / ".gitflowml" / "cache")
    assert doc["cache_fs"] not in ("", "unknown")
    assert doc["link_types"]["copy"] is True
    assert doc["link_types"]["hardlink"] is True  # the cache is inside the repository
    assert doc["remotes"] == {"store": "ok"}
    assert doc["pipeline"] == "none"
    assert doc["objects_checked"] == 2  # the file and the directory's manifest
    assert doc["problems"] == []
    leftovers = [p for p in (project.root / ".gitflowml").rglob("*") if "probe" in p.name]
    assert leftovers == []


def test_it_names_what_is_wrong(project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    project.gen({"data": {"a.txt": "a"}})
    run("add", "data")
    project.gen({"pipeline.yaml": "stages:\n  s: {cmd: 1, nope: 2}\n"})
    obj = next(p for p in (project.root / ".gitflowml" / "cache").rglob("*") if p.is_file())
    obj.chmod(0o644)
    obj.write_bytes(b"rot")
    (project.root / ".gitflowml" / "tmp").mkdir(exist_ok=True)
    name = f"{tmpfiles.PREFIX}{tmpfiles.HOST}.999999.abc.0"  # a process long gone
    dead = project.root / ".gitflowml" / "tmp" / name
    dead.write_text("half")
    old = 1_000_000_000
    os.utime(dead, (old, old))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    run("remote", "add", "-d", "gone", "s3://bucket/x")
    run("remote", "modify", "gone", "endpoint_url", f"http://127.0.0.1:{_free_port()}")
    result = run("doctor", "--verify", code=1)
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 4, result.stdout
    assert "remote 'gone'" in problems[0]
    assert "pipeline: " in problems[1]
    assert "nope" in problems[1]
    assert "1 temporaries left by interrupted commands" in problems[2]
    assert f"cache object {obj.parent.name}/{obj.name} is corrupt" in problems[3]
    assert dead.exists()  # doctor changes nothing
    assert obj.read_bytes() == b"rot"


def test_broken_settings_are_reported_not_fatal(project: Repo, run: Run) -> None:
    path = project.root / ".gitflowml" / "config.yaml"
    path.write_text("core: {jobs: lots}\n")
    result = run("doctor", code=1)
    assert "problem: settings: " in result.stdout
    assert "core.jobs must be a whole number" in result.stdout
