from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflowml.storage import hashing
from gitflowml.storage.hashing import Manifest, ManifestEntry

# Reference digests of XXH3-128 (xxHash's own test vectors, as 32 lowercase hex digits).
VECTORS = [
    (b"", "99aa06d3014798d86001c324468d497f"),
    (b"a", "a96faf705af16834e6c632b61e964e1f"),
    (b"abc", "06b05ab6733a618578af5f94892f3950"),
]


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_hash_bytes_matches_reference_vectors(data: bytes, expected: str) -> None:
    assert hashing.hash_bytes(data) == expected
    assert hashing.is_oid(expected)


@pytest.mark.parametrize(
    "size", [0, 1, hashing.CHUNK - 1, hashing.CHUNK, hashing.CHUNK + 1, 3 * hashing.CHUNK + 7]
)
def test_streamed_hash_equals_one_shot_hash(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hashing.hash_file(str(path)) == (hashing.hash_bytes(data), size)


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_chunk_size_never_changes_the_hash(data: bytes, chunk: int) -> None:
    assert hashing.hash_stream(io.BytesIO(data), chunk)[0] == hashing.hash_bytes(data)


@pytest.mark.parametrize(
    "value", ["", "0" * 31, "0" * 33, "G" * 32, "A" * 32, "../" + "0" * 29, 5, None]
)
def test_is_oid_rejects_anything_but_32_lowercase_hex(value: object) -> None:
    assert not hashing.is_oid(value)


entries = st.lists(
    st.builds(
        ManifestEntry,
        relpath=st.text(min_size=1, max_size=12),
        oid=st.text("0123456789abcdef", min_size=32, max_size=32),
        size=st.integers(min_value=0, max_value=2**40),
        isexec=st.booleans(),
    ),
    unique_by=lambda e: e.relpath,
    max_size=30,
)


@given(entries, st.randoms())
def test_manifest_hash_ignores_listing_order(rows: list[ManifestEntry], rnd) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert Manifest.build(rows).oid() == Manifest.build(shuffled).oid()


@given(entries)
def test_manifest_round_trips_through_bytes(rows: list[ManifestEntry]) -> None:
    manifest = Manifest.build(rows)
    assert Manifest.from_bytes(manifest.to_bytes()) == manifest


def test_manifest_bytes_are_fixed_across_versions() -> None:
    manifest = Manifest.build(
        [ManifestEntry("b/x.csv", "1" * 32, 3, True), ManifestEntry("a.txt", "2" * 32, 10)]
    )
    assert manifest.to_bytes() == (
        b'{"schema":1,"files":[["a.txt","' + b"2" * 32 + b'",10,false],'
        b'["b/x.csv","' + b"1" * 32 + b'",3,true]]}'
    )
    assert manifest.size == 13
    assert manifest.nfiles == 2


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b'{"schema":2,"files":[]}',
        b'{"schema":1,"files":[["a","zz",1,false]]}',
        b'{"schema":1,"files":[["a"]]}',
        b"\xff",
    ],
)
def test_manifest_from_bytes_rejects_garbage(data: bytes) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        Manifest.from_bytes(data)


def test_changing_any_field_changes_the_manifest_hash() -> None:
    base = ManifestEntry("a", "1" * 32, 1, False)
    variants = [
        ManifestEntry("b", "1" * 32, 1, False),
        ManifestEntry("a", "2" * 32, 1, False),
        ManifestEntry("a", "1" * 32, 2, False),
        ManifestEntry("a", "1" * 32, 1, True),
    ]
    oids = {Manifest.build([v]).oid() for v in [base, *variants]}
    assert len(oids) == 5
