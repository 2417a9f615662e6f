"""Temporary files: one name pattern, and when one is an orphan."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from gitflowml.util import fsutil, tmpfiles


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_names_say_what_they_are_and_whose() -> None:
    name = tmpfiles.name()
    assert tmpfiles.is_tmp(name)
    assert f".{tmpfiles.HOST}.{os.getpid()}." in name
    assert tmpfiles.name() != name
    assert not tmpfiles.is_tmp("data.csv")
    assert not tmpfiles.orphaned(name, 0.0)  # this process's own, however old


def test_an_orphan_is_a_dead_process_here_or_old_anywhere() -> None:
    now = time.time()
    dead = f"{tmpfiles.PREFIX}{tmpfiles.HOST}.{_dead_pid()}.abc.0"
    alive = f"{tmpfiles.PREFIX}{tmpfiles.HOST}.{os.getppid()}.abc.0"
    elsewhere = f"{tmpfiles.PREFIX}00000000.{os.getppid()}.abc.0"
    assert tmpfiles.orphaned(dead, now)
    assert not tmpfiles.orphaned(alive, now)
    assert tmpfiles.orphaned(alive, now - 2 * tmpfiles.LOCAL_AGE_S)
    assert not tmpfiles.orphaned(elsewhere, now - 2 * tmpfiles.LOCAL_AGE_S, tmpfiles.REMOTE_AGE_S)
    assert tmpfiles.orphaned(elsewhere, now - 2 * tmpfiles.REMOTE_AGE_S, tmpfiles.REMOTE_AGE_S)


def test_clean_dir_and_tree_remove_orphans_only(tmp_path: Path) -> None:
    dead = f"{tmpfiles.PREFIX}{tmpfiles.HOST}.{_dead_pid()}.abc.0"
    (tmp_path / "sub").mkdir()
    (tmp_path / dead).write_bytes(b"partial")
    (tmp_path / "sub" / dead).write_bytes(b"partial")
    (tmp_path / "sub" / (dead + "x")).mkdir()  # a tree moved aside by a killed run
    mine = Path(tmpfiles.path_in(tmp_path))
    mine.write_bytes(b"in use")
    (tmp_path / "data.csv").write_bytes(b"user data")
    assert tmpfiles.clean_dir(tmp_path) == 1
    assert tmpfiles.clean_tree(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["data.csv", mine.name, "sub"])
    assert tmpfiles.clean_dir(tmp_path / "missing") == 0


def test_workspace_writes_go_through_the_private_directory(tmp_path: Path) -> None:
    root, private = tmp_path / "repo", tmp_path / "repo" / ".gitflowml" / "tmp" / "work"
    (root / "data").mkdir(parents=True)
    fsutil.use_private_dir(root, private)
    assert Path(fsutil.tmp_name(root / "data" / "a.csv")).parent == private
    assert Path(fsutil.tmp_name(tmp_path / "outside.txt")).parent == tmp_path
    fsutil.atomic_write_bytes(root / "data" / "a.csv", b"x")
    assert (root / "data" / "a.csv").read_bytes() == b"x"
    assert os.listdir(private) == []
