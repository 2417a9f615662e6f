from __future__ import annotations

import json
import os
import re
import shutil

from gitflowml import api
from tests.conftest import Repo, Run


def test_up_to_date(project: Repo, run: Run) -> None:
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    project.gen({"data": {"a": "a"}, "m.bin": "m"})
    run("add", "data", "m.bin")
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    run("status", "--check")
    assert json.loads(run("status", "--json").stdout) == {}


def test_each_kind_of_change_is_reported(project: Repo, run: Run) -> None:
    project.gen({"data": {"a": "a", "b": "b", "c": "c"}, "m.bin": "m", "gone.bin": "g"})
    run("add", "data", "m.bin", "gone.bin")
    project.gen({"data": {"a": "A", "new": "n"}, "m.bin": "M"})
    (project.root / "data" / "c").unlink()
    (project.root / "gone.bin").unlink()
    text = run("status").stdout
    assert "modified: data  (1 modified, 1 added, 1 deleted)" in text
    assert "modified: m.bin" in text
    assert "deleted:  gone.bin" in text
    run("status", "--check", code=1)
    doc = json.loads(run("status", "--json").stdout)
    assert doc == {
        "data.gfml": [
            {"reason": "modified", "path": "data", "detail": "1 modified, 1 added, 1 deleted"}
        ],
        "gone.bin.gfml": [{"reason": "deleted", "path": "gone.bin"}],
        "m.bin.gfml": [{"reason": "modified", "path": "m.bin"}],
    }


def test_only_a_mode_change_counts_as_modified(project: Repo, run: Run) -> None:
    project.gen({"data": {"run.sh": "echo"}})
    run("add", "data")
    os.chmod(project.root / "data" / "run.sh", 0o755)
    assert "modified: data  (1 modified, 0 added, 0 deleted)" in run("status").stdout


def test_a_file_replaced_by_a_directory(project: Repo, run: Run) -> None:
    project.gen({"thing": "file"})
    run("add", "thing")
    (project.root / "thing").unlink()
    project.gen({"thing": {"inside": "x"}})
    assert "modified: thing  (now a directory)" in run("status").stdout


def test_not_in_cache(project: Repo, run: Run) -> None:
    project.gen({"data": {"a": "a", "b": "b"}, "m.bin": "m"})
    run("add", "data", "m.bin")
    shutil.rmtree(project.root / ".gitflowml" / "cache")
    text = run("status").stdout
    assert "not in cache: data  (directory manifest missing)" in text
    assert "not in cache: m.bin  (object missing)" in text
    run("status", "--check", code=1)


def test_targets_limit_what_is_checked(project: Repo, run: Run) -> None:
    project.gen({"a.bin": "a", "b.bin": "b"})
    run("add", "a.bin", "b.bin")
    project.gen({"a.bin": "A"})
    assert "a.bin" in run("status", "a.bin").stdout
    assert run("status", "b.bin.gfml").stdout == "No pipeline; data is up to date.\n"
    assert "not tracked by gitflowml" in run("status", "nothing", code=1).stderr


def test_a_no_op_status_reads_no_file(project: Repo, monkeypatch) -> None:
    project.gen({"data": {f"f{i}": str(i) for i in range(40)}})
    project.age()
    api.add(["data"])
    from gitflowml.storage import hashing, odb

    def forbidden(*_a: object, **_k: object) -> object:
        raise AssertionError("status re-read a file whose stat had not changed")

    monkeypatch.setattr(hashing, "hash_file", forbidden)
    monkeypatch.setattr(odb.LocalOdb, "add_file", forbidden)
    assert api.status().clean


def test_a_touched_file_is_re_read_once(project: Repo) -> None:
    project.gen({"data": {f"f{i}": str(i) for i in range(10)}})
    project.age()
    api.add(["data"])
    path = project.root / "data" / "f1"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    from gitflowml.project import Project
    from gitflowml.storage import state as cache
    from gitflowml.storage.workspace import Scanner

    proj = Project.find()
    state = cache.open_state(proj)
    try:
        scanner = Scanner(state, 1)
        scanner.scan(path.parent)
        assert scanner.hashed == 1
        again = Scanner(state, 1)
        again.scan(path.parent)
        assert again.hashed == 0
    finally:
        state.close()


def test_a_malformed_pointer_is_a_clear_error(project: Repo, run: Run) -> None:
    project.gen({"m.bin": "m"})
    run("add", "m.bin")
    (project.root / "m.bin.gfml").write_text("schema: 1\npath: [oops\n")
    result = run("status", code=1)
    assert re.match(r"error: m\.bin\.gfml:\d+: malformed YAML", result.stderr)
    assert "git checkout" in result.stderr


def test_cache_completeness_is_remembered_until_forgotten(project: Repo, run: Run) -> None:
    """Listing the cache for every file object is done once per directory version; `gc`
    (which removes objects) must call forget_complete, after which the check runs again."""
    project.gen({"data": {"a": "a", "b": "b"}})
    run("add", "data")
    from gitflowml.project import Project
    from gitflowml.storage import pointer
    from gitflowml.storage import state as cache

    proj = Project.find()
    obj = next(
        p
        for p in (project.root / ".gitflowml" / "cache").rglob("*")
        if p.is_file() and not p.name.endswith(".dir")
    )
    obj.unlink()
    state = cache.open_state(proj)
    try:
        assert state.is_complete(pointer.load(project.root / "data.gfml").oid)
        state.forget_complete()
    finally:
        state.close()
    assert "not in cache: data  (1 of 2 files missing)" in run("status").stdout


def test_an_unchanged_directory_is_answered_by_its_fingerprint(project: Repo, monkeypatch) -> None:
    project.gen({"data": {f"f{i}": str(i) for i in range(20)}})
    project.age()
    api.add(["data"])
    from gitflowml.storage.state import StateDb

    def no_rows(*_a: object) -> object:
        raise AssertionError("per-file state rows fetched for an unchanged directory")

    with monkeypatch.context() as patched:
        patched.setattr(StateDb, "get_under", no_rows)
        assert api.status().clean
    # one changed file: the fingerprint misses, the per-file path finds what changed
    (project.root / "data" / "f7").write_text("seven")
    report = api.status()
    assert [(s.change, s.detail) for s in report.data] == [
        ("modified", "1 modified, 0 added, 0 deleted")
    ]


def test_a_directory_with_a_racy_file_gets_no_fingerprint(project: Repo) -> None:
    project.gen({"data": {"a": "a"}})  # written just now: within the racy window
    api.add(["data"])
    from gitflowml.project import Project
    from gitflowml.storage import state as cache

    state = cache.open_state(Project.find())
    try:
        rows = state._conn.execute("SELECT count(*) FROM dirs").fetchone()[0]
    finally:
        state.close()
    assert rows == 0
