"""push: upload the objects the remote lacks, files before manifests, so a manifest on a
remote means its files are there too; and `unpushed`, the pre-push check."""

from __future__ import annotations

from gitflowml import index, scm
from gitflowml.errors import ConfigError, ObjectMissingError
from gitflowml.index import Scope
from gitflowml.lineage.notes import NOTES_REF
from gitflowml.project import Project
from gitflowml.remote.needs import (
    Counter,
    TransferOptions,
    TransferReport,
    files_of,
    remote_of,
    say,
    top_needs,
    top_path,
)
from gitflowml.remote.runs import run_cache_needs, runs_to_push
from gitflowml.storage.odb import local_odb


# -- push ----------------------------------------------------------------------------------------
def push(project: Project, scope: Scope, options: TransferOptions) -> TransferReport:
    target = remote_of(project, options.remote, options.jobs)
    odb = local_odb(project)
    on_progress = options.on_progress
    tops = top_needs(index.scope_entries(project, scope, moving=True))
    for need in tops.values():
        if need.is_dir and not odb.exists(need.oid, is_dir=True):
            raise ObjectMissingError(
                f"the cache lacks the directory manifest of {need.path} ({need.oid}); "
                f"nothing was pushed; run 'gitflowml fetch' or re-add {need.path}"
            )
    if not scope.targets:  # earlier runs' outs go with their run-cache entries
        for key, need in run_cache_needs(project, odb).items():
            tops.setdefault(key, need)
    files = {k: n for k, n in tops.items() if not n.is_dir}
    files.update(files_of(odb, tops))
    lacking = odb.missing({n.oid for n in files.values()})
    if lacking:
        example = next(n for n in files.values() if n.oid in lacking)
        raise ObjectMissingError(
            f"the cache lacks {len(lacking)} object(s), e.g. of {example.path}; nothing was "
            f"pushed; run 'gitflowml checkout' to see what is missing, or fetch it first"
        )
    dirs = {k: n for k, n in tops.items() if n.is_dir}
    report = TransferReport(remote=target.name)
    keys = sorted(files) + sorted(dirs)
    say(on_progress, "checking", 0, len(keys), 0)
    present = target.has(keys)
    report.present = len(present)
    # in path order: a directory's files sit together in a pack, read with few ranged reads
    by_path = sorted((k for k in files if k not in present), key=lambda k: (files[k].path, k))
    todo_files = [(odb.path(files[k].oid), k) for k in by_path]
    todo_dirs = [(odb.path(dirs[k].oid, True), k) for k in sorted(dirs) if k not in present]
    todo_runs = runs_to_push(project, target, set(keys))
    total = len(todo_files) + len(todo_dirs)
    counter = Counter(on_progress, "uploading", total + len(todo_runs))
    target.upload(todo_files, counter)
    # after their files (a manifest there means the directory is complete), and with the
    # run-cache entries naming them: in the same pack, they appear at the same moment
    target.upload(todo_dirs + todo_runs, counter, spread=False)
    report.moved, report.bytes, report.runs = total, counter.bytes, len(todo_runs)
    origin = options.notes and scm.has_remote(project.root, "origin")
    if origin and scm.rev_parse(project.root, NOTES_REF) is not None:
        scm.fetch_notes(project.root, "origin", NOTES_REF)  # theirs first
        scm.push_ref(project.root, "origin", NOTES_REF)
        report.notes = True
    return report


# -- the pre-push check ----------------------------------------------------------------------------
def unpushed(project: Project, remote: str | None = None) -> list[str]:
    """Data paths of the workspace whose objects the remote lacks (for the pre-push hook).
    With no remote configured: an error if anything is cached at all, else nothing."""
    entries = index.scope_entries(project, Scope(), moving=True)
    if not entries:
        return []
    try:
        target = remote_of(project, remote, None)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}; data tracked here would not reach anyone else ({entries[0].target}, …)"
        ) from None
    odb = local_odb(project)
    tops = top_needs(entries)
    known = {k: n for k, n in tops.items() if not n.is_dir or odb.exists(n.oid, True)}
    needs = dict(known)
    needs.update(files_of(odb, known))
    present = target.has(sorted(needs))
    missing = {top_path(needs[k], tops) for k in needs if k not in present}
    return sorted(missing)
