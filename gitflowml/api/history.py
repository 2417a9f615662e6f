"""The API over history: run records, lineage, and reading artifacts, metrics, params and
data at any revision without checking out."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from gitflowml import scm
from gitflowml.api.base import _project
from gitflowml.errors import ConfigError
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.lineage.log import LogEntry
    from gitflowml.lineage.notes import RecordResult
    from gitflowml.lineage.trace import Node
    from gitflowml.metrics import DataDiff
    from gitflowml.metrics import Row as MetricRow


# -- lineage -----------------------------------------------------------------------------------
def record(rev: str = "HEAD", *, project: Project | None = None) -> RecordResult:
    """Attach pending run records whose outs match `rev`'s pipeline.lock to `rev`."""
    from gitflowml.lineage import notes

    proj = _project(project)
    return notes.record(proj.root, proj.dot_dir, rev)


def lineage(path: str, rev: str | None = None, *, project: Project | None = None) -> Node:
    """How `path` came to be as of `rev` (default HEAD), recursively."""
    from gitflowml.lineage import trace

    proj = _project(project)
    return trace.trace(proj.root, proj.relpath(path), rev or "HEAD")


# -- reading artifacts, metrics, params and data at any revision ---------------------------------
def read(
    path: str,
    rev: str | None = None,
    remote: str | None = None,
    mode: str = "r",
    encoding: str | None = None,
    *,
    project: Project | None = None,
) -> str | bytes:
    """The artifact at `path` as of `rev` (None: the workspace): a file in git, a path
    tracked by `add`, a stage out or a file inside a tracked directory, from git's objects,
    the cache or the remote (default or `remote`), verified; never by checking out. `mode`
    "r" gives text, "rb" bytes."""
    from gitflowml import revision

    if mode not in ("r", "rb"):
        raise ValueError("mode must be 'r' or 'rb'")
    data = revision.read(_project(project), path, rev, remote)
    return data if mode == "rb" else data.decode(encoding or "utf-8")


@contextlib.contextmanager
def open(
    path: str,
    rev: str | None = None,
    remote: str | None = None,
    mode: str = "r",
    encoding: str | None = None,
    *,
    project: Project | None = None,
) -> Iterator[IO[Any]]:
    """`read` as a file object (the whole artifact is read into memory first)."""
    data = read(path, rev, remote, mode, encoding, project=project)
    stream: IO[Any] = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    try:
        yield stream
    finally:
        stream.close()


def metrics_show(
    paths: Sequence[str] = (),
    revs: Sequence[str | None] = (None,),
    *,
    all_branches: bool = False,
    hide_same_workspace: bool = False,
    project: Project | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Metrics at each revision (None: the workspace): {rev: {file: {metric: value}}}.
    With `all_branches` and `hide_same_workspace`, the workspace is left out when it holds
    what the current branch does (as DVC's `metrics show -a`)."""
    from gitflowml import metrics, revision

    proj = _project(project)
    chosen = list(revs)
    if all_branches:
        chosen += scm.branches(proj.root)
    out = {}
    for rev in dict.fromkeys(chosen):
        at = revision.Revision(proj, rev)
        out[at.label] = metrics.show(at, [proj.relpath(p) for p in paths])
    current = scm.current_branch(proj.root)
    same = current in out and out.get(revision.WORKSPACE) == out[current]
    if all_branches and hide_same_workspace and same:
        out.pop(revision.WORKSPACE)
    return out


def metrics_diff(
    a: str | None = None,
    b: str | None = None,
    paths: Sequence[str] = (),
    *,
    all_rows: bool = False,
    project: Project | None = None,
) -> list[MetricRow]:
    """Metrics that differ from revision `a` (default HEAD) to `b` (default the
    workspace); every metric with `all_rows`."""
    from gitflowml import metrics

    proj = _project(project)
    return metrics.metrics_diff(proj, a, b, [proj.relpath(p) for p in paths], all_rows)


def params_diff(
    a: str | None = None,
    b: str | None = None,
    *,
    all_rows: bool = False,
    envs: Sequence[str] = (),
    project: Project | None = None,
) -> list[MetricRow]:
    """Tracked params that differ from `a` (default HEAD) to `b` (default the workspace);
    with `all_rows` every key of the params files, changed or not. `envs`: one environment
    for both sides, or two (the first for `a`); two and no revisions compare the two
    environments in the workspace."""
    from gitflowml import config, metrics

    for name in envs:
        config.check_env_name(name)
    if len(envs) > 2:
        raise ConfigError("params diff compares at most two environments")
    pair = (envs[0], envs[-1]) if envs else (None, None)
    return metrics.params_diff(_project(project), a, b, all_rows, pair)


def params_show(
    env: str | None = None, *, project: Project | None = None
) -> list[tuple[str, str, Any, str]]:
    """Every key of the params files the pipeline reads, as the stages see it in
    environment `env` (default: the active one): (file, key, value, the file it comes
    from: P.yaml, or the overlay P.NAME.yaml)."""
    from gitflowml import config, metrics

    if env is not None:
        config.check_env_name(env)
    return metrics.params_show(_project(project), env)


def diff(
    a: str | None = None,
    b: str | None = None,
    *,
    git_stored: bool = True,
    project: Project | None = None,
) -> DataDiff:
    """Data paths added, modified or deleted from `a` (default HEAD) to `b` (default the
    workspace), files inside tracked directories included; without `git_stored`, not the
    outs git stores (`cache: false`), as `dvc diff`."""
    from gitflowml import metrics

    return metrics.data_diff(_project(project), a, b, git_stored)


def log(
    target: str | None = None, *, limit: int | None = None, project: Project | None = None
) -> list[LogEntry]:
    """Run records from the notes of HEAD and its ancestors, newest first: all, one stage
    (or foreach/matrix group), or the runs that produced a path."""
    from gitflowml.lineage import log as log_mod

    return log_mod.entries(_project(project), target, limit)


def metrics_env(env: str | None = None, *, project: Project | None = None) -> list[tuple[str, str]]:
    """The workspace's metrics files that were made in another environment than `env`
    (default: the active one), as the lock records it: (path, "NAME" or "none")."""
    from gitflowml import config, index

    proj = _project(project)
    wanted = env if env is not None else config.active_env()
    if wanted is not None:
        config.check_env_name(wanted)
    found = index.load(proj)
    if found is None:
        return []
    lock = index.load_lock(proj)
    out = []
    for name, stage in found[0].stages.items():
        entry = lock.stages.get(name)
        if entry is None or entry.env == wanted:
            continue
        out += [(o.path, entry.env or "none") for o in stage.outs if o.kind == "metric"]
    return sorted(out)
