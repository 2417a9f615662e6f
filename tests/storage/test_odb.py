from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitflowml.config import LinkType
from gitflowml.errors import InvalidOidError, ObjectCorruptError, ObjectMissingError
from gitflowml.storage import hashing, links
from gitflowml.storage.hashing import Manifest, ManifestEntry
from gitflowml.storage.odb import LocalOdb
from gitflowml.util import fsutil, tmpfiles


@pytest.fixture
def store(tmp_path: Path) -> LocalOdb:
    return LocalOdb(tmp_path / "cache")


def _objects(store: LocalOdb) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file() and not _is_tmp(p))


def _is_tmp(path: Path) -> bool:
    return tmpfiles.is_tmp(path.name)


def _temporaries(store: LocalOdb) -> list[Path]:
    return [p for p in store.root.rglob("*") if _is_tmp(p)]


@pytest.mark.parametrize(
    "size", [0, 10, hashing.CHUNK - 1, hashing.CHUNK, hashing.CHUNK + 1, 2 * hashing.CHUNK + 3]
)
def test_add_file_stores_the_content_under_its_hash(
    store: LocalOdb, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    src = tmp_path / "src"
    src.write_bytes(data)
    oid, stored_size = store.add_file(str(src))
    assert (oid, stored_size) == (hashing.hash_bytes(data), size)
    path = store.root / oid[:2] / oid[2:]
    assert store.path(oid) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert _temporaries(store) == []


def test_adding_the_same_content_twice_keeps_one_object(store: LocalOdb, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(b"same" * 1000000)
        store.add_file(str(tmp_path / name))
    assert len(_objects(store)) == 1
    assert _temporaries(store) == []


@pytest.mark.parametrize("size", [5, 3 * hashing.CHUNK])
def test_crash_between_write_and_rename_leaves_no_object(
    store: LocalOdb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    src = tmp_path / "src"
    src.write_bytes(os.urandom(size))

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fsutil, "publish", crash)  # a named temporary's last step
    monkeypatch.setattr(fsutil, "_name", crash)  # an unnamed file's (O_TMPFILE)
    with pytest.raises(KeyboardInterrupt):
        store.add_file(str(src))
    assert _objects(store) == []
    assert _temporaries(store) == []
    monkeypatch.undo()
    oid, _ = store.add_file(str(src))
    assert store.path(oid).read_bytes() == src.read_bytes()


@pytest.mark.parametrize("bad", ["", "0" * 31, "../../etc/passwd", "A" * 32, "0" * 32 + "/x"])
def test_invalid_oids_never_become_paths(store: LocalOdb, bad: str) -> None:
    with pytest.raises(InvalidOidError):
        store.path(bad)
    with pytest.raises(InvalidOidError):
        store.missing({bad})


def test_manifest_round_trip_and_corruption(store: LocalOdb) -> None:
    manifest = Manifest.build([ManifestEntry("x", "1" * 32, 1)])
    oid = store.add_manifest(manifest)
    assert store.path(oid, is_dir=True).name.endswith(".dir")
    assert store.read_manifest(oid) == manifest
    path = store.path(oid, is_dir=True)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b'"x"', b'"y"'))
    with pytest.raises(ObjectCorruptError, match="corrupt"):
        store.read_manifest(oid)
    with pytest.raises(ObjectMissingError):
        store.read_manifest("2" * 32)


def test_missing_lists_absent_objects(store: LocalOdb, tmp_path: Path) -> None:
    present = []
    for i in range(20):
        (tmp_path / f"f{i}").write_bytes(b"%d" % i)
        present.append(store.add_file(str(tmp_path / f"f{i}"))[0])
    absent = {f"{i:02x}" + "0" * 30 for i in range(3)} | {"ff" * 16}
    assert store.missing(set(present) | absent) == absent


def test_verify_detects_corruption(store: LocalOdb, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    oid, _ = store.add_file(str(tmp_path / "f"))
    store.verify(oid)
    _corrupt(store, oid)
    with pytest.raises(ObjectCorruptError):
        store.verify(oid)
    with pytest.raises(ObjectMissingError):
        store.verify("3" * 32)


def _corrupt(store: LocalOdb, oid: str) -> None:
    path = store.path(oid)
    path.chmod(0o644)
    path.write_bytes(b"jello")


LINKS = [
    (LinkType.COPY,),
    (LinkType.REFLINK, LinkType.COPY),
    (LinkType.HARDLINK,),
    (LinkType.SYMLINK,),
]


@pytest.mark.parametrize("types", LINKS, ids=lambda t: ",".join(x.value for x in t))
@pytest.mark.parametrize("isexec", [False, True])
@pytest.mark.parametrize("sized", [False, True], ids=["size unknown", "size given"])
def test_materialise_puts_the_content_in_place(
    store: LocalOdb, tmp_path: Path, types: tuple[LinkType, ...], isexec: bool, sized: bool
) -> None:
    (tmp_path / "f").write_bytes(b"payload")
    oid, size = store.add_file(str(tmp_path / "f"))
    dest = tmp_path / "ws" / "out.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    links.materialise(store, oid, dest, types, isexec, verified=False, size=size if sized else None)
    assert dest.read_bytes() == b"payload"
    if types[0] is LinkType.HARDLINK:
        assert dest.stat().st_ino == store.path(oid).stat().st_ino
    elif types[0] is LinkType.SYMLINK:
        assert dest.is_symlink()
    else:
        assert dest.stat().st_ino != store.path(oid).stat().st_ino  # a copy of its own
        assert os.access(dest, os.X_OK) == isexec
        assert os.access(dest, os.W_OK)
    assert [p.name for p in dest.parent.iterdir()] == ["out.bin"]


@pytest.mark.parametrize("types", LINKS, ids=lambda t: ",".join(x.value for x in t))
@pytest.mark.parametrize("sized", [False, True], ids=["size unknown", "size given"])
def test_a_corrupt_object_is_never_materialised(
    store: LocalOdb, tmp_path: Path, types: tuple[LinkType, ...], sized: bool
) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    oid, size = store.add_file(str(tmp_path / "f"))
    _corrupt(store, oid)
    dest = tmp_path / "out"
    with pytest.raises(ObjectCorruptError):
        links.materialise(
            store, oid, dest, types, False, verified=False, size=size if sized else None
        )
    assert not dest.exists()
    assert list(tmp_path.glob(".out*")) == []


@pytest.mark.parametrize("size", [None, 7])
def test_materialise_of_a_missing_object(store: LocalOdb, tmp_path: Path, size: int | None) -> None:
    with pytest.raises(ObjectMissingError):
        links.materialise(
            store, "4" * 32, tmp_path / "x", (LinkType.COPY,), False, verified=False, size=size
        )


@pytest.mark.parametrize(("actual", "hint"), [(10, 5), (10, 10), (10, 50), (hashing.CHUNK + 5, 3)])
def test_a_stale_size_hint_still_stores_the_whole_file(
    store: LocalOdb, tmp_path: Path, actual: int, hint: int
) -> None:
    data = os.urandom(actual)
    (tmp_path / "f").write_bytes(data)
    oid, size = store.add_file(str(tmp_path / "f"), size_hint=hint)
    assert (oid, size) == (hashing.hash_bytes(data), actual)
    assert store.path(oid).read_bytes() == data


def test_publish_falls_back_to_rename_over_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "new").write_text("new")
    (tmp_path / "dest").write_text("old")
    fsutil.publish(tmp_path / "new", tmp_path / "dest")
    assert (tmp_path / "dest").read_text() == "new"
    assert not (tmp_path / "new").exists()
