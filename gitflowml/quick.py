"""Owns the quick answers in `.gitflowml/tmp/quick/`: a no-op `status` or `repro`, or an
`exp show` of nothing new, answered by `stat` calls alone, without importing the rest of
gitflowml.

A command line that may be answered this way (`status`, `status --json`, `repro`,
`exp show`, `exp show --json`, each with or without `-q`) is *armed* at start-up. While it
runs, every module that reads something the answer depends on notes it here: files by path
(absent ones too), directories as whole trees, and `git ls-files` calls by their arguments
and output. When the command exits with 0, nothing spoiled it (a stage ran, a dep is a URL,
something went to stderr, an experiment is running), and no noted input changed while it
ran or in the 50 ms before it started (the hash state's racy window), its output and a
signature of every input are saved.

The hash state is not an input: its rows are checked against stat data anyway, except the
marks of directories whose objects are all in the cache, and whatever removes objects clears
those marks and every saved answer with them (`forget_all`).

The next identical invocation (same arguments, directory, terminal-ness, GIT_* and
GITFLOWML_* environment and gitflowml version) compares each file's (mode, inode, device,
size, mtime_ns, ctime_ns), each tree's signature, and the output of each `git ls-files` call
with what was saved; when all match it prints the saved output. A tree whose signature
differs only by files with new stat data but the same mode and size still matches when
those files hash to what the command knew them as (`<answer>.rows`, `_only_touched`).
Any other difference, or any error while checking, falls back to running the command.
This trusts file metadata exactly as far as the hash state does. `GITFLOWML_QUICK=0` turns it off.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import time
from typing import IO, Any, TextIO, cast

SCHEMA = 1
RACY_NS = 50_000_000  # as state.RACY_NS
DOT_DIR = ".gitflowml"  # as project.DOT_DIR
QUICK_DIR = ("tmp", "quick")
DETAIL = ".rows"  # beside an answer: its trees' stat rows and files' hashes, read on a miss
DISABLE_ENV = "GITFLOWML_QUICK"
_QUIET = ("-q", "--quiet")
_FORMS = (
    ("status",),
    ("status", "--json"),
    ("repro",),
    ("exp", "show"),
    ("exp", "show", "--json"),
)

Sig = tuple[int, int, int, int, int, int] | None


def _command(args: list[str]) -> tuple[str, ...]:
    return tuple(args[1:] if args[:1] and args[0] in _QUIET else args)


def eligible(args: list[str]) -> bool:
    return os.environ.get(DISABLE_ENV, "1") != "0" and _command(args) in _FORMS


def _material(args: list[str], cwd: str) -> tuple[Any, ...]:
    from gitflowml import __version__

    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("GIT", "PATH"))))
    ttys = (_isatty(sys.stdout), _isatty(sys.stderr))
    return (SCHEMA, __version__, tuple(args), cwd, ttys, env)


def _isatty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _root(cwd: str) -> str | None:
    here = cwd
    while True:
        if os.path.isdir(os.path.join(here, DOT_DIR)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _memo_path(root: str, material: tuple[Any, ...]) -> str:
    import zlib

    name = f"{zlib.crc32(repr(material).encode('utf-8', 'surrogateescape')):08x}"
    return os.path.join(root, DOT_DIR, *QUICK_DIR, name)


def _sig(path: str) -> Sig:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mode, st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _tree(path: str) -> tuple[bytes, int, list[tuple[Any, ...]], list[bytes]]:
    """A digest of the stat data of everything under `path`, its newest m/ctime, the rows
    digested ((path, mode, inode, size, mtime_ns, ctime_ns), or (path, None)), sorted by
    path, and their `marshal` form by CHUNK rows (the digest is that of the chunks')."""
    import xxhash

    rows: list[tuple[Any, ...]] = []
    stack = [path]
    while stack:
        directory = stack.pop()
        try:
            it = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            rows.append((directory, None))
            continue
        with it:
            for entry in it:
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    rows.append((entry.path, None))
                    continue
                rows.append(
                    (entry.path, st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                )
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    rows.sort(key=lambda r: r[0])
    newest = max((max(r[4], r[5]) for r in rows if len(r) > 2), default=0)
    chunks = [marshal.dumps(rows[i : i + CHUNK]) for i in range(0, len(rows), CHUNK)]
    digests = b"".join(xxhash.xxh3_64_digest(c) for c in chunks)
    return xxhash.xxh3_128_digest(digests), newest, rows, chunks


CHUNK = 256  # rows of a tree digested (and kept for `_only_touched`) together
TOUCHED_MAX = 64  # more files than this with new stat data: run the command instead


def _only_touched(
    detail: dict[str, Any],
    tree: str,
    saved: bytes,
    rows: list[tuple[Any, ...]],
    chunks: list[bytes],
) -> bool:
    """Whether `tree` differs from when the answer was saved only in files whose stat data
    changed (touched, or rewritten with the same bytes): same paths, same mode and size,
    and content hashing to what the command knew it as. Directories and anything changed in
    the last RACY_NS (being written now, perhaps) count as real changes. Only the chunks
    of rows that differ are unpacked."""
    import xxhash

    kept = detail["trees"].get(tree)
    if kept is None or kept[0] != saved or len(kept[1]) != len(chunks):
        return False  # unknown, or written for another answer (a torn save)
    touched: list[tuple[tuple[Any, ...], tuple[Any, ...], str | None]] = []
    for i, ((old_digest, old_rows, old_hashes), now) in enumerate(
        zip(kept[1], chunks, strict=True)
    ):
        if xxhash.xxh3_64_digest(now) == old_digest:
            continue
        old, hashes = marshal.loads(old_rows), marshal.loads(old_hashes)
        new = rows[i * CHUNK : (i + 1) * CHUNK]
        if len(old) != len(new):
            return False
        touched += [(a, b, hashes.get(b[0])) for a, b in zip(old, new, strict=True) if a != b]
        if len(touched) > TOUCHED_MAX:
            return False
    recent = time.time_ns() - RACY_NS
    for a, b, known in touched:
        if a[0] != b[0] or len(a) != 6 or len(b) != 6 or known is None:
            return False
        if a[1] != b[1] or a[3] != b[3] or not stat.S_ISREG(b[1]) or max(b[4], b[5]) >= recent:
            return False
        hasher = xxhash.xxh3_128()
        with open(b[0], "rb") as f:
            while chunk := f.read(1 << 20):
                hasher.update(chunk)
        if hasher.hexdigest() != known:
            return False
    return True


def _git(argv: tuple[str, ...], cwd: str, env: dict[str, str]) -> bytes | None:
    """Output of `git -C cwd ARGS` (argv[0] is 'git'), or None when it did not exit 0."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.posix_spawnp(
            "git",
            ["git", "-C", cwd, *argv[1:]],
            {**os.environ, **env},
            file_actions=[
                (os.POSIX_SPAWN_DUP2, write_fd, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_CLOSE, read_fd),
            ],
        )
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    os.close(write_fd)
    chunks = []
    with os.fdopen(read_fd, "rb") as f:
        while chunk := f.read(1 << 16):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None


# -- answering -------------------------------------------------------------------------------
def answer(args: list[str]) -> str | None:
    """The saved output of this command line, if every input it depended on is unchanged."""
    try:
        cwd = os.path.realpath(os.getcwd())
        root = _root(cwd)
        if root is None:
            return None
        material = _material(args, cwd)
        with open(_memo_path(root, material), "rb") as f:
            memo = marshal.load(f)
        if memo.get("material") != material:
            return None
        for path, sig in memo["files"]:
            if _sig(path) != sig:
                return None
        detail: dict[str, Any] | None = None
        for path, digest in memo["trees"]:
            now, _newest, rows, chunks = _tree(path)
            if now != digest:
                if detail is None:
                    with open(_memo_path(root, material) + DETAIL, "rb") as f:
                        detail = marshal.load(f)
                if not _only_touched(detail, path, digest, rows, chunks):
                    return None
        for argv, where, env, output in memo["git"]:
            if _git(argv, where, env) != output:
                return None
        return str(memo["stdout"])
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None  # no answer saved, or an unreadable one: run the command


def forget_all(dot_dir: os.PathLike[str] | str) -> None:
    """Drop every saved answer of the project whose `.gitflowml` is `dot_dir`. Called when
    objects may have left the cache: answers do not re-check what the hash state marked as
    complete, just as the full commands do not."""
    import shutil

    shutil.rmtree(os.path.join(dot_dir, *QUICK_DIR), ignore_errors=True)


# -- recording -------------------------------------------------------------------------------
class _Tee:
    """Stands in for sys.stdout / sys.stderr while armed: passes writes through, keeps them."""

    def __init__(self, stream: TextIO, keep: list[str]) -> None:
        self._stream = stream
        self._keep = keep
        self.encoding = getattr(stream, "encoding", "utf-8")
        self.errors = getattr(stream, "errors", "strict")

    def write(self, text: str) -> int:
        if isinstance(text, str):  # click probes with b"" to tell text from binary streams
            self._keep.append(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Recording:
    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.started_ns = time.time_ns()
        self.files: dict[str, Sig] = {}
        self.trees: dict[str, None] = {}
        self.hashes: dict[str, str] = {}  # file under a tree -> its content hash
        self.git: list[tuple[tuple[str, ...], str, dict[str, str], bytes]] = []
        self.spoiled = False
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.streams = (sys.stdout, sys.stderr)


_recording: _Recording | None = None


def arm(args: list[str]) -> None:
    """Start noting inputs and keeping output; call `settle` when the command is done."""
    global _recording
    rec = _Recording(args)
    if sys.stdout is not None and sys.stderr is not None:
        sys.stdout = cast(TextIO, _Tee(sys.stdout, rec.stdout))
        sys.stderr = cast(TextIO, _Tee(sys.stderr, rec.stderr))
        _recording = rec


def note(path: os.PathLike[str] | str) -> None:
    """The running command read `path` (or found it absent)."""
    rec = _recording
    if rec is not None and not rec.spoiled:  # a spoiled answer is never saved: no stat
        key = os.fspath(path)
        if key not in rec.files:
            rec.files[key] = _sig(key)


def note_tree(path: os.PathLike[str] | str) -> None:
    """The running command read every file under the directory `path`."""
    if _recording is not None and not _recording.spoiled:
        note(path)
        _recording.trees[os.fspath(path)] = None


def note_hashes(hashes: dict[str, str]) -> None:
    """The running command knows these files' content hashes (path -> oid): a later answer
    may re-hash a file under a noted tree whose stat data changed, instead of running."""
    if _recording is not None and not _recording.spoiled:
        _recording.hashes.update(hashes)


def recording() -> bool:
    """Whether a command line that may be answered quickly is being recorded."""
    return _recording is not None and not _recording.spoiled


def note_git(argv: list[str], cwd: os.PathLike[str] | str, env: dict[str, str], out: bytes) -> None:
    """The running command ran `git` (argv[0]) in `cwd` with `env` added, and it printed `out`."""
    if _recording is not None:
        _recording.git.append((tuple(argv), os.fspath(cwd), env, out))


def spoil() -> None:
    """The running command's result depends on more than its noted inputs: do not save it."""
    if _recording is not None:
        _recording.spoiled = True


def settle(exit_code: int) -> None:
    """Stop recording; save the answer if it may be given again."""
    global _recording
    rec, _recording = _recording, None
    if rec is None:
        return
    sys.stdout, sys.stderr = rec.streams
    if exit_code != 0 or rec.spoiled or any(rec.stderr):
        return
    with contextlib.suppress(OSError):  # an optimisation: the command itself succeeded
        _save(rec)


def _save(rec: _Recording) -> None:
    import xxhash

    cwd = os.path.realpath(os.getcwd())
    root = _root(cwd)
    if root is None:
        return
    limit = rec.started_ns - RACY_NS
    files = []
    for path, before in rec.files.items():
        sig = _sig(path)
        if sig != before or (sig is not None and max(sig[4], sig[5]) >= limit):
            return  # changed while the command ran, or too recently to trust its mtime
        files.append((path, sig))
    trees = []
    detail: dict[str, Any] = {"trees": {}}
    for path in rec.trees:
        digest, newest, rows, chunks = _tree(path)
        if newest >= limit:
            return
        trees.append((path, digest))
        kept = []
        for i, chunk in enumerate(chunks):
            part = rows[i * CHUNK : (i + 1) * CHUNK]
            hashes = {r[0]: rec.hashes[r[0]] for r in part if r[0] in rec.hashes}
            kept.append((xxhash.xxh3_64_digest(chunk), chunk, marshal.dumps(hashes)))
        detail["trees"][path] = (digest, kept)
    material = _material(rec.args, cwd)
    memo = {
        "material": material,
        "files": files,
        "trees": trees,
        "git": rec.git,
        "stdout": "".join(rec.stdout),
    }
    from gitflowml.util import fsutil  # after a command ran: loaded by then, not for answers

    path = _memo_path(root, material)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fsutil.atomic_write_bytes(path + DETAIL, marshal.dumps(detail))  # before the answer
    fsutil.atomic_write_bytes(path, marshal.dumps(memo))
