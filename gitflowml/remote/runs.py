"""Run-cache entries travel with the objects, in the same packs: pushed when every out
object they name is on the remote (or goes in the same pack as they do), fetched all (they
are small)."""

from __future__ import annotations

from pathlib import Path

from gitflowml import index
from gitflowml.pipeline import runcache
from gitflowml.project import Project
from gitflowml.remote.needs import Need, files_of
from gitflowml.remote.store import Remote
from gitflowml.storage import layout
from gitflowml.storage.layout import object_key, run_key
from gitflowml.storage.odb import LocalOdb


def run_cache_needs(project: Project, odb: LocalOdb) -> dict[str, Need]:
    """The out objects of every run-cache entry whose objects are all in the local cache."""
    needs: dict[str, Need] = {}
    found = index.load(project)
    local_only = index.local_only(found[0] if found else None)
    for key in runcache.keys(project.cache_dir):
        outs = runcache.get(project.cache_dir, key) or ()
        if any(o.path in local_only for o in outs):
            continue  # push: false outs never leave, nor do entries naming them
        entry_needs = [Need(o.oid, o.nfiles is not None, o.path) for o in outs]
        dirs = [n for n in entry_needs if n.is_dir]
        if not all(odb.exists(n.oid, True) for n in dirs):
            continue
        files = [n for n in entry_needs if not n.is_dir]
        files += files_of(odb, {n.key: n for n in dirs}).values()
        if odb.missing({n.oid for n in files}):
            continue  # gone from this cache (gc): the entry stays here
        needs.update((n.key, n) for n in entry_needs)
    return needs


def runs_to_push(project: Project, target: Remote, on_remote: set[str]) -> list[tuple[Path, str]]:
    """(local file, key) of the run-cache entries the remote lacks whose every out object
    is in `on_remote`."""
    local = runcache.keys(project.cache_dir)
    if not local:
        return []
    wanted = []
    for key in local:
        outs = runcache.get(project.cache_dir, key)
        if outs and all(object_key(o.oid, o.nfiles is not None) in on_remote for o in outs):
            wanted.append(run_key(key))
    there = target.has(wanted)
    return [(project.cache_dir / k, k) for k in wanted if k not in there]


def fetch_runs(project: Project, source: Remote) -> int:
    have = {run_key(k) for k in runcache.keys(project.cache_dir)}
    todo = sorted(source.run_keys() - have)
    stored: list[str] = []  # appended from read_packed's worker threads

    def keep(key: str, data: bytes) -> None:
        name = layout.run_key_of(key)
        if name is not None and runcache.put_raw(project.cache_dir, name, data):
            stored.append(key)

    for key in source.read_packed(todo, keep):
        keep(key, source.read(key))
    return len(stored)
