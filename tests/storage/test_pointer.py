from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml.errors import PointerError
from gitflowml.storage import pointer
from gitflowml.storage.pointer import Pointer

OID = "0123456789abcdef" * 2


@pytest.mark.parametrize(
    "ptr",
    [Pointer("data", OID, 10, 3), Pointer("m.bin", OID, 0), Pointer("run.sh", OID, 5, None, True)],
)
def test_round_trip(tmp_path: Path, ptr: Pointer) -> None:
    path = tmp_path / "x.gfml"
    pointer.dump(ptr, path)
    assert pointer.load(path) == ptr
    assert path.read_text().startswith("schema: 1\npath: ")


def test_the_file_format_is_stable(tmp_path: Path) -> None:
    path = tmp_path / "data.gfml"
    pointer.dump(Pointer("data", OID, 10, 3), path)
    assert path.read_text() == f"schema: 1\npath: data\nhash: {OID}\nsize: 10\nnfiles: 3\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: 1\npath: [unclosed\n", "malformed YAML"),
        ("- a list\n", "expected a mapping"),
        (f"schema: 2\npath: d\nhash: {OID}\nsize: 1\n", "schema 2"),
        (f"schema: 1\npath: d\nhash: {OID}\nsize: 1\ncolour: red\n", "unknown keys"),
        (f"schema: 1\npath: /abs\nhash: {OID}\nsize: 1\n", "relative"),
        (f"schema: 1\npath: ../up\nhash: {OID}\nsize: 1\n", "must not leave"),
        ("schema: 1\npath: d\nhash: xyz\nsize: 1\n", "32 lowercase hex"),
        (f"schema: 1\npath: d\nhash: {OID}\nsize: -1\n", "size"),
        (f"schema: 1\npath: d\nhash: {OID}\nsize: 1\nnfiles: many\n", "nfiles"),
    ],
)
def test_malformed_pointers_name_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "d.gfml"
    path.write_text(text)
    with pytest.raises(PointerError, match=message) as info:
        pointer.load(path)
    assert str(path) in str(info.value)


def test_missing_and_binary_pointer_files(tmp_path: Path) -> None:
    with pytest.raises(PointerError, match="does not exist"):
        pointer.load(tmp_path / "nope.gfml")
    (tmp_path / "b.gfml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PointerError, match="not a text file"):
        pointer.load(tmp_path / "b.gfml")


def test_pointer_file_beside_its_target(tmp_path: Path) -> None:
    assert pointer.pointer_file_for(tmp_path / "data" / "raw") == tmp_path / "data" / "raw.gfml"
