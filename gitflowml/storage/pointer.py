"""Owns `PATH.gfml` pointer files (SPEC section 2): schema, path, hash, size, nfiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gitflowml import quick
from gitflowml.errors import PointerError
from gitflowml.storage import hashing
from gitflowml.util import fsutil, yamlio

SCHEMA = 1
SUFFIX = ".gfml"
_KEYS = {"schema", "path", "hash", "size", "nfiles", "isexec"}


@dataclass(frozen=True, slots=True)
class Pointer:
    path: str  # POSIX, relative to the pointer file's directory
    oid: str
    size: int
    nfiles: int | None = None  # set for directories
    isexec: bool = False

    @property
    def is_dir(self) -> bool:
        return self.nfiles is not None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "path": self.path,
            "hash": self.oid,
            "size": self.size,
        }
        if self.nfiles is not None:
            doc["nfiles"] = self.nfiles
        if self.isexec:
            doc["isexec"] = True
        return doc


def pointer_file_for(target: Path) -> Path:
    return target.with_name(target.name + SUFFIX)


def dump(pointer: Pointer, path: Path) -> None:
    fsutil.atomic_write_text(path, yamlio.dumps(pointer.to_dict()))


def load(path: Path, name: str | None = None) -> Pointer:
    """Parse a pointer file; errors call it `name` (e.g. its path relative to the root)."""
    shown = name or str(path)
    quick.note(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PointerError(f"{shown} does not exist") from None
    except UnicodeDecodeError:
        raise PointerError(f"{shown} is not a text file; restore it with 'git checkout'") from None
    return loads(text, shown)


def loads(text: str, shown: str) -> Pointer:
    """Parse a pointer file's text (e.g. as stored in a git commit)."""
    try:
        doc = yamlio.loads(text)
    except yamlio.YamlError as exc:
        raise PointerError(
            f"{exc.where(shown)}; restore it with 'git checkout' or re-add the data"
        ) from exc
    return _from_dict(doc, shown)


def _from_dict(doc: Any, where: str) -> Pointer:
    def bad(what: str) -> PointerError:
        return PointerError(f"{where}: {what}; restore it with 'git checkout' or re-add the data")

    if not isinstance(doc, dict):
        raise bad("not a pointer file (expected a mapping)")
    if doc.get("schema") != SCHEMA:
        raise bad(f"schema {doc.get('schema')!r} is not supported (expected {SCHEMA})")
    unknown = set(doc) - _KEYS
    if unknown:
        raise bad(f"unknown keys {sorted(unknown)}")
    rel, oid, size, nfiles = doc.get("path"), doc.get("hash"), doc.get("size"), doc.get("nfiles")
    if not isinstance(rel, str) or not rel or PurePosixPath(rel).is_absolute():
        raise bad("'path' must be a relative path")
    if ".." in PurePosixPath(rel).parts:
        raise bad("'path' must not leave the pointer's directory")
    if not isinstance(oid, str) or not hashing.is_oid(oid):
        raise bad("'hash' must be 32 lowercase hex digits")
    if not isinstance(size, int) or size < 0:
        raise bad("'size' must be a whole number of bytes")
    if nfiles is not None and (not isinstance(nfiles, int) or nfiles < 0):
        raise bad("'nfiles' must be a whole number")
    return Pointer(path=rel, oid=oid, size=size, nfiles=nfiles, isexec=bool(doc.get("isexec")))
