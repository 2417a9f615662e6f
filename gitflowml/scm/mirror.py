"""Other repositories, read without a checkout (the data registry, SPEC section 15): one
blob-less bare mirror per URL (`git clone --bare --filter=blob:none`), cached under
`$XDG_CACHE_HOME/gitflowml/mirrors/` and brought up to date with `git fetch` on each use.
Everything goes through the git CLI, so the user's credential helpers, SSH config and
`insteadOf` rules apply. Blobs are fetched when first read."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitflowml.errors import RegistryError
from gitflowml.scm import _run as scm_run
from gitflowml.util import tmpfiles

_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    kind: str  # "blob", "tree" or "commit" (a submodule)
    oid: str  # git's object id
    executable: bool


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitflowml" / "mirrors"


def normalise(url: str) -> str:
    """A local path becomes an absolute path (so the same source is one mirror)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) or re.match(r"^[^/]+@[^/:]+:", url):
        return url
    return os.path.abspath(os.path.expanduser(url))


def mirror(url: str) -> Path:
    """The up-to-date mirror of `url`, made on first use."""
    source = normalise(url)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", source.rstrip("/").rsplit("/", 1)[-1])[:40]
    path = cache_root() / f"{tail}-{digest}.git"
    if path.is_dir():
        _git(path, ["fetch", "--quiet", "--prune", "--filter=blob:none", "origin", *_REFSPECS], url)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tmpfiles.path_in(path.parent))
    try:
        _git(
            path.parent,
            [
                "clone",
                "--quiet",
                "--bare",
                "--filter=blob:none",
                "--",
                _clone_url(source),
                str(tmp),
            ],
            url,
        )
        try:
            os.rename(tmp, path)
        except OSError:  # another process made it meanwhile: use theirs
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _clone_url(source: str) -> str:
    """A local repository through file:// (git applies filters only over a transport)."""
    return f"file://{source}" if source.startswith("/") else source


def resolve(path: Path, url: str, rev: str | None) -> str:
    """The commit `rev` (default: the source's HEAD) names in the mirror."""
    wanted = rev or "HEAD"
    proc = _run(path, ["rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}"])
    if proc.returncode != 0:
        raise RegistryError(
            f"{url} has no revision '{wanted}'; name a branch, tag or commit it has"
        )
    return proc.stdout.decode().strip()


def tree(path: Path, commit: str) -> list[TreeEntry]:
    """Every file of `commit`, recursively (no blob is fetched)."""
    proc = _run(path, ["ls-tree", "-r", "-z", "--full-tree", commit])
    if proc.returncode != 0:
        raise RegistryError(f"git ls-tree failed: {proc.stderr.decode().strip()}")
    out = []
    for row in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not row:
            continue
        meta, _, name = row.partition("\t")
        mode, kind, oid = meta.split()
        out.append(TreeEntry(name, kind, oid, mode == "100755"))
    return out


def read(path: Path, names: list[str]) -> list[bytes | None]:
    """The content of each `commit:path` (fetched from the source when not local yet)."""
    from gitflowml.scm import plumbing

    return plumbing.blobs(path, names)


def _git(cwd: Path, args: list[str], url: str) -> None:
    proc = _run(cwd, args)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        said = next((ln for ln in lines if ln.startswith("fatal:")), lines[-1] if lines else "")
        raise RegistryError(
            f"{url} cannot be read as a git repository ({said.removeprefix('fatal: ')}); "
            "check the URL and your access to it"
        )


def _run(cwd: Path, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """`scm`'s git runner, never waiting for a password nobody will type."""
    return scm_run(cwd, args, env={"GIT_TERMINAL_PROMPT": "0"})
