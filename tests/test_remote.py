"""Remotes end to end: a local directory, memory://, and S3 through s3fs against a real
moto_server on 127.0.0.1 (started and stopped by PID here), in real git repositories."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from gitflowml.remote import fs as remote_mod
from gitflowml.storage.odb import LocalOdb
from tests.conftest import Repo, Run, _free_port, git

DATA: dict[str, Any] = {
    "data": {"a.csv": "x,y\n1,2\n", "b.csv": "x,y\n3,4\n", "sub": {"c.bin": b"\x00\x01" * 500}},
    "model.bin": b"weights" * 100,
}


@pytest.fixture
def tracked(project: Repo, run: Run) -> Repo:
    project.gen(DATA)
    run("add", "data", "model.bin")
    project.git("add", "-A")
    project.git("commit", "-qm", "data")
    return project


def _clone(repo: Repo, tmp_path: Path) -> Repo:
    dest = tmp_path / f"clone-{uuid.uuid4().hex[:6]}"
    git(tmp_path, "clone", "-q", str(repo.root), str(dest))
    return Repo(dest)


def _pushed_clone(repo: Repo, run: Run, tmp_path: Path) -> Repo:
    """Push everything to a directory remote, commit, and clone; the clone is the cwd."""
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    run("push")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "remote")
    clone = _clone(repo, tmp_path)
    os.chdir(clone.root)
    return clone


def _same_tree(a: Path, b: Path, names: list[str]) -> None:
    for name in names:
        pa, pb = a / name, b / name
        if pa.is_dir():
            files_a = sorted(p.relative_to(pa) for p in pa.rglob("*") if p.is_file())
            files_b = sorted(p.relative_to(pb) for p in pb.rglob("*") if p.is_file())
            assert files_a == files_b
            for rel in files_a:
                assert (pa / rel).read_bytes() == (pb / rel).read_bytes()
        else:
            assert pa.read_bytes() == pb.read_bytes()


# -- configuration ---------------------------------------------------------------------------
def test_remote_commands(project: Repo, run: Run) -> None:
    run("remote", "add", "-d", "store", "/tmp/somewhere")
    run("remote", "add", "s3r", "s3://bucket/prefix")
    assert (
        run("remote", "list").stdout
        == "s3r\ts3://bucket/prefix\nstore\t/tmp/somewhere\t(default)\n"
    )
    run("remote", "modify", "s3r", "endpoint_url", "http://127.0.0.1:9")
    err = run("remote", "modify", "s3r", "secret", "hunter2", code=1).stderr
    assert "'secret' is a credential" in err
    assert "--local" in err
    assert "hunter2" not in (project.root / ".gitflowml" / "config.yaml").read_text()
    run("remote", "modify", "s3r", "secret", "hunter2", "--local")
    assert "hunter2" in (project.root / ".gitflowml" / "config.local.yaml").read_text()
    assert "exists already" in run("remote", "add", "s3r", "x", code=1).stderr
    assert "not a valid remote name" in run("remote", "add", "a b", "x", code=1).stderr
    run("remote", "remove", "store")
    assert run("remote", "list").stdout == "s3r\ts3://bucket/prefix\n"
    assert "no default remote" in run("push", code=1).stderr
    assert "remote 'nope' does not exist" in run("push", "-r", "nope", code=1).stderr
    run("remote", "remove", "s3r")
    assert "hunter2" not in (project.root / ".gitflowml" / "config.local.yaml").read_text()


# -- a local directory ----------------------------------------------------------------------------
def test_local_round_trip(tracked: Repo, run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run("remote", "add", "-d", "store", str(store))
    assert run("push").stdout == "5 uploaded, 0 already present\n"
    assert run("push").stdout == "0 uploaded, 5 already present\n"
    assert not [p for p in store.rglob("*") if ".tmp-" in p.name]
    tracked.git("add", "-A")
    tracked.git("commit", "-qm", "remote")
    clone = _clone(tracked, tmp_path)
    os.chdir(clone.root)
    run("init")
    result = run("pull")
    assert result.stdout.startswith("5 downloaded, 0 already in cache\n")
    assert "restored data\n" in result.stdout  # as checkout says it, not git's "M"
    assert "restored model.bin\n" in result.stdout
    _same_tree(tracked.root, clone.root, ["data", "model.bin"])
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    assert run("fetch").stdout == "0 downloaded, 5 already in cache\n"


def test_targets_and_pipeline_outs_with_run_cache(project: Repo, run: Run, tmp_path: Path) -> None:
    project.gen(
        {
            "params.yaml": "n: 1\n",
            "pipeline.yaml": (
                "stages:\n  make:\n    cmd: echo ${n} > out.txt\n"
                "    params: [n]\n    outs: [out.txt]\n"
                "  secret:\n    cmd: echo local > private.txt\n"
                "    outs: [{private.txt: {push: false}}]\n"
            ),
        }
    )
    run("repro")
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    assert run("push").stdout == "1 uploaded, 0 already present, 1 run-cache entries\n"
    project.git("add", "-A")
    project.git("commit", "-qm", "pipeline")
    clone = _clone(project, tmp_path)
    os.chdir(clone.root)
    run("init")
    assert "1 run-cache entries" in run("fetch").stdout
    assert (clone.root / ".gitflowml" / "cache" / "runs").is_dir()
    run("checkout", "out.txt")
    assert (clone.root / "out.txt").read_text() == "1\n"
    assert "private.txt" in run("status").stdout  # never pushed: not in this cache


def test_push_refuses_what_the_cache_lacks(tracked: Repo, run: Run, tmp_path: Path) -> None:
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    shutil.rmtree(tracked.root / ".gitflowml" / "cache")
    err = run("push", code=1).stderr
    assert "the cache lacks" in err
    assert "nothing was pushed" in err
    assert not (tmp_path / "store").exists()


def test_an_interrupted_push_leaves_no_partial_object(
    tracked: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    run("remote", "add", "-d", "store", str(store))
    run("remote", "modify", "store", "pack_threshold", "0")  # all loose, as before packs
    real_copy = remote_mod._copy
    calls: list[str] = []

    def failing_copy(src: str, dst: str) -> int:
        if len(calls) >= 2:  # a few bytes of the third object, then the disk fails
            Path(dst).write_bytes(Path(src).read_bytes()[:3])
            raise OSError(5, "Input/output error")
        calls.append(src)
        return real_copy(src, dst)

    monkeypatch.setattr(remote_mod, "_copy", failing_copy)
    assert "Input/output error" in run("push", code=1).stderr
    monkeypatch.setattr(remote_mod, "_copy", real_copy)
    for path in store.rglob("*"):
        if path.is_file():
            assert ".tmp-" not in path.name
    assert "already present" in run("push").stdout
    tracked.git("add", "-A")
    tracked.git("commit", "-qm", "remote")
    os.chdir(_clone(tracked, tmp_path).root)
    run("init")
    assert run("pull").stdout.startswith("5 downloaded")


def test_fetch_verifies_and_names_what_is_missing(tracked: Repo, run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run("remote", "add", "-d", "store", str(store))
    run("remote", "modify", "store", "pack_threshold", "0")  # all loose, as before packs
    run("push")
    tracked.git("add", "-A")
    tracked.git("commit", "-qm", "remote")
    objects = sorted(p for p in store.rglob("*") if p.is_file() and p.suffix != ".dir")
    victim = objects[0]
    victim.chmod(0o644)
    victim.write_bytes(b"bit rot")
    clone = _clone(tracked, tmp_path)
    os.chdir(clone.root)
    run("init")
    err = run("fetch", code=1).stderr
    assert "is corrupt" in err
    cache = clone.root / ".gitflowml" / "cache"
    stored = [p for p in cache.rglob("*") if p.is_file() and "tmp" not in p.parts]
    assert all(p.name != victim.name for p in stored)
    victim.unlink()
    err = run("fetch", code=1).stderr
    assert "lacks 1 object(s)" in err


def test_all_branches_and_all_commits(tracked: Repo, run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run("remote", "add", "-d", "store", str(store))
    first = (tracked.root / "model.bin").read_bytes()
    tracked.gen({"model.bin": b"v2" * 300})
    run("add", "model.bin")
    tracked.git("commit", "-qam", "v2")
    assert run("push").stdout == "5 uploaded, 0 already present\n"  # the workspace only
    assert run("push", "--all-commits").stdout == "1 uploaded, 5 already present\n"
    os.chdir(_clone(tracked, tmp_path).root)
    run("init")
    git(Path.cwd(), "checkout", "-q", "HEAD~1", "--", "model.bin.gfml")
    run("pull")
    assert Path("model.bin").read_bytes() == first


def test_memory_remote(tracked: Repo, run: Run) -> None:
    run("remote", "add", "-d", "mem", f"memory://gfml-{uuid.uuid4().hex[:8]}")
    assert run("push").stdout == "5 uploaded, 0 already present\n"
    shutil.rmtree(tracked.root / ".gitflowml" / "cache")
    shutil.rmtree(tracked.root / "data")
    assert "5 downloaded" in run("pull").stdout
    _same_tree(tracked.root, tracked.root, ["data"])
    assert (tracked.root / "data" / "sub" / "c.bin").read_bytes() == b"\x00\x01" * 500


# -- S3 ---------------------------------------------------------------------------------------
def _s3_remote(run: Run, bucket: str, endpoint: str, name: str = "s3r") -> None:
    run("remote", "add", "-d", name, f"s3://{bucket}/team/cache")
    run("remote", "modify", name, "endpoint_url", endpoint)
    run("remote", "modify", name, "key", "testing", "--local")
    run("remote", "modify", name, "secret", "testing", "--local")


def test_s3_round_trip(
    tracked: Repo, run: Run, tmp_path: Path, bucket: str, s3_endpoint: str
) -> None:
    _s3_remote(run, bucket, s3_endpoint)
    assert run("push").stdout == "5 uploaded, 0 already present\n"
    assert run("push").stdout == "0 uploaded, 5 already present\n"
    tracked.git("add", "-A")
    tracked.git("commit", "-qm", "remote")
    clone = _clone(tracked, tmp_path)
    os.chdir(clone.root)
    run("init")
    _s3_remote_credentials_only(run)
    assert run("pull").stdout.startswith("5 downloaded")
    _same_tree(tracked.root, clone.root, ["data", "model.bin"])


def _s3_remote_credentials_only(run: Run) -> None:
    run("remote", "modify", "s3r", "key", "testing", "--local")
    run("remote", "modify", "s3r", "secret", "testing", "--local")


def test_s3_credentials_from_the_environment(
    tracked: Repo, run: Run, bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("remote", "add", "-d", "s3r", f"s3://{bucket}/env")
    run("remote", "modify", "s3r", "endpoint_url", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert run("push").stdout == "5 uploaded, 0 already present\n"


def test_s3_errors_are_one_line_and_change_nothing(
    tracked: Repo, run: Run, bucket: str, s3_endpoint: str, s3_endpoint_with_auth: str
) -> None:
    cache = tracked.root / ".gitflowml" / "cache"
    before = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    run("remote", "add", "nobucket", f"s3://{bucket}-missing/x")
    run("remote", "modify", "nobucket", "endpoint_url", s3_endpoint)
    run("remote", "add", "down", f"s3://{bucket}/x")
    run("remote", "modify", "down", "endpoint_url", f"http://127.0.0.1:{_free_port()}")
    run("remote", "add", "denied", f"s3://{bucket}/x")
    run("remote", "modify", "denied", "endpoint_url", s3_endpoint_with_auth)
    for name in ("nobucket", "down", "denied"):
        for option in ("key", "secret"):
            run("remote", "modify", name, option, "testing", "--local")
    cases = {
        "nobucket": "does not exist; create it or fix the URL",
        "down": "cannot be reached",
        "denied": "refused access",
    }
    for name, message in cases.items():
        for verb in ("push", "fetch"):
            err = run(verb, "-r", name, code=1).stderr
            assert err.startswith(f"error: remote '{name}'"), err
            assert message in err, err
            assert err.count("\n") == 1
            assert "Traceback" not in err
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == before


# -- gc ---------------------------------------------------------------------------------------
def test_gc(tracked: Repo, run: Run, tmp_path: Path) -> None:
    old_model = (tracked.root / "model.bin").read_bytes()
    tracked.git("checkout", "-q", "-b", "other")
    tracked.gen({"model.bin": b"branch" * 50})
    run("add", "model.bin")
    tracked.git("commit", "-qam", "other model")
    tracked.git("checkout", "-q", "main")
    run("checkout")
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    run("remote", "modify", "store", "pack_threshold", "0")  # loose: gc deletes one by one
    run("push", "--all-branches")
    assert "error: say what to keep" in run("gc", code=1).stderr
    assert "run it again with -f" in run("gc", "-w", code=1).stderr  # not a terminal
    assert run("gc", "-a", "--dry").stdout.startswith("Would delete: 0 objects")
    assert run("gc", "-w", "--dry").stdout.startswith("Would delete: 1 objects")
    assert run("gc", "-w", "-f", "--cloud").stdout.startswith("Deleted 1 objects")
    assert (tracked.root / "model.bin").read_bytes() == old_model
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    tracked.git("checkout", "-q", "other")
    err = run("checkout", code=1).stderr
    assert "model.bin" in err
    assert "lacks 1 object(s)" in run("pull", code=1).stderr  # gone from the remote too


# -- repro --pull -------------------------------------------------------------------------------
def test_repro_pull_brings_what_stages_need(project: Repo, run: Run, tmp_path: Path) -> None:
    project.gen(
        {
            "raw": {"a.txt": "alpha\n", "b.txt": "beta\n"},
            "params.yaml": "n: 1\n",
            "pipeline.yaml": (
                "stages:\n  count:\n    cmd: cat raw/*.txt | wc -l > count.txt && echo ${n} >> "
                "count.txt && echo ran >> runs.log\n    deps: [raw]\n    params: [n]\n"
                "    outs: [count.txt]\n"
            ),
        }
    )
    run("add", "raw")
    run("repro")
    project.gen({"params.yaml": "n: 2\n"})
    run("repro")
    clone = _pushed_clone(project, run, tmp_path)
    run("init")
    result = run("repro", "--pull")
    assert "Stage 'count' is up to date" in result.stdout  # its out came from the remote
    assert (clone.root / "count.txt").read_text() == "2\n2\n"
    assert (clone.root / "raw" / "a.txt").read_text() == "alpha\n"
    assert (clone.root / "runs.log").read_text() == "ran\nran\n"  # as committed: not run
    clone.gen({"params.yaml": "n: 1\n"})
    result = run("repro", "--pull")
    assert "Restored stage 'count' from the run-cache" in result.stdout
    assert (clone.root / "count.txt").read_text() == "2\n1\n"
    assert (clone.root / "runs.log").read_text() == "ran\nran\n"  # never ran here


def test_push_a_target_and_an_aws_profile(
    tracked: Repo, run: Run, bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = Path(os.environ["HOME"]) / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "credentials").write_text(
        "[team]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    run("remote", "add", "-d", "s3r", f"s3://{bucket}/profile")
    run("remote", "modify", "s3r", "endpoint_url", s3_endpoint)
    run("remote", "modify", "s3r", "profile", "team")
    assert run("push", "model.bin").stdout == "1 uploaded, 0 already present\n"
    assert run("push", "-j", "2").stdout == "4 uploaded, 1 already present\n"


def test_an_interrupted_fetch_leaves_only_whole_objects(
    tracked: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitflowml.storage import hashing

    _pushed_clone(tracked, run, tmp_path)
    run("init")
    real_put = LocalOdb.put_verified
    puts: list[str] = []

    def failing_put(self: LocalOdb, data: bytes, oid: str, *args: Any, **kwargs: Any) -> bool:
        if len(puts) >= 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the transfer
        puts.append(oid)
        return real_put(self, data, oid, *args, **kwargs)

    monkeypatch.setattr(LocalOdb, "put_verified", failing_put)
    assert run("fetch", code=130).stderr.startswith("error: interrupted")
    cache = Path(".gitflowml/cache")
    objects = [p for p in cache.rglob("*") if p.is_file() and p.parent.name != "packs"]
    assert len(objects) <= 3
    for path in objects:
        assert path.parent.name != "tmp"
        if path.suffix != ".dir":
            assert hashing.hash_bytes(path.read_bytes()) == path.parent.name + path.name
    monkeypatch.setattr(LocalOdb, "put_verified", real_put)
    assert "downloaded" in run("pull").stdout


def test_gc_with_nothing_to_delete_needs_no_confirmation(tracked: Repo, run: Run) -> None:
    assert run("gc", "-w").stdout == "Nothing to delete; 5 objects are kept\n"


def _state_rows(directory: Path) -> dict[str, tuple[int, int, int, int, str]]:
    from gitflowml.project import Project
    from gitflowml.storage.state import open_state

    state = open_state(Project.find(directory))
    try:
        return state.get_under(str(directory))
    finally:
        state.close()


def _oid_of(path: Path) -> str:
    from gitflowml.storage import hashing

    return hashing.hash_file(str(path))[0]


def _spy_placing(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The workspace files pull wrote straight from fetched bytes."""
    from gitflowml.util import fsutil

    placed: list[Path] = []
    original = fsutil.write_new

    def write_new(dest: Path, data: bytes, mode: int) -> bool:
        written = original(dest, data, mode)
        if written:
            placed.append(dest)
        return written

    monkeypatch.setattr(fsutil, "write_new", write_new)
    return placed


def test_pull_writes_absent_paths_from_the_fetched_bytes(
    tracked: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a fresh clone, pull writes each file once from the verified bytes it fetched
    (exec bits kept); a path that exists already goes through checkout, which keeps local
    changes."""
    (tracked.root / "data" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tracked.root / "data" / "run.sh").chmod(0o755)
    run("add", "data")
    clone = _pushed_clone(tracked, run, tmp_path)
    (clone.root / "model.bin").write_text("my own weights")  # exists: not written over
    placed = _spy_placing(monkeypatch)
    result = run("pull", code=1)
    assert "model.bin" in result.stderr
    assert "changes that are not in the cache" in result.stderr
    assert (clone.root / "model.bin").read_text() == "my own weights"
    assert sorted(Path(p).relative_to(clone.root).as_posix() for p in placed) == [
        "data/a.csv",
        "data/b.csv",
        "data/run.sh",
        "data/sub/c.bin",
    ]
    _same_tree(tracked.root, clone.root, ["data"])
    known = _state_rows(clone.root / "data")  # remembered: the next status reads none of them
    assert {str(p): known[str(p)][-1] for p in placed} == {
        str(clone.root / rel): _oid_of(clone.root / rel)
        for rel in ("data/a.csv", "data/b.csv", "data/run.sh", "data/sub/c.bin")
    }
    assert os.access(clone.root / "data" / "run.sh", os.X_OK)
    leftovers = [p for d in ("data", "data/sub") for p in (clone.root / d).iterdir()]
    assert not [p for p in leftovers if p.name.startswith(".")]  # no temporary files
    (clone.root / "model.bin").unlink()
    assert run("pull").stdout.splitlines()[-1].endswith("model.bin")
    _same_tree(tracked.root, clone.root, ["data", "model.bin"])
    assert run("status").stdout == "No pipeline; data is up to date.\n"


def test_pull_keeps_the_configured_link_type(
    tracked: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With hardlinks configured, pull links from the cache instead of writing copies."""
    clone = _pushed_clone(tracked, run, tmp_path)
    monkeypatch.setenv("GITFLOWML_CACHE_TYPE", "hardlink")
    placed = _spy_placing(monkeypatch)
    run("pull")
    assert placed == []
    assert (clone.root / "data" / "a.csv").stat().st_nlink == 2  # the object and this name
    _same_tree(tracked.root, clone.root, ["data", "model.bin"])


def test_write_new_never_clobbers(tmp_path: Path) -> None:
    from gitflowml.util import fsutil

    dest = tmp_path / "f"
    assert fsutil.write_new(dest, b"one", 0o644)
    assert not fsutil.write_new(dest, b"two", 0o644)
    assert dest.read_bytes() == b"one"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
