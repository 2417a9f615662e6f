"""Owns the shapes of object and run-cache keys (SPEC section 4), the same in the local
cache and on every remote: `ab/cdef…` for a file's content (the first two hex digits are
the fan-out directory), `ab/cdef….dir` for a directory's manifest, `runs/ab/cdef…` for a
run-cache entry; on a remote also `packs/<name>.pack` and `packs/<name>.idx` (SPEC section
14), whose idx files are kept in the local cache under the same keys. No other module
spells these shapes."""

from __future__ import annotations

from gitflowml.errors import InvalidOidError
from gitflowml.storage.hashing import is_oid

DIR_SUFFIX = ".dir"
RUNS_DIR = "runs"  # run-cache entries, beside the objects
PACKS_DIR = "packs"  # a remote's packs and their indexes
PACK_SUFFIX = ".pack"
IDX_SUFFIX = ".idx"


def fan(oid: str) -> str:
    """The fan-out directory an object's key starts with."""
    return oid[:2]


def object_key(oid: str, is_dir: bool = False) -> str:
    return f"{oid[:2]}/{oid[2:]}{DIR_SUFFIX if is_dir else ''}"


def check(oid: str) -> None:
    """Refuse an id that came from outside (a pointer file, a lock, a remote) unless it is
    32 lowercase hex digits, before it becomes a path."""
    if not is_oid(oid):
        raise InvalidOidError(f"{oid!r} is not a gitflowml object id (32 lowercase hex digits)")


def checked_key(oid: str, is_dir: bool = False) -> str:
    """`object_key` of a `check`ed id."""
    check(oid)
    return object_key(oid, is_dir)


def split(oid: str) -> tuple[str, str]:
    """(fan-out directory, the rest of the name)."""
    return oid[:2], oid[2:]


def split_key(oid: str, is_dir: bool = False) -> tuple[str, str]:
    """`object_key` as (fan-out directory, name inside it)."""
    return oid[:2], f"{oid[2:]}{DIR_SUFFIX if is_dir else ''}"


def run_key(key: str) -> str:
    return f"{RUNS_DIR}/{key[:2]}/{key[2:]}"


def is_manifest(key: str) -> bool:
    return key.endswith(DIR_SUFFIX)


def oid_of(key: str) -> str | None:
    """The hash an object key (`ab/cdef…`, `ab/cdef….dir`) names; None for any other key."""
    head, _, rest = key.partition("/")
    name = rest[: -len(DIR_SUFFIX)] if rest.endswith(DIR_SUFFIX) else rest
    oid = head + name
    return oid if len(head) == 2 and is_oid(oid) else None


def run_key_of(path: str) -> str | None:
    """The run-cache key a `runs/ab/cdef…` path names; None for any other path."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != RUNS_DIR or len(parts[1]) != 2:
        return None
    return parts[1] + parts[2] if is_oid(parts[1] + parts[2]) else None


def pack_key(name: str) -> str:
    return f"{PACKS_DIR}/{name}{PACK_SUFFIX}"


def idx_key(name: str) -> str:
    return f"{PACKS_DIR}/{name}{IDX_SUFFIX}"


def idx_name_of(key: str) -> str | None:
    """The pack name a `packs/<name>.idx` key names; None for any other key."""
    head, _, base = key.rpartition("/")
    if head != PACKS_DIR or not base.endswith(IDX_SUFFIX):
        return None
    name = base[: -len(IDX_SUFFIX)]
    return name if is_oid(name) else None


def pack_name_of(key: str) -> str | None:
    """The pack name a `packs/<name>.pack` key names; None for any other key."""
    head, _, base = key.rpartition("/")
    if head != PACKS_DIR or not base.endswith(PACK_SUFFIX):
        return None
    name = base[: -len(PACK_SUFFIX)]
    return name if is_oid(name) else None


# What a pack holds: kinds of entry, each named by 32 hex digits (SPEC section 14).
OBJECT, MANIFEST, RUN = 0, 1, 2


def entry_of(key: str) -> tuple[int, str] | None:
    """(kind, hex name) of an object, manifest or run-cache key; None for any other key."""
    if key.startswith(RUNS_DIR + "/"):
        run = run_key_of(key)
        return None if run is None else (RUN, run)
    oid = oid_of(key)
    if oid is None:
        return None
    return (MANIFEST if is_manifest(key) else OBJECT), oid


def key_of(kind: int, name: str) -> str:
    """The key of a pack entry: the inverse of `entry_of`."""
    return run_key(name) if kind == RUN else object_key(name, kind == MANIFEST)
