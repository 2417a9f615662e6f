"""`gitflowml ls URL [PATH]`: what another repository holds at a revision, git files and
tracked data alike, read from a blob-less mirror (`scm.mirror`) without a checkout. Data
comes from its pointer files and its lock (gitflowml), or its `.dvc` files and `dvc.lock`
(DVC); a pointer file itself is not listed, the data it names is."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from gitflowml.errors import PointerError, RegistryError
from gitflowml.pipeline import lockfile
from gitflowml.scm import mirror
from gitflowml.storage import dvc, pointer


@dataclass(frozen=True, slots=True)
class Item:
    path: str  # relative to the listed PATH's repository root
    kind: str  # "data" (tracked by gitflowml or DVC), "file" (in git) or "dir"
    size: int | None = None  # data only (git files are not fetched to be measured)
    hash: str = ""  # data: its content hash (xxh3, or md5 for DVC); git: the blob id
    nfiles: int | None = None  # a data directory's file count
    executable: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    url: str
    commit: str
    items: list[Item]


def ls(url: str, path: str = "", rev: str | None = None, recursive: bool = False) -> Listing:
    source = mirror.mirror(url)
    commit = mirror.resolve(source, url, rev)
    files = mirror.tree(source, commit)
    data = _data(source, url, commit, files)
    hidden = {e.path for e in files if _is_index(e.path)}
    items = [Item(e.path, "file", None, e.oid, None, e.executable) for e in files]
    items = [i for i in items if i.path not in hidden and i.path not in data] + list(data.values())
    base = path.strip("/")
    if base:
        whole = [i for i in items if i.path == base]
        inside = [i for i in items if i.path.startswith(base + "/")]
        if not whole and not inside:
            raise RegistryError(
                f"{url} has no '{base}' at {commit[:8]}; 'gitflowml ls {url}' shows what it has"
            )
        if whole:
            return Listing(url, commit, whole)
        items = inside
    return Listing(url, commit, _shown(items, base, recursive))


def _shown(items: list[Item], base: str, recursive: bool) -> list[Item]:
    """Everything under `base` with -R, else its direct entries (subdirectories once)."""
    if recursive:
        return sorted(items, key=lambda i: i.path)
    out: dict[str, Item] = {}
    prefix = base + "/" if base else ""
    for item in items:
        rest = item.path[len(prefix) :]
        head, sep, _ = rest.partition("/")
        if sep:
            out.setdefault(prefix + head, Item(prefix + head, "dir"))
        else:
            out[item.path] = item
    return [out[k] for k in sorted(out)]


def _is_index(path: str) -> bool:
    name = posixpath.basename(path)
    return name.endswith(pointer.SUFFIX) or name.endswith(dvc.SUFFIX)


def _data(source: Path, url: str, commit: str, files: list[mirror.TreeEntry]) -> dict[str, Item]:
    """Tracked data, by path: from pointer files, the lock, `.dvc` files and `dvc.lock`."""
    names = [
        e.path for e in files if _is_index(e.path) or e.path in (lockfile.LOCK_FILE, dvc.DVC_LOCK)
    ]
    blobs = mirror.read(source, [f"{commit}:{n}" for n in names])
    found: dict[str, Item] = {}
    for name, blob in zip(names, blobs, strict=True):
        if blob is None:
            continue
        text = blob.decode("utf-8", "replace")
        try:
            if name.endswith(pointer.SUFFIX):
                ptr = pointer.loads(text, name)
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), ptr.path))
                found[target] = Item(target, "data", ptr.size, ptr.oid, ptr.nfiles, ptr.isexec)
            elif name == lockfile.LOCK_FILE:
                for stage in lockfile.loads(text, name).stages.values():
                    for e in stage.outs:
                        found[e.path] = Item(e.path, "data", e.size, e.oid, e.nfiles)
            elif name == dvc.DVC_LOCK:
                for dstage in dvc.load_lock(text, name).values():
                    for d in dstage.outs:
                        found[d.path] = Item(d.path, "data", d.size, d.md5, d.nfiles)
            else:
                for d in dvc.load_pointer(text, name):
                    found[d.path] = Item(d.path, "data", d.size, d.md5, d.nfiles)
        except (PointerError, dvc.DvcFormatError, ValueError) as exc:
            raise RegistryError(f"{url}: {name} at {commit[:8]} cannot be read ({exc})") from None
    return found
