from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitflowml import api
from gitflowml.storage import pointer
from gitflowml.storage.hashing import Manifest
from tests.conftest import Repo, Run


def _cache(root: Path) -> Path:
    return root / ".gitflowml" / "cache"


def test_add_a_directory(project: Repo, run: Run) -> None:
    project.gen({"data": {"raw": {"a.csv": "1,2\n", "b.csv": "3,4\n", "sub": {"c.txt": "c"}}}})
    result = run("add", "data/raw")
    assert "added data/raw (3 files" in result.stdout
    assert "git add data/.gitignore data/raw.gfml" in result.stdout
    ptr = pointer.load(project.root / "data" / "raw.gfml")
    assert (ptr.path, ptr.nfiles, ptr.size) == ("raw", 3, 9)
    manifest = Manifest.from_bytes(
        (_cache(project.root) / ptr.oid[:2] / (ptr.oid[2:] + ".dir")).read_bytes()
    )
    assert manifest.oid() == ptr.oid
    assert [e.relpath for e in manifest.entries] == ["a.csv", "b.csv", "sub/c.txt"]
    for e in manifest.entries:
        obj = _cache(project.root) / e.oid[:2] / e.oid[2:]
        assert obj.read_bytes() == (project.root / "data" / "raw" / e.relpath).read_bytes()
    assert (project.root / "data" / ".gitignore").read_text() == "/raw\n"
    # git stores the pointer, never the bytes
    porcelain = project.git("status", "--porcelain", "--untracked-files=all")
    assert "data/raw.gfml" in porcelain
    assert "data/raw/" not in porcelain


def test_add_many_paths_at_once(project: Repo, run: Run) -> None:
    project.gen({"a.bin": b"\x00" * 10, "b.bin": b"\x01" * 20, "d": {"x": "x"}})
    run("add", "a.bin", "b.bin", "d", "a.bin")
    for name in ("a.bin", "b.bin", "d"):
        assert (project.root / f"{name}.gfml").exists()
    assert (project.root / ".gitignore").read_text() == "/a.bin\n/b.bin\n/d\n"


def test_the_directory_hash_does_not_depend_on_creation_order(project: Repo, run: Run) -> None:
    names = [f"f{i:03d}" for i in range(50)]
    for order, target in ((names, "one"), (list(reversed(names)), "two")):
        (project.root / target).mkdir()
        for n in order:
            (project.root / target / n).write_text(n)
    run("add", "one", "two")
    one = pointer.load(project.root / "one.gfml")
    two = pointer.load(project.root / "two.gfml")
    assert one.oid == two.oid


def test_executable_bit_is_recorded(project: Repo, run: Run) -> None:
    project.gen({"tools": {"run.sh": "#!/bin/sh\n", "data.txt": "d"}, "solo.sh": "x"})
    os.chmod(project.root / "tools" / "run.sh", 0o755)
    os.chmod(project.root / "solo.sh", 0o755)
    run("add", "tools", "solo.sh")
    assert pointer.load(project.root / "solo.sh.gfml").isexec
    ptr = pointer.load(project.root / "tools.gfml")
    manifest = Manifest.from_bytes(
        (_cache(project.root) / ptr.oid[:2] / (ptr.oid[2:] + ".dir")).read_bytes()
    )
    assert {e.relpath: e.isexec for e in manifest.entries} == {"data.txt": False, "run.sh": True}


def test_re_adding_unchanged_data_reads_nothing(project: Repo) -> None:
    project.gen({"data": {f"f{i}": str(i) for i in range(30)}})
    project.age()
    first = api.add(["data"])
    assert first.files_hashed == 30
    again = api.add(["data"])
    assert again.files_hashed == 0
    assert again.results[0].oid == first.results[0].oid
    assert not again.results[0].changed
    (project.root / "data" / "f3").write_text("changed")
    third = api.add(["data"])
    assert third.files_hashed == 1
    assert third.results[0].changed


def test_re_add_restores_objects_missing_from_the_cache(project: Repo, run: Run) -> None:
    project.gen({"data": {"a": "a", "b": "b"}})
    run("add", "data")
    import shutil

    shutil.rmtree(_cache(project.root))
    run("add", "data")
    ptr = pointer.load(project.root / "data.gfml")
    manifest = Manifest.from_bytes(
        (_cache(project.root) / ptr.oid[:2] / (ptr.oid[2:] + ".dir")).read_bytes()
    )
    for e in manifest.entries:
        assert (_cache(project.root) / e.oid[:2] / e.oid[2:]).exists()


def test_add_from_a_subdirectory_uses_paths_relative_to_it(
    project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.gen({"data": {"x.csv": "1"}})
    monkeypatch.chdir(project.root / "data")
    run("add", "x.csv")
    assert (project.root / "data" / "x.csv.gfml").exists()
    assert (project.root / "data" / ".gitignore").read_text() == "/x.csv\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "missing.csv does not exist; check the path"),
        (["../outside"], "is outside the repository"),
        (["/"], "is outside the repository"),
        ([".gitflowml/config.yaml"], "inside .gitflowml/"),
        ([".git/HEAD"], "inside .git/"),
        (["."], "cannot add the whole repository"),
        (["data.gfml"], "is a gitflowml pointer file"),
    ],
)
def test_bad_paths_are_clear_errors(project: Repo, run: Run, args: list[str], message: str) -> None:
    project.gen({"../outside": "x"})
    result = run("add", *args, code=1)
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert not list(project.root.glob("*.gfml"))


def test_a_bad_path_among_good_ones_adds_nothing(project: Repo, run: Run) -> None:
    project.gen({"good.csv": "1"})
    run("add", "good.csv", "missing.csv", code=1)
    assert not (project.root / "good.csv.gfml").exists()
    assert not _cache(project.root).exists()


def test_a_file_stored_in_git_is_refused(project: Repo, run: Run) -> None:
    project.gen({"data": {"a.csv": "1"}}, commit="data in git")
    result = run("add", "data", code=1)
    assert "git rm -r --cached data" in result.stderr


def test_overlapping_paths_are_refused(project: Repo, run: Run) -> None:
    project.gen({"data": {"raw": {"a": "a"}, "other": "o"}})
    run("add", "data/raw")
    inside = run("add", "data/raw/a", code=1)
    assert "inside data/raw, which data/raw.gfml already tracks" in inside.stderr
    around = run("add", "data", code=1)
    assert "contains data/raw" in around.stderr


def test_a_stage_output_cannot_be_added(project: Repo, run: Run) -> None:
    project.gen(
        {
            "pipeline.yaml": "stages:\n  s:\n    cmd: mkdir -p out && echo > out/m\n"
            "    outs: [out]\n",
            "out": {"m": "x"},
        }
    )
    result = run("add", "out/m", code=1)
    assert "out/m is an output of stage 's' ('out')" in result.stderr
    assert not (project.root / "out" / "m.gfml").exists()


# -- -R, --glob, -o, --no-commit ----------------------------------------------------------------
def test_recursive_tracks_each_file_on_its_own(project: Repo, run: Run) -> None:
    project.gen({"imgs": {"a.png": "1", "sub": {"b.png": "2"}}})
    run("add", "-R", "imgs")
    for rel in ("imgs/a.png", "imgs/sub/b.png"):
        assert (project.root / f"{rel}.gfml").exists()
    assert not (project.root / "imgs.gfml").exists()
    assert (project.root / "imgs" / "sub" / ".gitignore").read_text() == "/b.png\n"
    out = run("add", "-R", "imgs").stdout  # again: pointer files are not data
    assert out.splitlines() == [
        "unchanged imgs/a.png (1 B) -> imgs/a.png.gfml",
        "unchanged imgs/sub/b.png (1 B) -> imgs/sub/b.png.gfml",
    ]
    (project.root / "imgs" / "c.png").write_text("3")
    refused = run("add", "imgs", code=1)  # the whole directory, over files tracked inside it
    assert "contains imgs/a.png, tracked by imgs/a.png.gfml" in refused.stderr


def test_glob_tracks_what_the_patterns_match(project: Repo, run: Run) -> None:
    project.gen({"logs": {"a.csv": "a", "b.csv": "b", "notes.txt": "n", "d": {"c.csv": "c"}}})
    run("add", "--glob", "logs/*.csv")
    assert sorted(p.name for p in (project.root / "logs").glob("*.gfml")) == [
        "a.csv.gfml",
        "b.csv.gfml",
    ]
    run("add", "--glob", "logs/**/c.csv")
    assert (project.root / "logs" / "d" / "c.csv.gfml").exists()
    result = run("add", "--glob", "logs/*.parquet", code=1)
    assert "no path matches" in result.stderr


def test_out_copies_data_from_outside_and_tracks_the_copy(
    project: Repo, run: Run, tmp_path: Path
) -> None:
    outside = tmp_path / "share" / "corpus"
    outside.mkdir(parents=True)
    (outside / "doc.txt").write_text("text")
    run("add", str(outside), "-o", "data/corpus")
    assert (project.root / "data" / "corpus" / "doc.txt").read_text() == "text"
    assert (project.root / "data" / "corpus.gfml").exists()
    assert (outside / "doc.txt").read_text() == "text"  # the source is left alone
    assert sorted(os.listdir(project.root / "data")) == [".gitignore", "corpus", "corpus.gfml"]
    result = run("add", str(outside), "-o", "data/corpus", code=1)
    assert "exists already" in result.stderr
    assert "exactly one path" in run("add", "a", "b", "-o", "x", code=1).stderr


def test_no_commit_writes_the_pointer_and_commit_caches_later(project: Repo, run: Run) -> None:
    project.gen({"model.bin": "weights"})
    run("add", "--no-commit", "model.bin")
    assert (project.root / "model.bin.gfml").exists()
    objects = project.root / ".gitflowml" / "cache"
    assert not [p for p in objects.rglob("*") if p.is_file()]
    assert "not in cache: model.bin" in run("status").stdout
    assert run("commit").stdout == "Committed model.bin\n"
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    (project.root / "model.bin").unlink()
    run("checkout")
    assert (project.root / "model.bin").read_text() == "weights"
