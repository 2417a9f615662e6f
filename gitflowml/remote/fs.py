"""A remote cache: the same layout as `.gitflowml/cache` (`ab/cdef…`, `ab/cdef….dir`,
`runs/ab/cdef…`) at the root of any fsspec URL (SPEC section 4).

A plain path or `file://` URL is handled with the operating system directly: copies go to a
temporary name beside the object and are renamed into place, so an interrupted push never
leaves a truncated object. Every other protocol goes through fsspec (imported here only),
with its batch APIs, which s3fs runs concurrently; an S3 PUT is atomic by itself.

Which objects a remote has is found by per-object checks for a few keys, and by listing
each fan-out directory concerned for many (one request per directory instead of one per
object). Errors of the file system become one `RemoteError` naming the remote and what to
do: an unreachable endpoint, refused credentials, a missing bucket.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gitflowml.config import RemoteConfig
from gitflowml.errors import RemoteError
from gitflowml.remote import connect
from gitflowml.util import fsutil, tmpfiles

CHUNK = 128  # files per thread-pool task for directory remotes: amortises the pool's cost
FEW_KEYS = 64  # up to this many keys are checked one by one; more: list their directories
BATCH = 256  # files per fsspec put/get call (s3fs runs each call's files concurrently)
WRITE_BLOCK = 5 << 20  # part size of a streamed S3 upload (S3's least): what a writer holds

Progress = Callable[[int, int], None]  # (files done in this step, bytes done in this step)


class RemoteFs:
    """Keys are POSIX paths relative to the remote's root (`ab/cdef…`, `runs/ab/cd…`)."""

    def __init__(self, config: RemoteConfig, root: Path, jobs: int) -> None:
        self.name = config.name
        self.url = config.url
        self.jobs = jobs
        protocol, _, rest = config.url.partition("://")
        if not rest:
            protocol, rest = "file", config.url
        self.protocol = protocol
        self.local: Path | None = None
        self._fs: Any = None
        self._made: set[str] = set()  # local directories known to exist
        if protocol == "file":
            path = Path(os.path.expanduser(rest))
            self.local = path if path.is_absolute() else (root / path).resolve()
            self.base = str(self.local)
        else:
            self.base = rest.rstrip("/")
            self._options = config.fs_options

    @property
    def fs(self) -> Any:
        if self._fs is None:
            with self.errors():
                self._fs = connect.filesystem(self.protocol, self._options)
        return self._fs

    def _abs(self, key: str) -> str:
        return f"{self.base}/{key}"

    # -- errors ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def errors(self, doing: str = "") -> Iterator[None]:
        """Turn what the file system raises into one RemoteError naming this remote."""
        try:
            yield
        except RemoteError:
            raise
        except Exception as exc:
            raise RemoteError(connect.explain(self.name, self.url, exc, doing)) from exc

    # -- what is there -----------------------------------------------------------------------
    def has(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` exist on the remote."""
        if not keys:
            return set()
        with self.errors("checking which objects it has"):
            if self.local is not None:
                return self._has_local(keys)
            if len(keys) <= FEW_KEYS:
                with ThreadPoolExecutor(max_workers=min(self.jobs, len(keys))) as pool:
                    found = list(pool.map(lambda k: self.fs.exists(self._abs(k)), keys))
                return {k for k, ok in zip(keys, found, strict=True) if ok}
            dirs = sorted({posixpath.dirname(k) for k in keys})
            # estimate the remote's size from one directory, as DVC does: a small remote is
            # listed whole (one request per 1,000 objects), a large one by directory
            sample = self.list_dirs(dirs[:1])
            estimate = len(sample) * 256
            if estimate // 1000 + 1 <= max(1, len(dirs) // self.jobs):
                listed = self.list_all()
            else:
                listed = sample | self.list_dirs(dirs[1:])
            return {k for k in keys if k in listed}

    def _has_local(self, keys: Sequence[str]) -> set[str]:
        assert self.local is not None
        by_dir: dict[str, list[str]] = {}
        for key in keys:
            by_dir.setdefault(posixpath.dirname(key), []).append(key)
        found: set[str] = set()
        for directory, wanted in by_dir.items():
            try:
                present = set(os.listdir(self.local / directory))
            except (FileNotFoundError, NotADirectoryError):
                continue
            found.update(k for k in wanted if posixpath.basename(k) in present)
        return found

    def list_dirs(self, directories: Sequence[str]) -> set[str]:
        """Every key directly inside the given directories (relative to the root)."""
        if self.local is not None:
            out: set[str] = set()
            for directory in directories:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    out.update(f"{directory}/{n}" for n in os.listdir(self.local / directory))
            return out

        def one(directory: str) -> list[str]:
            try:
                self.fs.invalidate_cache(self._abs(directory))  # what is there now
                names = self.fs.ls(self._abs(directory), detail=False)
            except FileNotFoundError as exc:
                if "bucket" in str(exc).lower():
                    raise
                return []
            return [f"{directory}/{posixpath.basename(str(n).rstrip('/'))}" for n in names]

        with self.errors("listing objects"), ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return {k for keys in pool.map(one, directories) for k in keys}

    def list_all(self, under: str = "") -> set[str]:
        """Every key on the remote (below `under`)."""
        with self.errors("listing objects"):
            if self.local is not None:
                top = self.local / under if under else self.local
                out: set[str] = set()
                for dirpath, _dirs, files in os.walk(top):
                    rel = Path(dirpath).relative_to(self.local).as_posix()
                    out.update(n if rel == "." else f"{rel}/{n}" for n in files)
                return {k for k in out if not posixpath.basename(k).startswith(".")}  # temps
            try:
                found = self.fs.find(self._abs(under) if under else self.base)
            except FileNotFoundError as exc:
                if "bucket" in str(exc).lower():
                    raise
                return set()
            prefix = self.base.rstrip("/") + "/"
            return {str(p)[len(prefix) :] for p in found if str(p).startswith(prefix)}

    def stats(self, under: str = "") -> dict[str, tuple[int, float]]:
        """(size, modification time) of every key below `under` (temporaries included)."""
        with self.errors("listing objects"):
            out: dict[str, tuple[int, float]] = {}
            if self.local is not None:
                top = self.local / under if under else self.local
                for dirpath, _dirs, files in os.walk(top):
                    rel = Path(dirpath).relative_to(self.local).as_posix()
                    for n in files:
                        with contextlib.suppress(FileNotFoundError):
                            st = os.stat(os.path.join(dirpath, n))
                            out[n if rel == "." else f"{rel}/{n}"] = (st.st_size, st.st_mtime)
                return out
            try:
                found = self.fs.find(self._abs(under) if under else self.base, detail=True)
            except FileNotFoundError:
                return out
            prefix = self.base.rstrip("/") + "/"
            for path, info in found.items():
                stamp = info.get("mtime") or info.get("LastModified") or info.get("created")
                when = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp or 0)
                if str(path).startswith(prefix):
                    out[str(path)[len(prefix) :]] = (int(info.get("size") or 0), when)
            return out

    def remove_orphans(
        self, max_age: float, listed: dict[str, tuple[int, float]] | None = None
    ) -> int:
        """Remove the orphaned temporaries of interrupted pushes (see `tmpfiles`), older
        than `max_age` unless their process is known dead; returns how many. `listed`: the
        `stats()` the caller has already (not listed again)."""
        if self.local is not None:
            with self.errors("removing temporaries"):
                return tmpfiles.clean_tree(self.local, max_age) if self.local.exists() else 0
        doomed = [
            key
            for key, (_size, when) in (self.stats() if listed is None else listed).items()
            if tmpfiles.orphaned(posixpath.basename(key), when, max_age)
        ]
        self.delete(doomed)
        return len(doomed)

    # -- moving ------------------------------------------------------------------------------
    def upload(self, pairs: Sequence[tuple[Path, str]], progress: Progress | None = None) -> None:
        """Copy each local file to its key. Readers never see a partial object."""
        if not pairs:
            return
        with self.errors("uploading"):
            if self.local is not None:
                self._each(pairs, self._put_local, progress)
                return
            for i in range(0, len(pairs), BATCH):
                batch = pairs[i : i + BATCH]
                self.fs.put(
                    [str(p) for p, _ in batch],
                    [self._abs(k) for _, k in batch],
                    batch_size=self.jobs,
                )
                if progress:
                    progress(len(batch), sum(p.stat().st_size for p, _ in batch))

    def _put_local(self, src: Path, key: str) -> int:
        """Copy to a temporary name beside the object, then link it into place (on ext4 a
        link of a fresh file costs far less than a rename; see fsutil.publish)."""
        assert self.local is not None
        dest = self.local / key
        parent = str(dest.parent)
        if parent not in self._made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmpfiles.clean_dir(parent)  # a killed push's orphans, where this one writes
            self._made.add(parent)
        tmp = tmpfiles.path_in(parent)
        try:
            size = _copy(str(src), tmp)
            fsutil.publish(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return size

    def download(self, pairs: Sequence[tuple[str, Path]], progress: Progress | None = None) -> None:
        """Copy each key to a local path (a temporary name: the caller verifies and publishes)."""
        if not pairs:
            return
        with self.errors("downloading"):
            if self.local is not None:
                local = self.local

                def get(key: str, dest: Path) -> int:
                    return _copy(str(local / key), str(dest))

                self._each(pairs, get, progress)
                return
            for i in range(0, len(pairs), BATCH):
                batch = pairs[i : i + BATCH]
                self.fs.get(
                    [self._abs(k) for k, _ in batch],
                    [str(p) for _, p in batch],
                    batch_size=self.jobs,
                )
                if progress:
                    progress(len(batch), sum(p.stat().st_size for _, p in batch))

    def read_small(self, key: str) -> bytes | None:
        """A local remote's object in one read if it is small (else None: copy it)."""
        assert self.local is not None
        with self.errors("reading"):
            fd = os.open(self.local / key, os.O_RDONLY)
            try:
                data = os.read(fd, min(os.fstat(fd).st_size, _SMALL) + 1)
            finally:
                os.close(fd)
        return data if len(data) <= _SMALL else None

    def read(self, key: str) -> bytes:
        with self.errors("reading"):
            if self.local is not None:
                return (self.local / key).read_bytes()
            return bytes(self.fs.cat_file(self._abs(key)))

    def write(self, key: str, data: bytes) -> None:
        with self.errors("writing"):
            if self.local is not None:
                dest = self.local / key
                dest.parent.mkdir(parents=True, exist_ok=True)
                fsutil.atomic_write_bytes(dest, data)
                return
            self.fs.pipe_file(self._abs(key), data)

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[Callable[[bytes], Any]]:
        """Stream a new file to `key`, block by block (never whole in memory): readers see it
        only when the block ends without an error, and then whole. On S3 a multipart upload
        is completed, or aborted on an error; on a directory a temporary is renamed."""
        if self.local is None:
            with self.errors("writing"):
                out = self.fs.open(self._abs(key), "wb", block_size=WRITE_BLOCK)
            try:
                yield out.write
            except BaseException:
                with contextlib.suppress(Exception):
                    out.discard()  # no half-written object under the final name
                raise
            with self.errors("writing"):
                out.close()
            return
        dest = self.local / key
        with self.errors("writing"):
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = tmpfiles.path_in(dest.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            yield lambda data: fsutil.write_all(fd, data)
            os.close(fd)
            fd = -1
            with self.errors("writing"):
                fsutil.publish(tmp, dest)
        finally:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def read_ranges(self, spans: Sequence[tuple[str, int, int]]) -> list[bytes]:
        """The bytes [start, end) of each (key, start, end); concurrent requests on S3."""
        if not spans:
            return []
        with self.errors("reading"):
            if self.local is not None:
                got = [_pread(self.local / key, start, end) for key, start, end in spans]
            else:
                got = self.fs.cat_ranges(
                    [self._abs(k) for k, _, _ in spans],
                    [s for _, s, _ in spans],
                    [e for _, _, e in spans],
                    batch_size=self.jobs,
                    on_error="raise",
                )
        for data, (key, start, end) in zip(got, spans, strict=True):
            if len(data) != end - start:
                raise RemoteError(
                    f"remote '{self.name}' ({self.url}): {key} is shorter than its index says; "
                    "push again from a clone with the data, then run 'gitflowml gc --cloud'"
                )
        return [bytes(d) for d in got]

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self.errors("deleting"):
            if self.local is not None:
                for key in keys:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.local / key)
                return
            for i in range(0, len(keys), 1000):
                self.fs.rm([self._abs(k) for k in keys[i : i + 1000]])

    def _each(
        self, pairs: Sequence[Any], one: Callable[..., int], progress: Progress | None
    ) -> None:
        def chunk(part: Sequence[Any]) -> int:
            return sum(one(*pair) for pair in part)

        step = max(1, min(CHUNK, len(pairs) // (4 * self.jobs) or 1))
        parts = [pairs[i : i + step] for i in range(0, len(pairs), step)]
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for part, size in zip(parts, pool.map(chunk, parts), strict=True):
                if progress:
                    progress(len(part), size)


_SMALL = 1 << 20


def _pread(path: Path, start: int, end: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, end - start, start)
    finally:
        os.close(fd)


def _copy(src: str, dst: str) -> int:
    """Copy a file: one read and one write when small, else shutil (copy_file_range)."""
    fd = os.open(src, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size  # an exact read: os.read(n) allocates n bytes first
        data = os.read(fd, min(size, _SMALL) + 1)
        if len(data) <= _SMALL:
            out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                fsutil.write_all(out, data)
            finally:
                os.close(out)
            return len(data)
    finally:
        os.close(fd)
    shutil.copyfile(src, dst)
    return os.stat(dst).st_size
