"""A remote's objects, manifests and run-cache entries, loose or packed (SPEC section 14).

Entries smaller than the remote's `pack_threshold` are pushed in packs of up to its
`pack_size`, each written whole (streamed) before its index, so an index never names bytes
that are not there; larger entries stay loose (`RemoteFs`). What the packs hold is read from
their indexes: one listing of `packs/`, and a GET for each index not yet in the local cache
(`<cache>/packs/<name>.idx`, immutable, so never fetched twice). Packed entries are read
with ranged reads that merge neighbours.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import xxhash

from gitflowml.config import RemoteConfig
from gitflowml.errors import RemoteError
from gitflowml.remote import packfmt
from gitflowml.remote.fs import Progress, RemoteFs
from gitflowml.remote.packfmt import BadIndexError, Member, Row
from gitflowml.storage import layout
from gitflowml.util import fsutil

MIN_PACK = 4 << 20  # a push is split into at least `jobs` packs, none smaller than this
MERGE_GAP = 256 << 10  # neighbouring entries this close are read in one ranged read
MAX_SPAN = 4 << 20  # but no read longer than this (memory, and work to share out)
PROGRESS_EVERY = 64  # entries written between progress reports

Entry = tuple[int, str]  # (kind, hex name): layout.entry_of
Where = tuple[str, int, int]  # (pack name, offset, size)
OnData = Callable[[str, bytes], None]  # (key, bytes read), called from worker threads


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    member: Member
    source: Path | bytes  # a local file, or a run-cache entry's bytes


class Remote:
    """Keys as in the local cache (`ab/cdef…`, `ab/cdef….dir`, `runs/ab/cdef…`)."""

    def __init__(
        self, config: RemoteConfig, root: Path, jobs: int, idx_dir: Path | None = None
    ) -> None:
        self.fs = RemoteFs(config, root, jobs)
        self.name, self.url, self.jobs, self.local = self.fs.name, config.url, jobs, self.fs.local
        self.threshold = config.size_option("pack_threshold")
        self.pack_size = config.size_option("pack_size")
        self.idx_dir = idx_dir  # where idx files are cached (None: not kept)
        self._packed: dict[Entry, Where] | None = None
        self._packs: dict[str, list[Row]] | None = None
        self._lock = threading.Lock()

    def errors(self, doing: str = "") -> contextlib.AbstractContextManager[None]:
        return self.fs.errors(doing)

    # -- what the packs hold -------------------------------------------------------------------
    def packs(self) -> dict[str, list[Row]]:
        """Every pack with an index, by name: its rows."""
        if self._packs is None:
            listed = self.fs.list_dirs([layout.PACKS_DIR])
            names = sorted(n for k in listed if (n := layout.idx_name_of(k)) is not None)
            cached = {n: rows for n in names if (rows := self._cached(n)) is not None}
            todo = [n for n in names if n not in cached]
            if todo:
                with ThreadPoolExecutor(max_workers=min(self.jobs, len(todo))) as pool:
                    cached.update(zip(todo, pool.map(self._fetch_idx, todo), strict=True))
            self._packs = cached
        return self._packs

    def packed(self) -> dict[Entry, Where]:
        """Where each packed entry is (the first pack that has it)."""
        if self._packed is None:
            found: dict[Entry, Where] = {}
            for name, rows in self.packs().items():
                for r in rows:
                    found.setdefault((r.kind, r.name), (name, r.offset, r.size))
            self._packed = found
        return self._packed

    def _lookup(self, entries: Sequence[Entry | None]) -> dict[Entry, Where]:
        """`packed()`, listed again if it was listed by an earlier call and lacks one of
        `entries` (someone else, a Dask worker say, may have pushed it since)."""
        listed_before = self._packs is not None
        packed = self.packed()
        if listed_before and any(e not in packed for e in entries):
            self._packs = self._packed = None
            packed = self.packed()
        return packed

    def _cached(self, name: str) -> list[Row] | None:
        if self.idx_dir is None:
            return None
        try:
            data = (self.idx_dir / layout.idx_key(name)).read_bytes()
            return packfmt.decode_idx(data)[0]
        except (OSError, BadIndexError):
            return None  # not cached, or damaged here: read the remote's

    def _fetch_idx(self, name: str) -> list[Row]:
        key = layout.idx_key(name)
        data = self.fs.read(key)
        try:
            rows = packfmt.decode_idx(data)[0]
        except BadIndexError as exc:
            raise RemoteError(
                f"remote '{self.name}' ({self.url}): pack index {key} is damaged ({exc}); "
                f"delete it and run 'gitflowml push' from a clone that has the data"
            ) from None
        self._keep_idx(name, data)
        return rows

    def _keep_idx(self, name: str, data: bytes) -> None:
        if self.idx_dir is not None:
            with contextlib.suppress(OSError):  # a cache: losing it costs a GET, no more
                dest = self.idx_dir / layout.idx_key(name)
                dest.parent.mkdir(parents=True, exist_ok=True)
                fsutil.atomic_write_bytes(dest, data)

    # -- what is there -------------------------------------------------------------------------
    def has(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` the remote holds, packed or loose."""
        if not keys:
            return set()
        entries = [layout.entry_of(k) for k in keys]
        with self.errors("checking which objects it has"):
            packed = self._lookup(entries)
        found = {k for k, e in zip(keys, entries, strict=True) if e in packed}
        rest = [k for k in keys if k not in found]
        return found | self.fs.has(rest)

    def run_keys(self) -> set[str]:
        """The keys of every run-cache entry on the remote, packed or loose."""
        with self.errors("listing run-cache entries"):
            packed = {layout.run_key(n) for (kind, n) in self.packed() if kind == layout.RUN}
        return packed | self.fs.list_all(layout.RUNS_DIR)

    # -- pushing -------------------------------------------------------------------------------
    def upload(
        self,
        pairs: Sequence[tuple[Path, str]],
        progress: Progress | None = None,
        spread: bool = True,
    ) -> None:
        """Store each local file under its key: small ones packed, the rest loose. When this
        returns, every one is readable (an interrupted call leaves no index to missing bytes).
        `spread`: split the packed ones into packs written side by side; else one pack (up to
        `pack_size`), so they appear at the same moment."""
        small: list[_Item] = []
        large: list[tuple[Path, str]] = []
        for path, key in pairs:
            entry = layout.entry_of(key)
            size = os.stat(path).st_size
            if entry is None or size >= self.threshold:
                large.append((path, key))
            elif entry[0] == layout.RUN:  # not named by its content: hash it for the name
                data = path.read_bytes()
                digest = xxhash.xxh3_128_hexdigest(data)
                small.append(_Item(key, Member(entry[0], entry[1], digest, len(data)), data))
            else:
                small.append(_Item(key, Member(entry[0], entry[1], entry[1], size), path))
        self.fs.upload(large, progress)
        self._pack(small, progress, self.jobs if spread else 1)

    def pack_bytes(self, entries: Sequence[tuple[str, bytes]]) -> None:
        """Store entries given as (key, bytes), all packed (gc's rewrites), side by side."""
        items = []
        for key, data in entries:
            entry = layout.entry_of(key)
            if entry is None:
                raise ValueError(f"not an entry key: {key}")
            digest = xxhash.xxh3_128_hexdigest(data) if entry[0] == layout.RUN else entry[1]
            items.append(_Item(key, Member(entry[0], entry[1], digest, len(data)), data))
        self._pack(items, None, self.jobs)

    def _pack(self, items: list[_Item], progress: Progress | None, jobs: int) -> None:
        groups = self._groups(items, jobs)
        if not groups:
            return
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(groups))) as pool:
            for _ in pool.map(lambda g: self._write_pack(g, progress), groups):
                pass

    def _groups(self, items: list[_Item], jobs: int) -> list[list[_Item]]:
        """Packs of about equal size: at least `jobs` of them (none under MIN_PACK) so they
        upload side by side, none over `pack_size`, in the given order."""
        total = sum(i.member.size for i in items)
        if not items:
            return []
        count = max(math.ceil(total / self.pack_size), min(jobs, total // MIN_PACK), 1)
        target = math.ceil(total / count)
        groups: list[list[_Item]] = [[]]
        filled = 0
        for item in items:
            size = item.member.size
            if groups[-1] and (filled + size > self.pack_size or filled >= target):
                groups.append([])
                filled = 0
            groups[-1].append(item)
            filled += size
        return groups

    def _write_pack(self, items: list[_Item], progress: Progress | None) -> None:
        members = [i.member for i in items]
        name = packfmt.pack_name(members)
        if self._packs is not None and name in self._packs:  # the same entries: written
            if progress:
                progress(len(items), sum(m.size for m in members))
            return
        rows = packfmt.rows_of(members)
        done = nbytes = 0
        with self.fs.writer(layout.pack_key(name)) as write:
            for item in items:
                data = item.source if isinstance(item.source, bytes) else item.source.read_bytes()
                if len(data) != item.member.size:
                    raise RemoteError(
                        f"the cached object of {item.key} changed while it was being pushed"
                    )
                write(data)
                done, nbytes = done + 1, nbytes + len(data)
                if progress and done == PROGRESS_EVERY:
                    progress(done, nbytes)
                    done = nbytes = 0
        idx = packfmt.encode_idx(rows)
        self.fs.write(layout.idx_key(name), idx)  # after its pack: it names only bytes there
        self._keep_idx(name, idx)
        if progress and done:
            progress(done, nbytes)
        with self._lock:
            if self._packs is not None:
                self._packs[name] = rows
            if self._packed is not None:
                for r in rows:
                    self._packed.setdefault((r.kind, r.name), (name, r.offset, r.size))

    def forget(self, names: Sequence[str]) -> None:
        """Delete packs: each index first, so no index ever names a missing pack."""
        self.fs.delete([layout.idx_key(n) for n in names])
        self.fs.delete([layout.pack_key(n) for n in names])
        self._packs = self._packed = None

    # -- fetching ------------------------------------------------------------------------------
    def read_packed(self, keys: Sequence[str], on_data: OnData) -> list[str]:
        """Read the packed ones of `keys`, passing each entry's bytes (unverified) to
        `on_data`, from worker threads; return the keys that are not packed."""
        entries = [layout.entry_of(k) for k in keys]
        with self.errors("reading pack indexes"):
            packed = self._lookup(entries)
        loose: list[str] = []
        by_pack: dict[str, list[tuple[int, int, str]]] = {}
        for key, entry in zip(keys, entries, strict=True):
            where = packed.get(entry) if entry is not None else None
            if where is None:
                loose.append(key)
            else:
                by_pack.setdefault(where[0], []).append((where[1], where[2], key))
        spans = list(_spans(by_pack))

        def read(span: _Span) -> None:
            data = b""  # empty entries only: nothing to read (a zero-length range is no range)
            if span.end > span.start:
                (data,) = self.fs.read_ranges([(layout.pack_key(span.pack), span.start, span.end)])
            view = memoryview(data)
            for offset, size, key in span.rows:
                at = offset - span.start
                on_data(key, bytes(view[at : at + size]))

        if spans:
            with ThreadPoolExecutor(max_workers=min(self.jobs, len(spans))) as pool:
                for _ in pool.map(read, spans):
                    pass
        return loose

    def read(self, key: str) -> bytes:
        """One entry's bytes, packed or loose (unverified)."""
        got: list[bytes] = []
        if self.read_packed([key], lambda _k, data: got.append(data)):
            return self.fs.read(key)
        return got[0]

    def download(self, pairs: Sequence[tuple[str, Path]], progress: Progress | None = None) -> None:
        """Copy loose entries to local paths (see `RemoteFs.download`)."""
        self.fs.download(pairs, progress)

    def read_small(self, key: str) -> bytes | None:
        return self.fs.read_small(key)

    def write(self, key: str, data: bytes) -> None:
        """Store one entry loose (an entry alone is not worth a pack)."""
        self.fs.write(key, data)


@dataclass
class _Span:
    pack: str
    start: int
    end: int
    rows: list[tuple[int, int, str]]  # (offset, size, key)


def _spans(by_pack: dict[str, list[tuple[int, int, str]]]) -> Iterator[_Span]:
    """Ranged reads covering the rows, neighbours merged (gaps up to MERGE_GAP, reads up to
    MAX_SPAN long)."""
    for pack, rows in by_pack.items():
        rows.sort()
        span: _Span | None = None
        for offset, size, key in rows:
            end = offset + size
            if span is not None and offset - span.end <= MERGE_GAP and end - span.start <= MAX_SPAN:
                span.end = max(span.end, end)
                span.rows.append((offset, size, key))
                continue
            if span is not None:
                yield span
            span = _Span(pack, offset, end, [(offset, size, key)])
        if span is not None:
            yield span


def open_remote(config: RemoteConfig, root: Path, jobs: int, idx_dir: Path | None = None) -> Remote:
    return Remote(config, root, jobs, idx_dir)
