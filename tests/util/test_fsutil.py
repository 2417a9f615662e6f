from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

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


@pytest.fixture(params=["unnamed", "named"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a new file is written: unnamed until complete (O_TMPFILE, where the
    system has it) and through a named temporary (everywhere else)."""
    if request.param == "named":
        monkeypatch.setattr(fsutil, "_unnamed_supported", lambda: False)
    elif not fsutil._unnamed_supported():
        pytest.skip("no O_TMPFILE here")
    return str(request.param)


def test_new_files_appear_whole_and_never_clobber(tmp_path: Path, way: str) -> None:
    dest = tmp_path / "f"
    assert fsutil.write_new(dest, b"one", 0o640)
    assert not fsutil.write_new(dest, b"two", 0o644)
    assert dest.read_bytes() == b"one"
    assert dest.stat().st_mode & 0o777 == 0o640 & ~_umask()
    fsutil.atomic_write_bytes(dest, b"three")  # replaces
    assert dest.read_bytes() == b"three"
    fsutil.atomic_write_bytes(tmp_path / "g", b"four", 0o444)
    assert (tmp_path / "g").read_bytes() == b"four"
    assert sorted(os.listdir(tmp_path)) == ["f", "g"]  # no temporary left


def test_a_crash_before_the_name_leaves_nothing(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fsutil, "_name", crash)
    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(KeyboardInterrupt):
        fsutil.write_new(tmp_path / "f", b"data", 0o644)
    assert os.listdir(tmp_path) == []


def test_unnamed_files_fall_back_where_the_file_system_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def no_tmpfile(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
            raise OSError(errno.EOPNOTSUPP, "not here")
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", no_tmpfile)
    assert fsutil.write_new(tmp_path / "f", b"one", 0o644)
    assert (tmp_path / "f").read_bytes() == b"one"
    assert fsutil.create(tmp_path / "g", b"x", 0o644, replace=False) is None  # remembered
    assert sorted(os.listdir(tmp_path)) == ["f"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
