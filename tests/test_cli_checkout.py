from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitflowml.storage import pointer
from tests.conftest import Repo, Run


def _cache(root: Path) -> Path:
    return root / ".gitflowml" / "cache"


def _obj(root: Path, oid: str) -> Path:
    return _cache(root) / oid[:2] / oid[2:]


def test_restores_deleted_data(project: Repo, run: Run) -> None:
    project.gen({"data": {"a": "a", "sub": {"b": "b"}}, "m.bin": b"\x00\x01"})
    os.chmod(project.root / "data" / "a", 0o755)
    run("add", "data", "m.bin")
    shutil.rmtree(project.root / "data")
    (project.root / "m.bin").unlink()
    result = run("checkout")
    assert "restored data" in result.stdout
    assert "restored m.bin" in result.stdout
    assert (project.root / "data" / "sub" / "b").read_text() == "b"
    assert os.access(project.root / "data" / "a", os.X_OK)
    assert (project.root / "m.bin").read_bytes() == b"\x00\x01"
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    assert "workspace matches" in run("checkout").stdout


def test_nothing_tracked(project: Repo, run: Run) -> None:
    assert "Nothing is tracked" in run("checkout").stdout


def test_targets_restore_only_what_they_name(project: Repo, run: Run) -> None:
    project.gen({"a.bin": "a", "b.bin": "b"})
    run("add", "a.bin", "b.bin")
    (project.root / "a.bin").unlink()
    (project.root / "b.bin").unlink()
    run("checkout", "a.bin.gfml")
    assert (project.root / "a.bin").exists()
    assert not (project.root / "b.bin").exists()


def test_a_directory_loses_files_the_cache_knows(project: Repo, run: Run) -> None:
    """Switching versions: the old version's files are in the cache, so they go silently."""
    project.gen({"data": {"a": "v1", "old": "old"}})
    run("add", "data")
    v1 = (project.root / "data.gfml").read_text()
    project.gen({"data": {"a": "v2", "new": {"deep": "n"}}})
    (project.root / "data" / "old").unlink()
    run("add", "data")
    (project.root / "data.gfml").write_text(v1)  # what `git checkout` of the old commit does
    run("checkout")
    files = sorted(p.relative_to(project.root).as_posix() for p in project.root.glob("data/**/*"))
    assert files == ["data/a", "data/old"]
    assert (project.root / "data" / "a").read_text() == "v1"


def test_uncached_changes_are_kept_unless_forced(project: Repo, run: Run) -> None:
    project.gen({"data": {"a": "a"}, "m.bin": "m"})
    run("add", "data", "m.bin")
    project.gen({"data": {"a": "edited", "extra": "mine"}, "m.bin": "edited"})
    result = run("checkout", code=1)
    assert "3 workspace file(s) have changes that are not in the cache" in result.stderr
    assert "data/a, data/extra, m.bin" in result.stderr
    assert "--force" in result.stderr
    assert (project.root / "data" / "extra").read_text() == "mine"
    assert (project.root / "m.bin").read_text() == "edited"
    run("checkout", "--force")
    assert not (project.root / "data" / "extra").exists()
    assert (project.root / "m.bin").read_text() == "m"


def test_missing_object_names_the_path_and_suggests_pull(project: Repo, run: Run) -> None:
    project.gen({"m.bin": "m", "ok.bin": "ok"})
    run("add", "m.bin", "ok.bin")
    ptr = pointer.load(project.root / "m.bin.gfml")
    _obj(project.root, ptr.oid).unlink()
    (project.root / "m.bin").unlink()
    (project.root / "ok.bin").unlink()
    result = run("checkout", code=1)
    assert "m.bin: not in the cache; run 'gitflowml pull m.bin'" in result.stderr
    assert (project.root / "ok.bin").read_text() == "ok"  # the rest is still restored


@pytest.mark.parametrize("broken", ["file", "manifest"])
def test_a_corrupt_object_is_never_written(project: Repo, run: Run, broken: str) -> None:
    project.gen({"data": {"a": "aaaa"}})
    run("add", "data")
    ptr = pointer.load(project.root / "data.gfml")
    if broken == "manifest":
        path = _cache(project.root) / ptr.oid[:2] / (ptr.oid[2:] + ".dir")
    else:
        (oid,) = {p.name for p in _cache(project.root).rglob("*") if p.is_file()} - {
            ptr.oid[2:] + ".dir"
        }
        path = next(_cache(project.root).rglob(oid))
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-1] + b"X")
    shutil.rmtree(project.root / "data")
    result = run("checkout", code=1)
    assert "corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project.root / "data" / "a").exists()


# -- the whole state space for one tracked file (dud's AllFileTestCases) ----------------------
WORKSPACE = ["absent", "file", "link"]
MATCHES = [True, False]
WS_CACHED = [True, False]
OBJ_CACHED = [True, False]


def _cases() -> Iterator[tuple[str, bool, bool, bool]]:
    for ws, match, ws_cached, obj_cached in itertools.product(
        WORKSPACE, MATCHES, WS_CACHED, OBJ_CACHED
    ):
        if ws == "absent" and (not match or not ws_cached):
            continue  # nothing in the workspace: match/cached do not apply
        if match and not ws_cached:
            continue  # a match is the tracked content: cached iff obj_cached
        yield ws, match, ws_cached, obj_cached


@pytest.mark.parametrize(("ws", "match", "ws_cached", "obj_cached"), list(_cases()))
@pytest.mark.parametrize("force", [False, True])
def test_checkout_state_space(
    project: Repo,
    run: Run,
    tmp_path: Path,
    ws: str,
    match: bool,
    ws_cached: bool,
    obj_cached: bool,
    force: bool,
) -> None:
    target = project.root / "m.bin"
    project.gen({"m.bin": "tracked", "other.bin": "cached-other"})
    run("add", "other.bin")  # puts "cached-other" in the cache
    run("add", "m.bin")
    oid = pointer.load(project.root / "m.bin.gfml").oid
    if not obj_cached:
        _obj(project.root, oid).unlink()

    content = "tracked" if match else ("cached-other" if ws_cached else "uncached edit")
    target.unlink()
    if ws == "file":
        target.write_text(content)
    elif ws == "link":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text(content)
        target.symlink_to(elsewhere)

    args = ["checkout", "--force"] if force else ["checkout"]
    expected: str | None
    if ws != "absent" and match:
        expected_code, expected = 0, content  # nothing to do, even without the object
    elif not obj_cached:
        expected_code, expected = 1, (None if ws == "absent" else content)
    elif ws == "absent" or ws_cached or force:
        expected_code, expected = 0, "tracked"
    else:
        expected_code, expected = 1, content  # uncached edit kept

    result = run(*args, code=expected_code)
    if expected is None:
        assert not target.exists()
    else:
        assert target.read_text() == expected
    if expected_code == 1:
        assert "gitflowml pull" in result.stderr or "not in the cache" in result.stderr
    if expected == "tracked" and expected_code == 0:
        assert not target.is_symlink() or (ws == "link" and match)
        status = run("status").stdout
        if obj_cached:
            assert status == "No pipeline; data is up to date.\n"
        else:
            assert "not in cache: m.bin" in status


@pytest.mark.parametrize("cache_type", ["copy", "hardlink", "symlink", "reflink,copy"])
def test_each_link_type_round_trips(project: Repo, run: Run, cache_type: str) -> None:
    (project.root / ".gitflowml" / "config.yaml").write_text(
        f"schema: 1\ncache: {{type: '{cache_type}'}}\n"
    )
    project.gen({"data": {"a": "a", "b": "b"}})
    run("add", "data")
    shutil.rmtree(project.root / "data")
    run("checkout")
    a = project.root / "data" / "a"
    assert a.read_text() == "a"
    if cache_type == "hardlink":
        assert a.stat().st_nlink == 2
    if cache_type == "symlink":
        assert a.is_symlink()
    assert run("status").stdout == "No pipeline; data is up to date.\n"


def test_a_file_where_a_directory_was(project: Repo, run: Run) -> None:
    project.gen({"thing": {"x": "x"}})
    run("add", "thing")
    shutil.rmtree(project.root / "thing")
    project.gen({"thing": "I am a file now"})
    assert "thing" in run("checkout", code=1).stderr
    run("checkout", "--force")
    assert (project.root / "thing" / "x").read_text() == "x"


def test_orphaned_temporaries_are_never_data_and_are_cleaned(project: Repo, run: Run) -> None:
    """What a killed checkout leaves inside a tracked directory is skipped by status and
    checkout, removed by the next checkout there, and by gc everywhere else."""
    import subprocess
    import sys

    from gitflowml.util import tmpfiles

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    orphan = f"{tmpfiles.PREFIX}{tmpfiles.HOST}.{proc.pid}.abc.0"
    project.gen({"data": {"a.csv": "1\n", "b.csv": "2\n"}})
    run("add", "data")
    (project.root / "data" / "b.csv").unlink()
    (project.root / "data" / orphan).write_bytes(b"half a file")
    assert "data" in run("status").stdout  # b.csv is missing; the orphan is not a change
    assert "restored data" in run("checkout").stdout  # no --force: the orphan is not data
    assert sorted(os.listdir(project.root / "data")) == ["a.csv", "b.csv"]
    (project.root / ".gitflowml" / "cache" / orphan).write_bytes(b"half an object")
    (project.root / orphan).write_bytes(b"half a lock")
    out = run("gc", "-w", "-f").stdout
    assert "removed 2 temporary file(s) left by interrupted commands" in out
    assert not (project.root / orphan).exists()
    assert run("status").stdout == "No pipeline; data is up to date.\n"
