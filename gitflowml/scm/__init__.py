"""The only module that talks to git.

GitPython is imported inside the functions that need it. The hot paths (`status`, `add`)
only list files, which one `git ls-files` process does faster than importing GitPython.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from gitflowml import quick
from gitflowml.errors import NotAGitRepoError


def toplevel(path: Path) -> Path:
    """The work tree root of the git repository containing `path`."""
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NotAGitRepoError(
            f"{path} is not inside a git repository; run 'git init' first"
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise NotAGitRepoError(f"{path} is in a bare git repository; gitflowml needs a work tree")
    return Path(repo.working_tree_dir).resolve()


def _ls_files(root: Path, args: Sequence[str]) -> list[str]:
    extra = {"GIT_OPTIONAL_LOCKS": "0"}
    argv = ["git", "ls-files", "-z", *args]
    try:
        proc = subprocess.run(
            argv, cwd=root, capture_output=True, env={**os.environ, **extra}, check=False
        )
    except FileNotFoundError:
        raise NotAGitRepoError("git is not installed or not on PATH; install git") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise NotAGitRepoError(
            f"git ls-files failed in {root}: {message[-1] if message else proc.returncode}"
        )
    quick.note_git(argv, root, extra, proc.stdout)
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def files_matching(root: Path, suffix: str) -> list[str]:
    """Tracked and untracked-but-not-ignored files ending in `suffix`, relative POSIX paths."""
    names = _ls_files(root, ["--cached", "--others", "--exclude-standard", "--", f"*{suffix}"])
    return sorted(set(names))


def revisions(root: Path, all_branches: bool, all_commits: bool) -> list[str]:
    """Commit ids: HEAD plus every branch tip, or every commit reachable from any ref."""
    args = (
        ["rev-list", "--all"]
        if all_commits
        else ["for-each-ref", "--format=%(objectname)", "refs/heads"]
    )
    out = _git(root, args) + (_git(root, ["rev-parse", "--verify", "-q", "HEAD"]) or "")
    return sorted(set(out.split()))


def files_at(
    root: Path, revs: Sequence[str], wanted: Callable[[str], bool]
) -> list[tuple[str, str, bytes]]:
    """(rev, path, content) of every file in each commit whose path `wanted` accepts, read
    from git's objects (no checkout): one `ls-tree` per commit, one `cat-file --batch`."""
    names: list[tuple[str, str]] = []
    for rev in revs:
        listing = _git(root, ["ls-tree", "-r", "-z", "--name-only", rev])
        names.extend((rev, p) for p in listing.split("\0") if p and wanted(p))
    if not names:
        return []
    blobs = _cat_batch(root, [f"{rev}:{path}" for rev, path in names])
    return [(rev, path, b) for (rev, path), b in zip(names, blobs, strict=True) if b is not None]


def _cat_batch(root: Path, objects: Sequence[str]) -> list[bytes | None]:
    """The content of each blob named (a sha or `rev:path`) with one `git cat-file --batch`;
    None for a name that is missing or not a blob."""
    proc = _run(root, ["cat-file", "--batch"], "".join(f"{o}\n" for o in objects).encode())
    if proc.returncode != 0:
        raise NotAGitRepoError(f"git cat-file failed in {root}: {proc.stderr.decode().strip()}")
    out: list[bytes | None] = []
    data, pos = proc.stdout, 0
    for _name in objects:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3:  # "<name> missing"
            out.append(None)
            continue
        size = int(header[2])
        out.append(data[pos : pos + size] if header[1] == b"blob" else None)
        pos += size + 1
    return out


def _git(root: Path, args: list[str]) -> str:
    """git's output, or "" when it fails (a revision that does not exist, say)."""
    proc = _run(root, args)
    return proc.stdout.decode("utf-8", "surrogateescape") if proc.returncode == 0 else ""


def git_version() -> str:
    """`git --version`'s number; NotAGitRepoError when git cannot be run."""
    proc = _run(Path.cwd(), ["--version"])
    if proc.returncode != 0:
        raise NotAGitRepoError("git --version failed")
    return proc.stdout.decode(errors="replace").strip().removeprefix("git version ")


def tracked(root: Path, relpaths: Sequence[str]) -> list[str]:
    """Which of `relpaths` (files, or directories with tracked files inside) git tracks."""
    if not relpaths:
        return []
    found = _ls_files(root, ["--cached", "--", *relpaths])
    hits = []
    for rel in relpaths:
        prefix = rel.rstrip("/") + "/"
        if any(f == rel or f.startswith(prefix) for f in found):
            hits.append(rel)
    return hits


# -- commits and notes -------------------------------------------------------------------------
def _run(
    root: Path, args: list[str], data: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", **(env or {})}
    try:
        return subprocess.run(
            ["git", *args], cwd=root, input=data, capture_output=True, env=full, check=False
        )
    except FileNotFoundError:
        raise NotAGitRepoError("git is not installed or not on PATH; install git") from None


def _checked(
    root: Path, args: list[str], data: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    proc = _run(root, args, data, env)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise NotAGitRepoError(
            f"git {args[0]} failed: {message[-1] if message else proc.returncode}"
        )
    return proc.stdout.decode("utf-8", "surrogateescape")


def ignored(root: Path, relpaths: Sequence[str]) -> list[str]:
    """Which of `relpaths` git ignores (and does not track): what `git add` would skip."""
    if not relpaths:
        return []
    proc = _run(root, ["check-ignore", "-z", "--stdin"], "\0".join(relpaths).encode() + b"\0")
    if proc.returncode not in (0, 1):
        return []  # not a git repository: nothing is ignored by git
    found = set(proc.stdout.decode("utf-8", "surrogateescape").split("\0"))
    return [p for p in relpaths if p in found]


def rev_parse(root: Path, rev: str) -> str | None:
    proc = _run(root, ["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"])
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def rev_list(root: Path, rev: str, limit: int | None = None) -> list[str]:
    """`rev` and its ancestors (the first `limit` of them), newest first (empty when `rev`
    does not exist)."""
    count = [] if limit is None else [f"--max-count={limit}", "--first-parent"]
    proc = _run(root, ["rev-list", *count, rev, "--"])
    return proc.stdout.decode().split() if proc.returncode == 0 else []


def note_text(root: Path, ref: str, commit: str) -> str | None:
    proc = _run(root, ["notes", f"--ref={ref}", "show", commit])
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def note_write(root: Path, ref: str, commit: str, text: str) -> None:
    _checked(root, ["notes", f"--ref={ref}", "add", "-f", "-F", "-", commit], text.encode())


def notes_of(root: Path, ref: str, commits: set[str]) -> dict[str, str]:
    """commit -> note text, for the notes under `ref` attached to any of `commits`: one
    `notes list` and one `cat-file --batch`, however many commits there are."""
    proc = _run(root, ["notes", f"--ref={ref}", "list"])
    if proc.returncode != 0:
        return {}
    pairs = []
    for line in proc.stdout.decode().splitlines():
        blob, _, commit = line.partition(" ")
        if commit in commits:
            pairs.append((blob, commit))
    blobs = _cat_batch(root, [blob for blob, _ in pairs])
    return {
        commit: data.decode("utf-8", "replace")
        for (_, commit), data in zip(pairs, blobs, strict=True)
        if data is not None
    }


def commit_info(root: Path, commits: list[str]) -> dict[str, tuple[str, str]]:
    """commit -> (author name <email>, author date ISO-8601)."""
    if not commits:
        return {}
    text = _checked(
        root, ["log", "--no-walk=unsorted", "--format=%H%x00%an <%ae>%x00%aI", *commits]
    )
    out = {}
    for line in text.splitlines():
        parts = line.split("\0")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def commits_touching(root: Path, rev: str, path: str) -> list[str]:
    """Commits reachable from `rev` that changed `path`, newest first."""
    proc = _run(root, ["log", "--format=%H", rev, "--", path])
    return proc.stdout.decode().split() if proc.returncode == 0 else []


def file_at(root: Path, rev: str, path: str) -> bytes | None:
    proc = _run(root, ["cat-file", "blob", f"{rev}:{path}"])
    return proc.stdout if proc.returncode == 0 else None


# -- committing, hooks and the notes ref on `origin` -------------------------------------------
def staged(root: Path) -> list[str]:
    return [p for p in _checked(root, ["diff", "--cached", "--name-only", "-z"]).split("\0") if p]


def changed(root: Path, patterns: Sequence[str]) -> list[str]:
    """Modified or new (not ignored) files matching `patterns`."""
    args = ["ls-files", "-z", "--modified", "--others", "--exclude-standard", "--", *patterns]
    return sorted({p for p in _checked(root, args).split("\0") if p})


def stage_paths(root: Path, paths: Sequence[str]) -> None:
    if paths:
        _checked(root, ["add", "--", *paths])


def commit(root: Path, message: str) -> str:
    _checked(root, ["commit", "-q", "-m", message])
    head = rev_parse(root, "HEAD")
    assert head is not None
    return head


def hooks_dir(root: Path) -> Path:
    path = Path(_checked(root, ["rev-parse", "--git-path", "hooks"]).strip())
    return path if path.is_absolute() else root / path


def has_remote(root: Path, name: str) -> bool:
    return _run(root, ["remote", "get-url", name]).returncode == 0


def ensure_fetch_refspec(root: Path, remote: str, refspec: str) -> bool:
    """Add `refspec` to the remote's fetch refspecs; False when it was there already."""
    current = _run(root, ["config", "--get-all", f"remote.{remote}.fetch"]).stdout.decode()
    if refspec in current.split():
        return False
    _checked(root, ["config", "--add", f"remote.{remote}.fetch", refspec])
    return True


def push_ref(root: Path, remote: str, ref: str) -> None:
    _checked(root, ["push", "-q", remote, f"{ref}:{ref}"])


def fetch_notes(root: Path, remote: str, ref: str) -> bool:
    """Fetch `ref` from `remote` and merge it into ours (cat_sort_uniq: no record lost).
    False when the remote has no such ref."""
    tracking = ref + "-" + remote
    proc = _run(root, ["fetch", "-q", remote, f"+{ref}:{tracking}"])
    if proc.returncode != 0:
        if b"couldn't find remote ref" in proc.stderr:
            return False
        _checked(root, ["fetch", "-q", remote, f"+{ref}:{tracking}"])  # raises with git's words
    if rev_parse(root, ref) is None:
        _checked(root, ["update-ref", ref, tracking])
    else:
        short = ref.removeprefix("refs/notes/")
        _checked(root, ["notes", f"--ref={short}", "merge", "-q", "-s", "cat_sort_uniq", tracking])
    return True


def note_refs(root: Path) -> None:
    """For a quick answer (see `quick`): the answer depends on HEAD, the branches and
    gitflowml's refs, as the files of `.git` hold them (objects never change). Only a plain
    `.git` directory is understood; anything else (a worktree's `.git` file) spoils it."""
    git_dir = root / ".git"
    if not git_dir.is_dir():
        quick.spoil()
        return
    quick.note(git_dir / "HEAD")
    quick.note(git_dir / "packed-refs")
    quick.note_tree(git_dir / "refs" / "heads")
    quick.note_tree(git_dir / "refs" / "gitflowml")


def branches(root: Path) -> list[str]:
    text = _checked(root, ["for-each-ref", "--format=%(refname:short)", "refs/heads"])
    return [b for b in text.split() if b]


def current_branch(root: Path) -> str | None:
    """The branch HEAD is on; None when it is detached (or there is no commit yet)."""
    name = _git(root, ["symbolic-ref", "-q", "--short", "HEAD"]).strip()
    return name or None


def set_config(root: Path, key: str, value: str) -> bool:
    """Set a repository config value; False when it had that value already."""
    current = _run(root, ["config", "--local", "--get", key])
    if current.returncode == 0 and current.stdout.decode().strip() == value:
        return False
    _checked(root, ["config", "--local", key, value])
    return True
