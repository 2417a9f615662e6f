"""Git plumbing for experiments: refs, trees built in a private index, commits made
without touching the user's index or HEAD, worktrees, and refs moved to and from a remote.

Like the rest of `scm`, everything here runs the git CLI, so credential helpers and hooks
the user set up apply; nothing here knows what an experiment is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml.scm import _cat_batch, _checked, _run


@dataclass(frozen=True, slots=True)
class Ref:
    name: str  # refs/…
    commit: str
    parent: str  # the first parent; "" for a root commit
    created: int  # committer time, seconds since the epoch
    subject: str


def refs(root: Path, prefix: str) -> list[Ref]:
    """Every ref under `prefix`, with its commit, first parent and date: one
    `for-each-ref`, however many there are."""
    fmt = "%(refname)%00%(objectname)%00%(parent)%00%(committerdate:unix)%00%(subject)"
    proc = _run(root, ["for-each-ref", f"--format={fmt}", prefix])
    if proc.returncode != 0:
        return []
    out = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\0")
        if len(parts) != 5:
            continue
        created = int(parts[3]) if parts[3].isdigit() else 0
        out.append(Ref(parts[0], parts[1], parts[2].split(" ")[0], created, parts[4]))
    return out


def commits(root: Path, shas: Sequence[str]) -> list[Ref]:
    """Each commit's first parent, date and subject (`name` is the sha): one `git log`."""
    if not shas:
        return []
    fmt = "--format=%H%x00%P%x00%ct%x00%s"
    text = _checked(root, ["log", "--no-walk=unsorted", fmt, *shas, "--"])
    out = []
    for line in text.splitlines():
        parts = line.split("\0")
        if len(parts) == 4:
            created = int(parts[2]) if parts[2].isdigit() else 0
            out.append(Ref(parts[0], parts[0], parts[1].split(" ")[0], created, parts[3]))
    return out


def blobs(root: Path, names: Sequence[str]) -> list[bytes | None]:
    """The content of each `rev:path` (or blob sha) with one `git cat-file --batch`."""
    return _cat_batch(root, names) if names else []


def update_ref(root: Path, ref: str, commit: str, old: str | None = None) -> None:
    """Point `ref` at `commit`; with `old`, only if it points there now ("" = absent), so a
    name taken meanwhile by another process is not overwritten."""
    args = ["update-ref", ref, commit]
    if old is not None:
        args.append(old or "0" * 40)
    _checked(root, args)


def delete_ref(root: Path, ref: str) -> None:
    _checked(root, ["update-ref", "-d", ref])


def snapshot(
    root: Path,
    base: str,
    paths: Sequence[str],
    contents: Mapping[str, bytes] | None = None,
    tracked_changes: bool = True,
) -> str:
    """The tree of `base` plus the workspace's changes to tracked files (with
    `tracked_changes`), the files `paths` as they are now (a missing one is removed) and
    the files of `contents` with that content, built in a private index: the user's index,
    HEAD and workspace are left alone."""
    fd, index = tempfile.mkstemp(prefix="gitflowml-index-")
    os.close(fd)
    env = {"GIT_INDEX_FILE": index}
    try:
        _checked(root, ["read-tree", base], env=env)
        if tracked_changes:
            _checked(root, ["add", "-u", "--", "."], env=env)
        present = [p for p in paths if (root / p).exists()]
        gone = [p for p in paths if not (root / p).exists()]
        if present:
            _checked(root, ["add", "-f", "--", *present], env=env)
        if gone:
            _checked(root, ["rm", "-q", "--cached", "--ignore-unmatch", "--", *gone], env=env)
        for path, data in (contents or {}).items():
            blob = _checked(root, ["hash-object", "-w", "--stdin"], data).strip()
            info = f"100644,{blob},{path}"
            _checked(root, ["update-index", "--add", "--cacheinfo", info], env=env)
        return _checked(root, ["write-tree"], env=env).strip()
    finally:
        os.unlink(index)


def commit_tree(root: Path, tree: str, parents: Sequence[str], message: str) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return _checked(root, [*args, "-m", message]).strip()


def tree_of(root: Path, rev: str) -> str:
    return _checked(root, ["rev-parse", f"{rev}^{{tree}}"]).strip()


def changed_paths(root: Path, a: str, b: str) -> list[str]:
    """Paths that differ between the trees of two commits."""
    text = _checked(root, ["diff", "--name-only", "-z", "--no-renames", a, b, "--"])
    return [p for p in text.split("\0") if p]


def dirty(root: Path, paths: Sequence[str] = ()) -> list[str]:
    """Tracked files (or of `paths`) whose workspace content differs from HEAD, plus
    untracked, not ignored ones among `paths`."""
    text = _checked(root, ["status", "--porcelain", "-z", "--untracked-files=all", "--", *paths])
    out = []
    for item in text.split("\0"):
        if len(item) > 3 and (item[:2] != "??" or paths):
            out.append(item[3:])
    return sorted(set(out))


def restore(root: Path, commit: str, paths: Sequence[str]) -> None:
    """Put `paths` in the workspace as `commit` has them (the index is left alone)."""
    if paths:
        _checked(root, ["restore", f"--source={commit}", "--worktree", "--", *paths])


def paths_in(root: Path, commit: str, paths: Sequence[str]) -> list[str]:
    """Which of `paths` (files) `commit` has."""
    if not paths:
        return []
    text = _checked(root, ["ls-tree", "-r", "-z", "--name-only", commit, "--", *paths])
    return [p for p in text.split("\0") if p]


def reachable(root: Path, commit: str) -> bool:
    """Whether a branch contains `commit` (an experiment's baseline after a rebase may not)."""
    proc = _run(root, ["for-each-ref", "--count=1", "--contains", commit, "refs/heads"])
    return proc.returncode == 0 and bool(proc.stdout.strip())


def branch(root: Path, name: str, commit: str) -> None:
    _checked(root, ["branch", name, commit])


def worktree_add(root: Path, where: Path, commit: str) -> None:
    _checked(root, ["worktree", "add", "-q", "--detach", str(where), commit])


def worktree_remove(root: Path, where: Path) -> None:
    """Remove a worktree (and its directory); no error when it is gone already."""
    _run(root, ["worktree", "remove", "--force", str(where)])
    _run(root, ["worktree", "prune"])


def push_refs(root: Path, remote: str, refspecs: Sequence[str]) -> None:
    if refspecs:
        _checked(root, ["push", "-q", "--force", remote, *refspecs])


def fetch_refs(root: Path, remote: str, refspecs: Sequence[str]) -> None:
    if refspecs:
        _checked(root, ["fetch", "-q", remote, *refspecs])


def remote_refs(root: Path, remote: str, prefix: str) -> list[tuple[str, str]]:
    """(ref, commit) of the refs under `prefix` on `remote`, without fetching them."""
    text = _checked(root, ["ls-remote", "--refs", remote, f"{prefix}*"])
    out = []
    for line in text.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith(prefix):
            out.append((ref, sha))
    return out
