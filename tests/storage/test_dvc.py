"""DVC's hashes and files as storage/dvc reads them (the migration tests check them against
a project DVC itself made; these cover what that project does not hold)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitflowml.storage import dvc


def test_dvc2_entries_hash_text_with_unix_line_ends(tmp_path: Path) -> None:
    text = tmp_path / "a.csv"
    text.write_bytes(b"x,y\r\n1,2\r\n")
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\r\n")
    unix = hashlib.md5(b"x,y\n1,2\n").hexdigest()
    assert dvc.file_md5(text, legacy=True) == unix
    assert dvc.file_md5(text) == hashlib.md5(text.read_bytes()).hexdigest()
    assert dvc.file_md5(binary, legacy=True) == hashlib.md5(b"\x00\r\n").hexdigest()
    (entry,) = dvc.load_pointer(f"outs:\n- md5: {unix}\n  path: a.csv\n", "a.csv.dvc")
    assert entry.legacy
    assert dvc.matches(tmp_path, entry)


def test_a_directory_hash_is_the_md5_of_its_sorted_listing(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "b").write_bytes(b"2")
    (tmp_path / "d" / "sub" / "a").write_bytes(b"1")
    rows = [
        {"md5": hashlib.md5(b"2").hexdigest(), "relpath": "b"},
        {"md5": hashlib.md5(b"1").hexdigest(), "relpath": "sub/a"},
    ]
    want = hashlib.md5(json.dumps(rows, sort_keys=True).encode()).hexdigest() + ".dir"
    assert dvc.md5_of(tmp_path / "d") == want
    assert dvc.md5_of(tmp_path / "none") is None


def test_restore_verifies_what_it_reads(tmp_path: Path) -> None:
    good, bad = b"content", b"tampered"
    md5 = hashlib.md5(good).hexdigest()
    store = {dvc.object_keys(md5)[1]: bad}  # DVC 2's layout, with the wrong bytes
    entry = dvc.Locked("out/file", md5)
    assert not dvc.restore(tmp_path, entry, [store.get])
    store[dvc.object_keys(md5)[0]] = good
    assert dvc.restore(tmp_path, entry, [store.get])
    assert (tmp_path / "out" / "file").read_bytes() == good


def test_unreadable_dvc_files_name_themselves() -> None:
    with pytest.raises(dvc.DvcFormatError, match=r"^dvc.lock: no 'stages' mapping"):
        dvc.load_lock("schema: '2.0'\nstages: []\n")
    with pytest.raises(dvc.DvcFormatError, match=r"^x.dvc: not a .dvc file"):
        dvc.load_pointer("outs: 3\n", "x.dvc")
    assert dvc.load_lock("") == {}
