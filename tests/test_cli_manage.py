"""remove, move, commit and unprotect end to end, in real git repositories (SPEC section 16)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from gitflowml.storage import hashing
from tests.conftest import Repo, Run

PIPELINE = """\
# the whole pipeline
stages:
  prepare:  # makes the clean data
    cmd: mkdir -p out && cp raw.csv out/clean.csv
    deps: [raw.csv]
    outs: [out/clean.csv]

  # the model
  train:
    cmd: wc -l < out/clean.csv > model.txt
    deps: [out/clean.csv]
    outs: [model.txt]
  report:
    foreach: [a, b]
    do:
      cmd: echo ${item} > report-${item}.txt
      outs:
        - report-${item}.txt
"""


@pytest.fixture
def tracked(project: Repo, run: Run) -> Repo:
    project.gen({"data": {"a.txt": "a", "sub": {"b.txt": "b"}}, "model.bin": "weights"})
    run("add", "data", "model.bin")
    project.git("add", "-A")
    project.git("commit", "-qm", "data")
    return project


@pytest.fixture
def piped(project: Repo, run: Run) -> Repo:
    project.gen({"raw.csv": "1\n2\n", "pipeline.yaml": PIPELINE})
    run("repro")
    return project


def _ignored(repo: Repo, directory: str = ".") -> list[str]:
    path = repo.root / directory / ".gitignore"
    return path.read_text().splitlines() if path.exists() else []


# -- move ---------------------------------------------------------------------------------------
def test_move_takes_data_pointer_and_gitignore_along(tracked: Repo, run: Run) -> None:
    run("move", "data", "inputs/raw")
    root = tracked.root
    assert (root / "inputs" / "raw" / "sub" / "b.txt").read_text() == "b"
    assert not (root / "data").exists()
    assert not (root / "data.gfml").exists()
    assert "path: raw\n" in (root / "inputs" / "raw.gfml").read_text()
    assert _ignored(tracked) == ["/model.bin"]
    assert _ignored(tracked, "inputs") == ["/raw"]
    run("move", "model.bin.gfml", "inputs")  # a pointer file names its data; into a directory
    assert (root / "inputs" / "model.bin").read_text() == "weights"
    assert not (root / ".gitignore").exists()  # nothing of ours left in it
    assert run("status").stdout == "No pipeline; data is up to date.\n"
    tracked.git("add", "-A")
    assert "inputs/raw/sub/b.txt" not in tracked.git("ls-files")  # still ignored by git
    (root / "inputs" / "raw").rename(root / "elsewhere")  # the cache still has the data
    run("checkout")
    assert (root / "inputs" / "raw" / "a.txt").read_text() == "a"


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ("notes.txt", "x", "is not tracked by gitflowml"),
        ("data/a.txt", "x", "inside data, which is tracked as a whole"),
        ("data", "model.bin", "exists already"),
        ("data", "data/inner", "into itself"),
        ("data", ".gitflowml/x", "which gitflowml manages itself"),
        ("model.bin", "data/sub/m", "inside data"),
    ],
)
def test_move_refuses_and_changes_nothing(
    tracked: Repo, run: Run, src: str, dst: str, message: str
) -> None:
    (tracked.root / "notes.txt").write_text("mine")
    before = sorted(str(p.relative_to(tracked.root)) for p in tracked.root.rglob("*"))
    result = run("move", src, dst, code=1)
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert sorted(str(p.relative_to(tracked.root)) for p in tracked.root.rglob("*")) == before


# -- remove -------------------------------------------------------------------------------------
def test_remove_stops_tracking_and_keeps_the_cache(tracked: Repo, run: Run) -> None:
    run("remove", "model.bin.gfml")
    assert (tracked.root / "model.bin").read_text() == "weights"  # the data stays
    assert not (tracked.root / "model.bin.gfml").exists()
    assert _ignored(tracked) == ["/data"]
    oid = hashing.hash_bytes(b"a")
    cache = tracked.root / ".gitflowml" / "cache"
    run("remove", "data", "--outs")
    assert not (tracked.root / "data").exists()
    assert (cache / oid[:2] / oid[2:]).exists()  # until gc
    assert not (tracked.root / ".gitignore").exists()
    tracked.git("add", "-A")
    assert "model.bin" in tracked.git("ls-files")  # git sees it now


def test_remove_outs_never_deletes_changes_that_are_not_cached(tracked: Repo, run: Run) -> None:
    (tracked.root / "data" / "a.txt").write_text("edited")
    result = run("remove", "data", "--outs", code=1)
    assert "has changes that are not in the cache" in result.stderr
    assert (tracked.root / "data" / "a.txt").read_text() == "edited"
    assert (tracked.root / "data.gfml").exists()


def test_remove_a_stage_keeps_the_rest_of_the_file(piped: Repo, run: Run) -> None:
    run("remove", "train")
    text = (piped.root / "pipeline.yaml").read_text()
    assert "train" not in text
    assert "# the model" not in text  # the comment right above it went with it
    assert "# the whole pipeline\n" in text  # the rest is as it was
    assert "prepare:  # makes the clean data" in text
    lock = (piped.root / "pipeline.lock").read_text()
    assert "train" not in lock
    assert "prepare" in lock
    assert (piped.root / "model.txt").exists()  # without --outs the out stays
    assert "/model.txt" not in _ignored(piped)
    assert json.loads(run("status", "--json").stdout) == {}
    run("remove", "report", "--outs")  # a foreach group goes whole
    assert not (piped.root / "report-a.txt").exists()
    assert "report" not in (piped.root / "pipeline.yaml").read_text()
    assert "report" not in (piped.root / "pipeline.lock").read_text()
    result = run("remove", "nothere", code=1)
    assert "not tracked" in result.stderr


def test_remove_refuses_one_stage_of_a_group(piped: Repo, run: Run) -> None:
    before = (piped.root / "pipeline.yaml").read_text()
    result = run("remove", "report@a", code=1)
    assert "made by 'report'" in result.stderr
    assert (piped.root / "pipeline.yaml").read_text() == before


# -- commit -------------------------------------------------------------------------------------
def test_commit_records_an_out_edited_by_hand(piped: Repo, run: Run) -> None:
    (piped.root / "model.txt").write_text("hand-tuned\n")
    assert "train" in json.loads(run("status", "--json").stdout)
    assert run("commit").stdout.splitlines() == ["Committed stage 'train'"]
    assert json.loads(run("status", "--json").stdout) == {}
    lock = (piped.root / "pipeline.lock").read_text()
    assert hashing.hash_bytes(b"hand-tuned\n") in lock
    assert run("commit").stdout == "Nothing to commit; everything is as recorded\n"
    (piped.root / "model.txt").unlink()
    run("checkout")  # the edited out is what the cache gives back
    assert (piped.root / "model.txt").read_text() == "hand-tuned\n"


def test_commit_needs_force_when_inputs_changed(piped: Repo, run: Run) -> None:
    (piped.root / "raw.csv").write_text("1\n2\n3\n")
    before = (piped.root / "pipeline.lock").read_text()
    result = run("commit", "prepare", code=1)
    assert "its dependencies changed" in result.stderr
    assert "commit -f" in result.stderr
    assert (piped.root / "pipeline.lock").read_text() == before
    run("commit", "prepare", "-f")
    status = json.loads(run("status", "--json").stdout)
    assert "prepare" not in status  # recorded with the new input
    assert "train" not in status  # its dep is the out as it is: unchanged


def test_commit_of_tracked_data_re_adds_it(tracked: Repo, run: Run) -> None:
    (tracked.root / "data" / "a.txt").write_text("new")
    assert run("commit", "data").stdout == "Committed data\n"
    assert run("status").stdout == "No pipeline; data is up to date.\n"


# -- unprotect ----------------------------------------------------------------------------------
@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_unprotect_gives_a_private_copy(tracked: Repo, run: Run, link: str) -> None:
    run("config", "cache.type", link)
    os.unlink(tracked.root / "model.bin")
    shutil.rmtree(tracked.root / "data")
    run("checkout")
    path = tracked.root / "model.bin"
    assert path.is_symlink() or path.stat().st_nlink == 2
    assert run("unprotect", "model.bin", "data").stdout == "Unprotected 3 file(s)\n"
    assert not path.is_symlink()
    assert path.stat().st_nlink == 1
    path.chmod(0o644)
    path.write_text("edited")  # the cache keeps its own bytes
    oid = hashing.hash_bytes(b"weights")
    obj = tracked.root / ".gitflowml" / "cache" / oid[:2] / oid[2:]
    assert obj.read_bytes() == b"weights"
    assert run("unprotect", "model.bin").stdout == "Nothing linked to unprotect\n"


def test_unprotect_of_an_untracked_path(tracked: Repo, run: Run) -> None:
    result = run("unprotect", "nothing", code=1)
    assert "not tracked" in result.stderr


def test_move_changes_the_deps_that_name_it(project: Repo, run: Run) -> None:
    project.gen({"data": {"raw": {"a.csv": "1\n"}}})
    run("add", "data/raw")
    project.gen(
        {
            "pipeline.yaml": "stages:\n"
            "  prep:  # keep me\n"
            "    cmd: cat data/raw/a.csv > prepped.txt\n"
            "    deps:\n"
            "      - data/raw/a.csv\n"
            "      - data/rawer.txt  # another path: left alone\n"
            "    outs: [prepped.txt]\n"
            "  other:\n"
            "    cmd: ls > other.txt\n"
            "    deps: [data/raw]\n"
            "    outs: [other.txt]\n",
            "data": {"rawer.txt": "x"},
        }
    )
    out = run("move", "data/raw", "inputs/raw").stdout
    text = (project.root / "pipeline.yaml").read_text()
    assert "      - inputs/raw/a.csv\n" in text
    assert "      - data/rawer.txt  # another path: left alone\n" in text
    assert "    deps: [inputs/raw]\n" in text
    assert "  prep:  # keep me\n" in text
    assert "cmd: cat data/raw/a.csv" in text  # a command is the user's to change
    assert "Stage 'prep' now depends on inputs/raw" in out
    assert "Stage 'other' now depends on inputs/raw" in out
    assert "Stage 'prep' still names data/raw in its cmd: edit it" in out
