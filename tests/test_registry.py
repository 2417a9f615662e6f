"""The data registry's `ls` (SPEC section 15) against source repositories made here: a
gitflowml one (by path and by file:// URL) and a DVC-shaped one, read without a checkout
through the blob-less mirror."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Repo, Run, git


@pytest.fixture
def source(tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "registry"
    root.mkdir()
    _init(root)
    monkeypatch.chdir(root)
    run("init")
    (root / "datasets" / "images").mkdir(parents=True)
    (root / "datasets" / "images" / "a.png").write_text("a")
    (root / "datasets" / "images" / "b.png").write_text("bb")
    (root / "datasets" / "labels.csv").write_text("x,y\n")
    (root / "train.py").write_text("print('hi')\n")
    run("add", "datasets/images", "datasets/labels.csv")
    (root / "pipeline.yaml").write_text(
        "stages:\n  model:\n    cmd: echo m > model.bin\n    outs: [model.bin]\n"
    )
    run("repro")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    git(root, "tag", "v1")
    return root


def _rows(run: Run, *args: str) -> dict[str, dict[str, object]]:
    return {r["path"]: r for r in json.loads(run("ls", *args, "--json").stdout)}


def test_ls_lists_git_files_and_tracked_data(source: Path, project: Repo, run: Run) -> None:
    top = _rows(run, str(source))
    assert set(top) == {
        ".gitflowml",
        ".gitignore",
        "datasets",
        "model.bin",
        "pipeline.lock",
        "pipeline.yaml",
        "train.py",
    }
    assert top["model.bin"]["kind"] == "data"  # a stage's out, from the lock
    assert top["model.bin"]["size"] == 2
    assert top["train.py"]["kind"] == "file"
    assert top["datasets"]["kind"] == "dir"
    inside = _rows(run, str(source), "datasets", "-R")
    assert set(inside) == {"datasets/.gitignore", "datasets/images", "datasets/labels.csv"}
    assert inside["datasets/images"]["nfiles"] == 2
    assert inside["datasets/images"]["size"] == 3
    assert inside["datasets/labels.csv"]["hash"] == _pointer_hash(
        source / "datasets" / "labels.csv.gfml"
    )
    one = _rows(run, f"file://{source}", "datasets/labels.csv")  # a URL, one path
    assert list(one) == ["datasets/labels.csv"]
    text = run("ls", str(source), "datasets").stdout
    assert "datasets/images\tdata (2 files)\t3\t" in text


def test_ls_sees_new_commits_and_old_revisions(source: Path, project: Repo, run: Run) -> None:
    assert "extra.txt" not in _rows(run, str(source))
    (source / "extra.txt").write_text("new")
    git(source, "add", "extra.txt")
    git(source, "commit", "-qm", "v2")
    assert "extra.txt" in _rows(run, str(source))  # the cached mirror is fetched again
    assert "extra.txt" not in _rows(run, str(source), "--rev", "v1")
    mirrors = Path(os.environ["XDG_CACHE_HOME"]) / "gitflowml" / "mirrors"
    assert len(list(mirrors.iterdir())) == 1  # one mirror per source
    assert (next(mirrors.iterdir()) / "objects").is_dir()  # a bare repository, no checkout


def test_ls_of_a_dvc_repository(tmp_path: Path, project: Repo, run: Run) -> None:
    root = tmp_path / "dvc-registry"
    root.mkdir()
    _init(root)
    (root / "data.csv.dvc").write_text(
        "outs:\n- md5: 3c59dc048e8850243be8079a5c74d079\n  size: 21\n  path: data.csv\n"
    )
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
        "    - path: model.pkl\n      md5: 202cb962ac59075b964b07152d234b70\n      size: 3\n"
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dvc")
    rows = _rows(run, str(root))
    assert rows["data.csv"] == {
        "path": "data.csv",
        "kind": "data",
        "size": 21,
        "hash": "3c59dc048e8850243be8079a5c74d079",
        "nfiles": None,
        "executable": False,
    }
    assert rows["model.pkl"]["size"] == 3
    assert "data.csv.dvc" not in rows  # the pointer is not listed, its data is


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{tmp}/nothere",), "cannot be read as a git repository"),
        (("{tmp}/plain",), "cannot be read as a git repository"),
        (("{source}", "--rev", "v9"), "has no revision 'v9'"),
        (("{source}", "nowhere"), "has no 'nowhere'"),
    ],
)
def test_ls_bad_input(
    source: Path, tmp_path: Path, project: Repo, run: Run, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "plain").mkdir()
    given = [a.format(tmp=tmp_path, source=source) for a in args]
    result = run("ls", *given, code=1)
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def _init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Source")
    git(root, "config", "user.email", "source@example.invalid")


def _pointer_hash(path: Path) -> str:
    from gitflowml.storage import pointer

    return pointer.load(path).oid
