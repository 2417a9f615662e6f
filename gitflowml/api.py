"""The typed Python API. The CLI is a thin layer over these functions.

Every function finds the project from the current directory unless `project` is given,
returns plain data and raises `GitflowmlError` subclasses; none of them prints.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gitflowml import config, scm
from gitflowml.project import DOT_DIR, Project
from gitflowml.storage import ignore
from gitflowml.storage.add import AddReport
from gitflowml.storage.checkout import CheckoutReport
from gitflowml.storage.status import DataStatus

if TYPE_CHECKING:  # the pipeline modules load only when there is a pipeline
    from gitflowml.config import RemoteConfig
    from gitflowml.gc import GcReport
    from gitflowml.githooks import InstallReport
    from gitflowml.importdvc import ImportReport
    from gitflowml.index import Scope
    from gitflowml.lineage.log import LogEntry
    from gitflowml.lineage.notes import RecordResult
    from gitflowml.lineage.trace import Node
    from gitflowml.metrics import DataDiff
    from gitflowml.metrics import Row as MetricRow
    from gitflowml.pipeline.plan import StageStatus
    from gitflowml.remote.needs import ProgressSink, TransferOptions, TransferReport
    from gitflowml.repro.options import ReproReport

__all__ = [
    "AddReport",
    "CheckoutReport",
    "Dag",
    "DataStatus",
    "InitResult",
    "Project",
    "StatusReport",
    "add",
    "checkout",
    "dag",
    "diff",
    "fetch",
    "gc",
    "init",
    "install",
    "lineage",
    "log",
    "metrics_diff",
    "metrics_show",
    "open",
    "params_diff",
    "pull",
    "push",
    "read",
    "record",
    "remote_add",
    "remote_list",
    "remote_modify",
    "remote_remove",
    "repro",
    "status",
]


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    created: bool  # False when the project was already initialised


@dataclass(frozen=True, slots=True)
class StatusReport:
    data: tuple[DataStatus, ...]
    stages: tuple[StageStatus, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.data and not any(s.stale for s in self.stages)


def _project(project: Project | None) -> Project:
    return project if project is not None else Project.find()


def init(path: str | Path | None = None) -> InitResult:
    """Set up `.gitflowml/` at the top of the git repository containing `path` (or cwd)."""
    root = scm.toplevel(Path(path) if path is not None else Path.cwd())
    dot_dir = root / DOT_DIR
    existed = dot_dir.is_dir()
    dot_dir.mkdir(exist_ok=True)
    config.write_default(dot_dir)
    ignore.write_dot_dir_ignore(dot_dir)
    return InitResult(root=root, created=not existed)


def add(paths: Sequence[str], *, project: Project | None = None) -> AddReport:
    """Hash and cache `paths`, write their `.gfml` pointers and gitignore them."""
    from gitflowml import index
    from gitflowml.storage import add as add_mod

    proj = _project(project)
    return add_mod.add(proj, paths, refuse=lambda rels: index.refuse_stage_outs(proj, rels))


def status(targets: Sequence[str] = (), *, project: Project | None = None) -> StatusReport:
    """Stale stages with their reasons, and tracked data that differs from its pointer file.
    Targets are stage (or foreach/matrix group) names and tracked paths; default: all."""
    from gitflowml import index
    from gitflowml.repro import judge
    from gitflowml.storage import status as data_status

    proj = _project(project)
    found = index.load(proj)
    if found is None:
        return StatusReport(tuple(data_status.status(proj, targets)))
    stage_targets = [t for t in targets if index.is_stage_target(found[0], t)]
    data_targets = [t for t in targets if t not in stage_targets]
    stages, outs = (
        judge.status(proj, found, stage_targets) if stage_targets or not targets else ([], [])
    )
    data = data_status.status(proj, data_targets) if data_targets or not targets else []
    if not targets:  # cached stage outs that the lock names but the cache lacks
        data += data_status.not_in_cache(proj, outs)
    return StatusReport(tuple(data), tuple(stages))


def repro(
    targets: Sequence[str] = (),
    *,
    force: bool = False,
    single_stage: bool = False,
    downstream: bool = False,
    dry: bool = False,
    jobs: int = 1,
    keep_going: bool = False,
    wait: float | None = None,
    run_cache: bool = True,
    pull: bool = False,
    commit: bool = False,
    message: str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    on_event: Callable[[str], None] | None = None,
    on_output: Callable[[str, str], None] | None = None,
    project: Project | None = None,
) -> ReproReport:
    """Run the stale stages of pipeline.yaml (and what they need), `jobs` at a time.
    Raises StageFailedError naming the stages that failed; finished stages keep their
    lock entries either way. `on_event` gets progress lines; `on_output` gets each line a
    stage prints when several run at once (else they print straight to our stdout).
    `commit`: then commit the results (lock, pointers, `cache: false` outs, .gitignore)
    with `message` and attach the run records as a note; refused up front when unrelated
    files are staged."""
    from gitflowml import index
    from gitflowml.errors import PipelineError, StageFailedError
    from gitflowml.repro import commit as commit_mod
    from gitflowml.repro import engine
    from gitflowml.repro.options import ReproOptions

    proj = _project(project)
    found = index.load(proj)  # once, for the whole command
    if found is None:
        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    if commit:
        commit_mod.check_nothing_unrelated_staged(proj, found[0])
    options = ReproOptions(
        tuple(targets),
        force,
        single_stage,
        downstream,
        dry,
        max(1, jobs),
        keep_going,
        wait,
        run_cache,
        pull,
        executor or proj.config.executor,
        scheduler or proj.config.scheduler,
    )
    report = engine.run(proj, found, options, on_event, on_output)
    if report.failed:
        shown = "; ".join(f"stage '{r.name}' {r.message}" for r in report.failed)
        raise StageFailedError(
            f"{shown}; fix it and run 'gitflowml repro' again (finished stages are kept)"
        )
    if commit and not dry:
        ran = [r.name for r in report.results if r.outcome in ("ran", "restored")]
        report.commit = commit_mod.commit_results(proj, found[0], ran, message)
    return report


@dataclass(frozen=True, slots=True)
class Dag:
    nodes: tuple[str, ...]  # in run order
    edges: tuple[tuple[str, str], ...]  # (upstream, downstream)


def dag(target: str | None = None, *, project: Project | None = None) -> Dag:
    """The stage graph of pipeline.yaml, or the part of it `target` needs."""
    from gitflowml import index
    from gitflowml.errors import PipelineError

    found = index.load(_project(project))
    if found is None:
        raise PipelineError("there is no pipeline.yaml here; create one (see docs/pipeline.md)")
    loaded, g = found
    names = g.order(g.upstream_of(index.resolve_targets(loaded, [target])) if target else None)
    chosen = set(names)
    edges = tuple(
        (u, n) for n in names for u in sorted(g.upstream[n], key=names.index) if u in chosen
    )
    return Dag(tuple(names), edges)


def checkout(
    targets: Sequence[str] = (), *, force: bool = False, project: Project | None = None
) -> CheckoutReport:
    """Make the workspace match the pointer files, restoring data from the cache."""
    from gitflowml import index
    from gitflowml.storage import checkout as checkout_mod

    proj = _project(project)
    return checkout_mod.checkout(proj, index.workspace_entries(proj, targets), force=force)


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
    project: Project | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Metrics at each revision (None: the workspace): {rev: {file: {metric: value}}}."""
    from gitflowml import metrics, revision, scm

    proj = _project(project)
    chosen = list(revs)
    if all_branches:
        chosen += scm.branches(proj.root)
    out = {}
    for rev in dict.fromkeys(chosen):
        at = revision.Revision(proj, rev)
        out[at.label] = metrics.show(at, [proj.relpath(p) for p in paths])
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
    project: Project | None = None,
) -> list[MetricRow]:
    """Tracked params that differ from `a` (default HEAD) to `b` (default the workspace);
    with `all_rows` every key of the params files, changed or not."""
    from gitflowml import metrics

    return metrics.params_diff(_project(project), a, b, all_rows)


def diff(a: str | None = None, b: str | None = None, *, project: Project | None = None) -> DataDiff:
    """Data paths added, modified or deleted from `a` (default HEAD) to `b` (default the
    workspace), files inside tracked directories included."""
    from gitflowml import metrics

    return metrics.data_diff(_project(project), a, b)


def log(
    target: str | None = None, *, limit: int | None = None, project: Project | None = None
) -> list[LogEntry]:
    """Run records from the notes of HEAD and its ancestors, newest first: all, one stage
    (or foreach/matrix group), or the runs that produced a path."""
    from gitflowml.lineage import log as log_mod

    return log_mod.entries(_project(project), target, limit)


def check_large_files(
    files: Sequence[str] = (), max_kb: int = 500, *, project: Project | None = None
) -> list[tuple[str, int]]:
    """Staged files (or `files`) over `max_kb` KiB that git would store."""
    from gitflowml import hooks

    return hooks.large_files(_project(project), files, max_kb)


def unpushed(remote: str | None = None, *, project: Project | None = None) -> list[str]:
    """Tracked data paths whose objects the remote (default: the default one) lacks."""
    from gitflowml.remote import push as push_mod

    return push_mod.unpushed(_project(project), remote)


def import_dvc(*, project: Project | None = None) -> ImportReport:
    """Convert dvc.yaml, *.dvc files and .dvc/config remotes in place; idempotent."""
    from gitflowml import importdvc

    return importdvc.import_dvc(_project(project))


def install(*, project: Project | None = None) -> InstallReport:
    """Install the git hooks and the notes fetch refspec."""
    from gitflowml import githooks

    return githooks.install(_project(project))


# -- remotes -----------------------------------------------------------------------------------
def remote_add(
    name: str,
    url: str,
    *,
    default: bool = False,
    local: bool = False,
    project: Project | None = None,
) -> None:
    """Add a remote (to config.local.yaml with `local`); `default` makes it the default."""
    config.add_remote(_project(project).dot_dir, name, url, default=default, local=local)


def remote_list(*, project: Project | None = None) -> tuple[tuple[RemoteConfig, ...], str | None]:
    """The remotes and the default remote's name."""
    conf = Project.find(_project(project).root).config  # as written now
    return conf.remotes, conf.default_remote


def remote_remove(name: str, *, project: Project | None = None) -> None:
    config.remove_remote(_project(project).dot_dir, name)


def remote_modify(
    name: str, key: str, value: str, *, local: bool = False, project: Project | None = None
) -> None:
    """Set an option passed to the remote's file system (`url` changes the URL). Credentials
    are refused unless `local` (config.local.yaml is never committed)."""
    config.modify_remote(_project(project).dot_dir, name, key, value, local=local)


def _transfer(
    targets: Sequence[str],
    remote: str | None,
    jobs: int | None,
    all_branches: bool,
    all_commits: bool,
    on_progress: ProgressSink | None,
    notes: bool,
) -> tuple[Scope, TransferOptions]:
    from gitflowml.index import Scope
    from gitflowml.remote.needs import TransferOptions

    scope = Scope(tuple(targets), all_branches, all_commits)
    return scope, TransferOptions(remote, jobs, notes, on_progress)


def push(
    targets: Sequence[str] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
    project: Project | None = None,
) -> TransferReport:
    """Upload the objects (and run-cache entries) the remote lacks."""
    from gitflowml.remote import push as push_mod

    scope, options = _transfer(targets, remote, jobs, all_branches, all_commits, on_progress, notes)
    return push_mod.push(_project(project), scope, options)


def fetch(
    targets: Sequence[str] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
    project: Project | None = None,
) -> TransferReport:
    """Download the objects (and run-cache entries) the local cache lacks, verified."""
    from gitflowml.remote import fetch as fetch_mod

    scope, options = _transfer(targets, remote, jobs, all_branches, all_commits, on_progress, notes)
    return fetch_mod.fetch(_project(project), scope, options)


def pull(
    targets: Sequence[str] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_commits: bool = False,
    force: bool = False,
    on_progress: ProgressSink | None = None,
    notes: bool = True,
    project: Project | None = None,
) -> TransferReport:
    """fetch, then checkout."""
    from gitflowml.remote import fetch as fetch_mod

    scope, options = _transfer(targets, remote, jobs, all_branches, all_commits, on_progress, notes)
    return fetch_mod.pull(_project(project), scope, options, force)


def gc(
    *,
    all_branches: bool = False,
    all_commits: bool = False,
    cloud: bool = False,
    remote: str | None = None,
    dry: bool = False,
    jobs: int | None = None,
    project: Project | None = None,
) -> GcReport:
    """Delete cache objects not used by the workspace (and all branches or all commits);
    with `cloud`, from the remote too. `dry` only counts."""
    from gitflowml import gc as gc_mod

    return gc_mod.gc(
        _project(project),
        all_branches=all_branches,
        all_commits=all_commits,
        cloud=cloud,
        remote=remote,
        dry=dry,
        jobs=jobs,
    )
