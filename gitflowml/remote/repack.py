"""`gc --cloud` on a remote: delete the loose entries nobody uses, drop packs with nothing
live, and rewrite packs less than half live (by bytes) into new ones. New packs and their
indexes are written before any old index is deleted, and an old index before its pack, so
every live entry is readable at every moment. `repack` also moves the small loose entries of
a remote written before packs (or by `pack_threshold 0`) into packs, and packs an unreferenced
pack (an interrupted push's, older than a day) is deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gitflowml.errors import RemoteError
from gitflowml.remote.store import Remote
from gitflowml.storage import hashing, layout
from gitflowml.util import tmpfiles

Alive = Callable[[str], bool]  # is the entry with this key still used?


@dataclass
class CloudReport:
    removed: int = 0  # entries deleted, loose or dropped from packs
    rewritten: int = 0  # packs rewritten (their live entries moved to new packs)
    repacked: int = 0  # loose entries moved into packs
    temporaries: int = 0  # orphaned temporaries and unreferenced packs removed


def clean(target: Remote, alive: Alive, *, dry: bool, repack: bool) -> CloudReport:
    report = CloudReport()
    stats = target.fs.stats()
    loose = {k: size for k, (size, _when) in stats.items() if layout.entry_of(k) is not None}
    doomed_loose = sorted(k for k in loose if not alive(k))
    report.removed = len(doomed_loose)
    moved: list[str] = []  # live entries to write into new packs
    old: list[str] = []  # packs to delete once they are written
    for name, rows in sorted(target.packs().items()):
        keys = [layout.key_of(r.kind, r.name) for r in rows]
        live = [(k, r.size) for k, r in zip(keys, rows, strict=True) if alive(k)]
        dead = len(rows) - len(live)
        if not live or 2 * sum(size for _k, size in live) < sum(r.size for r in rows):
            old.append(name)
            moved += [k for k, _size in live]
            report.removed += dead
            report.rewritten += bool(live)
    kept = {(r.kind, r.name) for n, rows in target.packs().items() if n not in old for r in rows}
    moved = [k for k in moved if layout.entry_of(k) not in kept]  # held elsewhere too
    packed = target.packed()
    kept_small: list[str] = []
    if repack:
        kept_small = sorted(
            k
            for k, size in loose.items()
            if size < target.threshold and alive(k) and layout.entry_of(k) not in packed
        )
        report.repacked = len(kept_small)
    if dry:
        return report
    _move(target, sorted(set(moved)), from_packs=True)
    _move(target, kept_small, from_packs=False)
    target.forget(old)
    target.fs.delete(doomed_loose + kept_small)
    report.temporaries = target.fs.remove_orphans(tmpfiles.REMOTE_AGE_S, stats)
    report.temporaries += _unreferenced(target, stats)
    return report


def _move(target: Remote, keys: list[str], from_packs: bool) -> None:
    """Read entries and write them into new packs, a pack's worth at a time, verified."""
    budget = target.pack_size
    batch: list[str] = []
    size_of = {layout.key_of(k, n): w[2] for (k, n), w in target.packed().items()}
    for key in keys:
        batch.append(key)
        budget -= size_of.get(key, 0) if from_packs else target.threshold
        if budget <= 0:
            _copy(target, batch)
            batch, budget = [], target.pack_size
    _copy(target, batch)


def _copy(target: Remote, keys: list[str]) -> None:
    if not keys:
        return
    got: dict[str, bytes] = {}
    for key in target.read_packed(keys, got.__setitem__):
        got[key] = target.read(key)
    for key, data in got.items():
        kind, name = layout.entry_of(key) or (layout.RUN, "")
        if kind != layout.RUN and hashing.hash_bytes(data) != name:
            raise RemoteError(
                f"object {key} on remote '{target.name}' is corrupt: its content does not "
                "match its hash; gc changed nothing. Push it again from a clone with a good copy"
            )
    target.pack_bytes(sorted(got.items()))


def _unreferenced(target: Remote, stats: dict[str, tuple[int, float]]) -> int:
    """Delete packs without an index (an interrupted push's) older than a day."""
    indexed = set(target.packs())
    now = time.time()
    doomed = [
        k
        for k, (_size, when) in stats.items()
        if (name := layout.pack_name_of(k)) is not None
        and name not in indexed
        and now - when > tmpfiles.REMOTE_AGE_S  # a push may be writing its index now
    ]
    target.fs.delete(doomed)
    return len(doomed)
