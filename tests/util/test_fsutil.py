from __future__ import annotations

import os
from pathlib import Path

from gitflowml.util import fsutil


def test_remove_takes_files_links_and_trees_and_nothing_else(tmp_path: Path) -> None:
    fsutil.remove(tmp_path / "absent")  # nothing there: nothing to do
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    read_only = tmp_path / "ro.txt"
    read_only.write_text("x")
    read_only.chmod(0o444)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    (tree / "sub" / "f").chmod(0o444)
    link = tmp_path / "link"
    link.symlink_to(tree)  # a link to a directory: the link goes, never what it points at
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for path in (plain, read_only, link, dangling):
        fsutil.remove(path)
        assert not os.path.lexists(path)
    assert (tree / "sub" / "f").read_text() == "x"
    fsutil.remove(tree)
    assert not tree.exists()
    assert sorted(os.listdir(tmp_path)) == []


def test_move_aside_takes_files_and_trees_out_of_the_way(tmp_path: Path) -> None:
    trash = str(tmp_path / "trash")  # made when first needed
    (tmp_path / "f").write_text("old")
    tree = tmp_path / "d" / "sub"
    tree.mkdir(parents=True)
    (tree / "x").write_text("x")
    (tree / "x").chmod(0o444)
    moved = [fsutil.move_aside(tmp_path / name, trash) for name in ("f", "d")]
    assert all(m is not None and os.path.dirname(m) == trash for m in moved)
    assert not (tmp_path / "f").exists()
    assert not (tmp_path / "d").exists()
    assert fsutil.move_aside(tmp_path / "absent", trash) is None
    for m in moved:
        assert m is not None
        fsutil.remove(m)
    assert os.listdir(trash) == []
