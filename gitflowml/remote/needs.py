"""What a transfer moves: the objects tracked entries need (a directory counts with its
manifest and every file it lists), which remote, and how progress is reported."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gitflowml.project import Project
from gitflowml.remote.store import Remote, open_remote
from gitflowml.storage.layout import object_key
from gitflowml.storage.odb import LocalOdb
from gitflowml.storage.tracked import Tracked

# (step, files done, files in step, bytes done): steps are "checking", "uploading",
# "downloading"
ProgressSink = Callable[[str, int, int, int], None]


@dataclass(frozen=True, slots=True)
class TransferOptions:
    """How to move: to or from which remote (None: the default), how many transfers at once
    (None: by the remote's kind), whether lineage notes go along, and where progress goes."""

    remote: str | None = None
    jobs: int | None = None
    notes: bool = True
    on_progress: ProgressSink | None = None


@dataclass
class TransferReport:
    remote: str = ""
    moved: int = 0  # objects uploaded or downloaded
    present: int = 0  # objects the other side had already
    bytes: int = 0
    runs: int = 0  # run-cache entries moved
    notes: bool = False  # refs/notes/gitflowml was pushed to / fetched from origin
    checked_out: list[str] = field(default_factory=list)  # pull: paths put in the workspace


@dataclass(frozen=True)
class Need:
    oid: str
    is_dir: bool
    path: str  # a data path that needs it, for messages

    @property
    def key(self) -> str:
        return object_key(self.oid, self.is_dir)


def remote_of(project: Project, name: str | None, jobs: int | None) -> Remote:
    """The remote; by default as many transfers at once as hashing threads for a directory
    (the disk is the limit), four times that for anything over a network."""
    config = project.config.remote(name)
    local = "://" not in config.url or config.url.startswith("file://")
    jobs = jobs or (1 if local else 4) * project.jobs
    return open_remote(config, project.root, jobs, project.cache_dir)


# -- what is needed ---
def top_needs(entries: Sequence[Tracked]) -> dict[str, Need]:
    needs: dict[str, Need] = {}
    for entry in entries:
        need = Need(entry.pointer.oid, entry.pointer.is_dir, entry.target)
        needs.setdefault(need.key, need)
    return needs


def files_of(odb: LocalOdb, needs: dict[str, Need]) -> dict[str, Need]:
    """The file objects the directories among `needs` list (their manifests must be local)."""
    files: dict[str, Need] = {}
    for need in needs.values():
        if not need.is_dir:
            continue
        manifest = odb.read_manifest(need.oid)
        for row in manifest.entries:
            sub = Need(row.oid, False, f"{need.path}/{row.relpath}")
            files.setdefault(sub.key, sub)
    return files


def top_path(need: Need, tops: dict[str, Need]) -> str:
    """The tracked path (pointer target or stage out) a file object belongs to."""
    for top in tops.values():
        if need.path == top.path or need.path.startswith(top.path + "/"):
            return top.path
    return need.path


# -- progress ------------------------------------------------------------------------------------
def say(sink: ProgressSink | None, step: str, done: int, total: int, nbytes: int) -> None:
    if sink is not None:
        sink(step, done, total, nbytes)


class Counter:
    """Files and bytes moved in one step; called from any thread."""

    def __init__(self, sink: ProgressSink | None, step: str, total: int) -> None:
        self.sink, self.step, self.total = sink, step, total
        self.done = self.bytes = 0
        self._lock = threading.Lock()

    def __call__(self, files: int, nbytes: int) -> None:
        with self._lock:
            self.done += files
            self.bytes += nbytes
            say(self.sink, self.step, self.done, self.total, self.bytes)
