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
    request = "".join(f"{rev}:{path}\n" for rev, path in names).encode()
    proc = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=root, input=request, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise NotAGitRepoError(f"git cat-file failed in {root}: {proc.stderr.decode().strip()}")
    out, data, pos = [], proc.stdout, 0
    for rev, path in names:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        out.append((rev, path, data[pos : pos + size]))
        pos += size + 1
    return out


def _git(root: Path, args: list[str]) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise NotAGitRepoError("git is not installed or not on PATH; install git") from None
    if proc.returncode != 0:
        return ""
    return proc.stdout.decode("utf-8", "surrogateescape")


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
