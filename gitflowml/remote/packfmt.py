"""Owns the byte formats of a remote's packs and pack indexes (SPEC section 14;
docs/file-formats.md gives them byte by byte).

A pack (`packs/<name>.pack`) is its entries' bytes one after another, nothing else. Its
index (`packs/<name>.idx`), little-endian:

    header  24 bytes   magic b"GFMLPIDX", u32 version (1), u32 row count, u64 pack size
    rows    33 bytes   16-byte name (the 32 hex digits as bytes), u8 kind (0 file object,
                       1 directory manifest, 2 run-cache entry), u64 offset, u64 size;
                       sorted by (name, kind)
    trailer 16 bytes   xxh3-128 of everything before it

A pack's name is the xxh3-128 (32 hex digits) of its content list: for each entry in pack
order, kind (u8), name (16 bytes), the xxh3-128 of its bytes (16 bytes; an object's is its
name) and size (u64). Packs with the same entries in the same order have the same name and
the same bytes, so two writers never disagree about a key.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

MAGIC = b"GFMLPIDX"
VERSION = 1
_HEADER = struct.Struct("<8sIIQ")
_ROW = struct.Struct("<16sBQQ")
_LIST = struct.Struct("<B16s16sQ")
_TRAILER = 16
KINDS = (0, 1, 2)


class BadIndexError(ValueError):
    """An idx file that is not one (torn, corrupt, or of a newer version)."""


@dataclass(frozen=True, slots=True)
class Member:
    """An entry to be packed: kind, name (hex), the hash of its bytes (hex), its size."""

    kind: int
    name: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Row:
    """Where an entry is in its pack."""

    kind: int
    name: str
    offset: int
    size: int


def pack_name(members: Sequence[Member]) -> str:
    hasher = xxhash.xxh3_128()
    for m in members:
        hasher.update(_LIST.pack(m.kind, bytes.fromhex(m.name), bytes.fromhex(m.digest), m.size))
    return hasher.hexdigest()


def rows_of(members: Sequence[Member]) -> list[Row]:
    """The rows of a pack holding `members` in this order."""
    rows, offset = [], 0
    for m in members:
        rows.append(Row(m.kind, m.name, offset, m.size))
        offset += m.size
    return rows


def encode_idx(rows: Sequence[Row]) -> bytes:
    size = max((r.offset + r.size for r in rows), default=0)
    ordered = sorted(rows, key=lambda r: (r.name, r.kind))
    body = bytearray(_HEADER.pack(MAGIC, VERSION, len(ordered), size))
    for r in ordered:
        body += _ROW.pack(bytes.fromhex(r.name), r.kind, r.offset, r.size)
    return bytes(body) + xxhash.xxh3_128_digest(bytes(body))


def decode_idx(data: bytes) -> tuple[list[Row], int]:
    """(rows, pack size) of an idx file; BadIndexError when it is not a whole, valid one."""
    if len(data) < _HEADER.size + _TRAILER:
        raise BadIndexError("too short")
    magic, version, count, size = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise BadIndexError("not a gitflowml pack index")
    if version != VERSION:
        raise BadIndexError(f"version {version}; this gitflowml reads version {VERSION}")
    end = _HEADER.size + count * _ROW.size
    if len(data) != end + _TRAILER:
        raise BadIndexError("truncated or too long")
    if xxhash.xxh3_128_digest(data[:end]) != data[end:]:
        raise BadIndexError("checksum mismatch")
    rows = []
    for raw, kind, offset, length in _ROW.iter_unpack(data[_HEADER.size : end]):
        if kind not in KINDS or offset + length > size:
            raise BadIndexError("a row outside its pack")
        rows.append(Row(kind, raw.hex(), offset, length))  # 16 bytes: always 32 hex digits
    return rows, size
