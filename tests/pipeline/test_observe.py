from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from gitflowml.errors import PipelineError
from gitflowml.pipeline import observe
from gitflowml.pipeline.loader import Out, ParamRef, Stage
from gitflowml.storage import hashing
from gitflowml.storage.state import StateDb
from gitflowml.storage.workspace import Scanner


@pytest.fixture
def memfs():
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


def test_observe_files_dirs_params_and_urls(tmp_path: Path, memfs) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("x")
    (tmp_path / "params.yaml").write_text("train: {lr: 0.1}\n")
    memfs.pipe("/bucket/raw.csv", b"remote bytes")
    stage = Stage(
        name="s",
        line=1,
        cmd=("x",),
        deps=("data.csv", "d", "memory://bucket/raw.csv"),
        params=(ParamRef("params.yaml", ("train.lr",)), ParamRef("gone.yaml", None)),
        outs=(Out("model.pkl"),),
    )
    state = StateDb.open(tmp_path / "state.db")
    try:
        now = observe.observe(tmp_path, [stage], Scanner(state, 2))
    finally:
        state.close()
    assert now.paths["data.csv"] is not None
    assert now.paths["data.csv"].oid == hashing.hash_bytes(b"1,2\n")
    assert now.paths["d"] is not None
    assert now.paths["d"].nfiles == 1
    assert now.paths["model.pkl"] is None
    url = now.paths["memory://bucket/raw.csv"]
    assert url is not None
    assert url.oid.startswith("size-mtime:12-")
    assert now.params == {"params.yaml": {"train": {"lr": 0.1}}, "gone.yaml": None}


def test_url_entries_prefer_etags_and_see_changes(memfs, monkeypatch) -> None:
    memfs.pipe("/b/f", b"one")
    first = observe.url_entry("memory://b/f")
    memfs.pipe("/b/f", b"two!")
    second = observe.url_entry("memory://b/f")
    assert first != second
    assert observe.url_entry("memory://b/missing") is None

    monkeypatch.setattr(type(memfs), "info", lambda self, path, **kw: {"ETag": '"abc"', "size": 3})
    entry = observe.url_entry("memory://b/f")
    assert entry is not None
    assert entry.oid == "etag:abc"


def test_an_unknown_protocol_is_a_clear_error() -> None:
    with pytest.raises(PipelineError, match="dep nosuchproto://x"):
        observe.url_entry("nosuchproto://x")
