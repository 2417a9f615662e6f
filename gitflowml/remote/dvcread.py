"""Where DVC's objects can be read from: the project's `.dvc/cache`, then DVC's remotes
(the default first), each as a `storage.dvc.Reader` that says None for what it lacks or
cannot reach. Used by `import-dvc` and to read revisions from before the switch."""

from __future__ import annotations

from pathlib import Path

from gitflowml import config
from gitflowml.errors import GitflowmlError
from gitflowml.remote.fs import RemoteFs
from gitflowml.storage import dvc


def readers(root: Path, known: list[dvc.DvcRemote] | None = None) -> list[dvc.Reader]:
    remotes = dvc.read_remotes(root) if known is None else known
    opened = [
        RemoteFs(config.RemoteConfig(r.name, r.url, r.fs_options), root, 1)
        for r in sorted(remotes, key=lambda r: not r.default)
        if r.url
    ]
    return [dvc.local_cache(root), *(_reader(r) for r in opened)]


def _reader(remote: RemoteFs) -> dvc.Reader:
    def read(key: str) -> bytes | None:
        try:
            return remote.read(key) if remote.has([key]) else None
        except GitflowmlError:
            return None  # unreachable: the caller reports the object as found nowhere

    return read
