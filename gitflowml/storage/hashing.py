"""Pure xxh3-128 hashing: bytes, streamed files, directory manifests. No I/O beyond reading."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

import xxhash

HEX_LEN = 32
OID_RE = re.compile(r"[0-9a-f]{32}")
CHUNK = 1 << 20  # 1 MiB reads: large enough that per-call overhead vanishes
MANIFEST_SCHEMA = 1


def new_hasher() -> xxhash.xxh3_128:
    return xxhash.xxh3_128()


def hash_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def hash_stream(stream: BinaryIO, chunk: int = CHUNK) -> tuple[str, int]:
    """Hash a readable binary stream; returns (oid, number of bytes read).

    One buffer is reused for every read: a fresh 1 MiB bytes object per read would cost a
    memory mapping and its page faults each time."""
    hasher = new_hasher()
    buf = _buffer(chunk)
    view = memoryview(buf)
    size = 0
    while n := stream.readinto(buf):  # type: ignore[attr-defined]
        hasher.update(view[:n])
        size += n
    return hasher.hexdigest(), size


_local = threading.local()


def _buffer(size: int) -> bytearray:
    """A read buffer reused by every call on this thread."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None or len(buf) != size:
        buf = _local.buf = bytearray(size)
    return buf


def hash_file(path: str, chunk: int = CHUNK) -> tuple[str, int]:
    with open(path, "rb", buffering=0) as f:
        return hash_stream(f, chunk)


def is_oid(value: object) -> bool:
    return isinstance(value, str) and OID_RE.fullmatch(value) is not None


@dataclass(frozen=True, slots=True, order=True)
class ManifestEntry:
    """One file of a directory: POSIX path relative to the directory, content oid, size, +x."""

    relpath: str
    oid: str
    size: int
    isexec: bool = False


def _relpath(entry: ManifestEntry) -> str:
    return entry.relpath


@dataclass(frozen=True, slots=True)
class Manifest:
    entries: tuple[ManifestEntry, ...]
    _encoded: bytes | None = field(default=None, compare=False, repr=False)  # to_bytes, kept

    @classmethod
    def build(cls, entries: Iterable[ManifestEntry]) -> Manifest:
        return cls(tuple(sorted(entries, key=_relpath)))

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def nfiles(self) -> int:
        return len(self.entries)

    def to_bytes(self) -> bytes:
        """Canonical form, identical on every machine and for every file-system order."""
        if self._encoded is not None:
            return self._encoded
        rows = [[e.relpath, e.oid, e.size, e.isexec] for e in self.entries]
        data = json.dumps(
            {"schema": MANIFEST_SCHEMA, "files": rows}, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        object.__setattr__(self, "_encoded", data)  # entries are immutable: so are these
        return data

    def oid(self) -> str:
        return hash_bytes(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse a stored manifest; ValueError when it is not one."""
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
            raise ValueError("not a gitflowml directory manifest")
        entries = []
        for row in doc["files"]:
            relpath, oid, size, isexec = row
            if not (isinstance(relpath, str) and is_oid(oid) and isinstance(size, int)):
                raise ValueError(f"bad manifest row {row!r}")
            entries.append(ManifestEntry(relpath, oid, size, bool(isexec)))
        return cls(tuple(entries))

    def by_path(self) -> dict[str, ManifestEntry]:
        return {e.relpath: e for e in self.entries}
