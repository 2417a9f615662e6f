"""The only module that talks to git.

GitPython is imported inside the functions that need it. The hot paths (`status`, `add`)
only list files, which one `git ls-files` process does faster than importing GitPython.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
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
