from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml.storage import ignore


def test_entry_is_added_once_and_anchored(tmp_path: Path) -> None:
    target = tmp_path / "data"
    assert ignore.ensure_ignored(target) == tmp_path / ".gitignore"
    assert ignore.ensure_ignored(target) is None
    assert (tmp_path / ".gitignore").read_text() == "/data\n"


def test_existing_content_is_kept(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log")
    ignore.ensure_ignored(tmp_path / "model.pkl")
    assert (tmp_path / ".gitignore").read_text() == "*.log\n/model.pkl\n"


@pytest.mark.parametrize(
    ("name", "entry"),
    [("a b", "/a\\ b"), ("x*", "/x\\*"), ("#c", "/\\#c"), ("plain.csv", "/plain.csv")],
)
def test_special_characters_are_escaped(name: str, entry: str) -> None:
    assert ignore.entry_for(name) == entry


def test_dot_dir_ignore_is_written_once(tmp_path: Path) -> None:
    assert ignore.write_dot_dir_ignore(tmp_path)
    assert "/cache/" in (tmp_path / ".gitignore").read_text().splitlines()
    assert not ignore.write_dot_dir_ignore(tmp_path)
