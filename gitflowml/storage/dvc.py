"""Owns DVC's files, read-only: `dvc.lock`, `*.dvc` files, and the md5-keyed layout of
DVC's cache and remotes (`files/md5/ab/cdef…`, `.dir` listings; DVC 2's `ab/cdef…`).

Hashes are DVC's: the md5 of a file's bytes, and for a directory the md5 of the JSON list
of its files' `{"md5", "relpath"}` sorted by path, with `.dir` appended. An entry without
`hash: md5` was written by DVC 2, which hashed text files with CRLF line ends turned to LF.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflowml.util import fsutil, yamlio

DVC_DIR = ".dvc"
DVC_YAML = "dvc.yaml"
DVC_LOCK = "dvc.lock"
SUFFIX = ".dvc"  # a `dvc add` pointer: data.csv.dvc
DIR_SUFFIX = ".dir"
_CHUNK = 1 << 20
_TEXT_PROBE = 8192

Reader = Callable[[str], bytes | None]  # a DVC cache or remote: key -> bytes, None if absent


@dataclass(frozen=True, slots=True)
class Locked:
    """A path as DVC recorded it. `md5` ends in `.dir` for a directory; `legacy`: DVC 2's
    text-normalising hash."""

    path: str
    md5: str
    size: int | None = None
    nfiles: int | None = None
    legacy: bool = False

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(DIR_SUFFIX)


@dataclass(frozen=True, slots=True)
class LockedStage:
    cmd: tuple[str, ...]
    deps: tuple[Locked, ...] = ()
    outs: tuple[Locked, ...] = ()
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # file -> key -> value


class DvcFormatError(ValueError):
    """A DVC file that cannot be read; the message names the file."""


# -- dvc.lock and .dvc files -----------------------------------------------------------------
def load_lock(text: str, shown: str = DVC_LOCK) -> dict[str, LockedStage]:
    doc = _yaml(text, shown)
    if doc is None:
        return {}
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        raise DvcFormatError(f"{shown}: no 'stages' mapping")
    out = {}
    for name, body in stages.items():
        if not isinstance(body, dict):
            raise DvcFormatError(f"{shown}: stage '{name}' is not a mapping")
        cmd = body.get("cmd", [])
        params = body.get("params") or {}
        out[str(name)] = LockedStage(
            cmd=tuple(str(c) for c in (cmd if isinstance(cmd, list) else [cmd])),
            deps=tuple(_entries(body.get("deps"), "", shown)),
            outs=tuple(_entries(body.get("outs"), "", shown)),
            params={str(f): dict(kv or {}) for f, kv in params.items()},
        )
    return out


def load_pointer(text: str, rel: str) -> list[Locked]:
    """The outs of the `.dvc` file at `rel`, their paths made relative to the repository."""
    doc = _yaml(text, rel)
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list):
        raise DvcFormatError(f"{rel}: not a .dvc file with 'outs'")
    return list(_entries(outs, posixpath.dirname(rel), rel))


def _yaml(text: str, shown: str) -> Any:
    try:
        return yamlio.loads(text)
    except yamlio.YamlError as exc:
        raise DvcFormatError(exc.where(shown)) from None


def _entries(rows: Any, base: str, shown: str) -> Iterator[Locked]:
    for row in rows or []:
        path = row.get("path") if isinstance(row, dict) else None
        if not isinstance(path, str):
            raise DvcFormatError(f"{shown}: an entry without a path")
        md5 = row.get("md5")
        if not isinstance(md5, str):
            continue  # not hashed (a URL dep, a cache: false out of old DVC): nothing to check
        yield Locked(
            posixpath.normpath(posixpath.join(base, path)),
            md5,
            row.get("size"),
            row.get("nfiles"),
            legacy=row.get("hash") != "md5",
        )


# -- hashing as DVC does -----------------------------------------------------------------------
def file_md5(path: Path, legacy: bool = False) -> str:
    with open(path, "rb") as f:
        head = f.read(_TEXT_PROBE)
        text = legacy and b"\x00" not in head
        digest = hashlib.md5(usedforsecurity=False)
        chunk = head
        while chunk:
            digest.update(chunk.replace(b"\r\n", b"\n") if text else chunk)
            chunk = f.read(_CHUNK)
    return digest.hexdigest()


def dir_listing(path: Path, legacy: bool = False) -> list[tuple[str, str]]:
    """(relpath, md5) of every file under `path`, sorted by relpath."""
    rows = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in filenames:
            full = Path(dirpath) / name
            rows.append((full.relative_to(path).as_posix(), file_md5(full, legacy)))
    return sorted(rows)


def listing_md5(rows: list[tuple[str, str]]) -> str:
    return _md5(_listing_bytes(rows)) + DIR_SUFFIX


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _listing_bytes(rows: list[tuple[str, str]]) -> bytes:
    doc = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(rows)]
    return json.dumps(doc, sort_keys=True).encode()


def md5_of(path: Path, legacy: bool = False) -> str | None:
    """DVC's hash of a workspace file or directory; None when it is not there."""
    if path.is_dir():
        return listing_md5(dir_listing(path, legacy))
    if path.is_file():
        return file_md5(path, legacy)
    return None


def matches(root: Path, entry: Locked) -> bool:
    return md5_of(root / entry.path, entry.legacy) == entry.md5


# -- DVC's cache and remotes -----------------------------------------------------------------
def object_keys(md5: str) -> tuple[str, str]:
    """Where an object is in a DVC cache or remote: DVC 3's key, then DVC 2's."""
    return f"files/md5/{md5[:2]}/{md5[2:]}", f"{md5[:2]}/{md5[2:]}"


def local_cache(root: Path) -> Reader:
    """The project's `.dvc/cache` as a reader."""
    cache = root / DVC_DIR / "cache"

    def read(key: str) -> bytes | None:
        try:
            return (cache / key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    return read


def fetch_object(md5: str, readers: list[Reader]) -> bytes | None:
    """An object's bytes from the first reader that has it, verified; None if none has."""
    for reader in readers:
        for key in object_keys(md5):
            data = reader(key)
            if data is None:
                continue
            if md5.endswith(DIR_SUFFIX) or _md5(data) == md5:  # a listing: checked by restore
                return data
    return None


def parse_listing(data: bytes, shown: str) -> list[tuple[str, str]]:
    try:
        rows = json.loads(data)
        return sorted((str(r["relpath"]), str(r["md5"])) for r in rows)
    except (ValueError, TypeError, KeyError) as exc:
        raise DvcFormatError(f"{shown}: not a DVC directory listing ({exc})") from None


def restore(root: Path, entry: Locked, readers: list[Reader]) -> bool:
    """Write `entry` into the workspace from a DVC cache or remote, each file atomically.
    False when an object is missing or a listing does not match its hash."""
    if not entry.is_dir:
        data = fetch_object(entry.md5, readers)
        if data is None:
            return False
        _write(root / entry.path, data)
        return True
    listing = fetch_object(entry.md5, readers)
    if listing is None:
        return False
    rows = parse_listing(listing, entry.path)
    if listing_md5(rows) != entry.md5:
        return False
    files = [(rel, fetch_object(md5, readers)) for rel, md5 in rows]
    if any(data is None for _, data in files):
        return False
    for rel, data in files:
        assert data is not None
        _write(root / entry.path / rel, data)
    return True


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_bytes(path, data)


# -- DVC's remotes (.dvc/config) ------------------------------------------------------------
_REMOTE_SECTION = re.compile(r"""^\s*'?remote\s+"([^"]+)"'?\s*$""")
# DVC option names that mean something else (or the same thing) to gitflowml / s3fs
_OPTION_NAMES = {
    "endpointurl": "endpoint_url",
    "access_key_id": "key",
    "secret_access_key": "secret",
}


@dataclass(frozen=True)
class DvcRemote:
    name: str
    url: str  # DVC's, rebased onto the repository root
    options: tuple[tuple[str, str, bool], ...]  # gitflowml's name, value, from config.local
    local: bool  # its url is in config.local
    default: bool

    @property
    def fs_options(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, v) for k, v, _ in self.options)


def read_remotes(root: Path) -> list[DvcRemote]:
    """The remotes of `.dvc/config` and `.dvc/config.local`; a relative URL is relative to
    `.dvc/` in DVC, and is rebased onto the repository root here."""
    dvc_dir = root / DVC_DIR
    main, local = _ini(dvc_dir / "config"), _ini(dvc_dir / "config.local")
    default = None
    for parser in (main, local):
        if parser.has_option("core", "remote"):
            default = parser.get("core", "remote")
    found: dict[str, DvcRemote] = {}
    for is_local, parser in ((False, main), (True, local)):
        for section in parser.sections():
            match = _REMOTE_SECTION.match(section)
            if not match:
                continue
            name = match.group(1)
            options = dict(parser.items(section))
            url = options.pop("url", None)
            before = found.get(name)
            extra = tuple((_OPTION_NAMES.get(k, k), v, is_local) for k, v in options.items())
            found[name] = DvcRemote(
                name,
                rebase(url) if url is not None else before.url if before else "",
                (before.options if before else ()) + extra,
                is_local if url is not None else before.local if before else is_local,
                name == default,
            )
    return list(found.values())


def rebase(url: str) -> str:
    """A DVC URL as seen from the repository root (DVC's relative paths start at .dvc/)."""
    if "://" in url or not url or os.path.isabs(url) or url.startswith("~"):
        return url
    return posixpath.normpath(posixpath.join(DVC_DIR, url))


def _ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        # DVC (configobj) indents options and quotes section names; configparser copes with
        # both once leading blanks are gone
        parser.read_string("\n".join(line.strip() for line in text.splitlines()))
    return parser
