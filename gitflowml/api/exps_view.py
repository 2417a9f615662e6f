"""The API of experiments that exist: show, diff, apply, branch, remove, the queue, and
sharing them through a git remote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitflowml import quick
from gitflowml.api.base import _project
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.exps.queue import Entry
    from gitflowml.exps.table import Baseline, Row
    from gitflowml.metrics import Row as DiffRow
    from gitflowml.scm.exprefs import ExpRef


@dataclass(frozen=True, slots=True)
class ShowOptions:
    all_branches: bool = False
    revs: tuple[str, ...] = ()
    num: int = 1  # commits of HEAD's history, each with its experiments
    only_changed: bool = False
    keep: str | None = None
    drop: str | None = None
    sort_by: str | None = None
    descending: bool = False
    param_deps: bool = False


def exp_show(options: ShowOptions = ShowOptions(), *, project: Project | None = None) -> list[Row]:
    """The baseline rows and their experiments (what `exp show --json` prints)."""
    from gitflowml import index, metrics
    from gitflowml.errors import PipelineError
    from gitflowml.exps import queue, select, table
    from gitflowml.pipeline.params import DEFAULT_PARAMS
    from gitflowml.revision import Revision
    from gitflowml.scm import exprefs

    proj = _project(project)
    found = index.load(proj)
    if found is None:
        raise PipelineError("there is no pipeline.yaml here, so no experiments to show")
    _note_inputs(proj)
    refs = exprefs.every(proj.root)
    entries = queue.entries(proj)
    if any(e.state == "running" for e in entries):
        quick.spoil()  # its state is a process's, which no file shows
    baselines = _baselines(proj, options, refs, entries)
    refs_files = [r for s in found[0].stages.values() for r in s.params]
    params_files = sorted({r.file for r in refs_files} | {DEFAULT_PARAMS})
    metrics_files = metrics.declared_metrics(Revision(proj, None))
    rows = table.rows(proj, baselines, refs, entries, params_files, metrics_files)
    tracked = None
    if options.param_deps:
        tracked = [(r.file, k) for r in refs_files for k in (r.keys or ("",))]
    chosen = select.choose(rows, options.only_changed, options.keep, options.drop, tracked)
    rows = select.keep_columns(rows, chosen)
    if options.sort_by:
        rows = select.sort(rows, options.sort_by, options.descending)
    return rows


def _note_inputs(proj: Project) -> None:
    """What a quick answer of `exp show` depends on beyond what the loaders note: refs and
    the queue (commits and their files never change)."""
    from gitflowml import scm
    from gitflowml.exps import queue

    scm.note_refs(proj.root)
    quick.note_tree(queue.directory(proj))


def _baselines(
    proj: Project, options: ShowOptions, refs: Sequence[ExpRef], entries: Sequence[Entry]
) -> list[Baseline]:
    from gitflowml import scm
    from gitflowml.errors import PathError
    from gitflowml.exps.table import Baseline
    from gitflowml.scm import plumbing

    out: dict[str, str] = {}
    head = scm.rev_parse(proj.root, "HEAD")
    if head is not None and not options.revs and not options.all_branches:
        history = scm.rev_list(proj.root, "HEAD", max(1, options.num))
        for i, sha in enumerate(history):
            out[sha] = (scm.current_branch(proj.root) or head[:7]) if i == 0 else sha[:7]
    for rev in options.revs:
        found = scm.rev_parse(proj.root, rev)
        if found is None:
            raise PathError(f"'{rev}' is not a revision of this repository; check 'git log'")
        out.setdefault(found, rev)
    if options.all_branches:
        for name in scm.branches(proj.root):
            tip = scm.rev_parse(proj.root, name)
            if tip is not None:
                out.setdefault(tip, name)
        used = {r.baseline for r in refs} | {e.baseline for e in entries}
        for commit in sorted(used - set(out)):
            known = scm.rev_parse(proj.root, commit) is not None
            reachable = known and plumbing.reachable(proj.root, commit)
            out[commit] = commit[:7] + ("" if reachable else " (not in history)")
    return [Baseline(c, label) for c, label in out.items()]


def exp_diff(
    a: str, b: str | None = None, *, all_rows: bool = False, project: Project | None = None
) -> list[DiffRow]:
    """Params, then metrics, from `b` (default: `a`'s baseline) to `a`; either may be an
    experiment name or any revision."""
    from gitflowml import metrics as m
    from gitflowml.revision import Revision
    from gitflowml.scm import plumbing

    proj = _project(project)
    new = Revision(proj, a)
    if b is None:
        assert new.commit is not None
        found = plumbing.commits(proj.root, [new.commit])
        b = found[0].parent if found and found[0].parent else new.commit
    old = Revision(proj, b)
    files = sorted(set(m.declared_metrics(old)) | set(m.declared_metrics(new)))
    params = m.diff_values(
        m.params_at(proj, old, all_rows), m.params_at(proj, new, all_rows), all_rows
    )
    return params + m.diff_values(m.show(old, files), m.show(new, files), all_rows)


def _resolve(proj: Project, name: str) -> ExpRef:
    from gitflowml.errors import ExperimentError
    from gitflowml.scm import exprefs

    found = exprefs.find(proj.root, name)
    if not found:
        raise ExperimentError(
            f"there is no experiment '{name}'; 'gitflowml exp show -a' lists them"
        )
    return found[-1]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    name: str
    commit: str
    paths: tuple[str, ...]  # files written from the experiment
    stash: str | None = None  # with --force: the commit that holds what was overwritten


def exp_apply(name: str, *, force: bool = False, project: Project | None = None) -> ApplyReport:
    """Put the experiment's params, lock, pointers, metrics and outs in the workspace.
    Refuses when that would overwrite uncommitted changes, unless `force`, which first
    keeps them under `refs/gitflowml/exps/apply/stash`."""
    from gitflowml import index, scm
    from gitflowml.errors import ExperimentError
    from gitflowml.scm import exprefs, plumbing
    from gitflowml.storage import checkout as checkout_mod

    proj = _project(project)
    exp = _resolve(proj, name)
    head = scm.rev_parse(proj.root, "HEAD") or exp.baseline
    paths = plumbing.changed_paths(proj.root, head, exp.commit)
    dirty = plumbing.dirty(proj.root, paths) if paths else []
    stash = None
    if dirty and not force:
        shown = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
        raise ExperimentError(
            f"applying '{name}' would overwrite uncommitted changes to {shown}; commit them, "
            "or use --force (they are kept under refs/gitflowml/exps/apply/stash)"
        )
    if dirty:
        tree = plumbing.snapshot(proj.root, head, dirty)
        stash = plumbing.commit_tree(proj.root, tree, [head], f"before exp apply {name}")
        plumbing.update_ref(proj.root, exprefs.STASH, stash)
    # the data first: a workspace file with changes the cache has never seen stops it here,
    # before anything is written (unless `force`)
    checkout_mod.checkout(proj, index.entries_at(proj.root, [exp.commit]), force=force)
    present = set(plumbing.paths_in(proj.root, exp.commit, paths))
    plumbing.restore(proj.root, exp.commit, sorted(present))
    for path in paths:
        if path not in present and (proj.root / path).is_file():
            (proj.root / path).unlink()
    return ApplyReport(name, exp.commit, tuple(paths), stash)


def exp_branch(name: str, branch: str, *, project: Project | None = None) -> str:
    """A git branch at the experiment's commit; returns the commit."""
    from gitflowml.scm import plumbing

    proj = _project(project)
    exp = _resolve(proj, name)
    plumbing.branch(proj.root, branch, exp.commit)
    return exp.commit


def exp_remove(
    names: Sequence[str] = (),
    *,
    all_exps: bool = False,
    rev: str | None = None,
    queued: bool = False,
    project: Project | None = None,
) -> list[str]:
    """Delete experiments (their refs; their objects go at the next `gc`) and queue
    entries; returns the names removed."""
    from gitflowml import scm
    from gitflowml.errors import ExperimentError, PathError
    from gitflowml.exps import queue
    from gitflowml.scm import exprefs, plumbing

    proj = _project(project)
    refs = exprefs.every(proj.root)
    entries = {e.name: e for e in queue.entries(proj)}
    doomed: list[ExpRef] = []
    drop: list[str] = []
    if all_exps:
        doomed = list(refs)
    if rev is not None:
        commit = scm.rev_parse(proj.root, rev)
        if commit is None:
            raise PathError(f"'{rev}' is not a revision of this repository; check 'git log'")
        doomed += [r for r in refs if r.baseline == commit]
    if queued:
        drop += [n for n, e in entries.items() if e.state != "running"]
    for name in names:
        hits = [r for r in refs if r.name == name]
        if not hits and name not in entries:
            raise ExperimentError(
                f"there is no experiment '{name}'; 'gitflowml exp show -a' lists them"
            )
        if name in entries and entries[name].state == "running":
            raise ExperimentError(f"experiment '{name}' is running; stop it first")
        doomed += hits
        if name in entries:
            drop.append(name)
    for ref in doomed:
        plumbing.delete_ref(proj.root, ref.ref)
    queue.remove(proj, drop)
    return sorted({r.name for r in doomed} | set(drop))


def queue_status(*, project: Project | None = None) -> list[Entry]:
    from gitflowml.exps import queue

    return queue.entries(_project(project))


def queue_logs(name: str, *, project: Project | None = None) -> str:
    from gitflowml.errors import ExperimentError
    from gitflowml.exps import queue

    proj = _project(project)
    queue.get(proj, name)
    try:
        return queue.log_path(proj, name).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ExperimentError(f"experiment '{name}' has no log yet; it has not run") from None
