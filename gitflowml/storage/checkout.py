"""Put tracked data in the workspace as the pointer files say.

A workspace file that differs from the pointer is replaced silently only when its content
is in the cache (nothing is lost); otherwise it is kept and reported unless `force`.
Every object is verified on its way out of the cache, so a corrupt one never lands.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitflowml.errors import CheckoutError, ObjectCorruptError, ObjectMissingError
from gitflowml.project import Project
from gitflowml.storage import links
from gitflowml.storage.hashing import Manifest, ManifestEntry
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.storage.state import open_state
from gitflowml.storage.tracked import Tracked
from gitflowml.storage.workspace import FileInfo, Info, Scanner
from gitflowml.util import fsutil, parallel


@dataclass(slots=True)
class CheckoutReport:
    restored: list[str] = field(default_factory=list)  # targets that changed on disk
    unchanged: list[str] = field(default_factory=list)
    files_written: int = 0
    files_removed: int = 0


@dataclass(slots=True)
class _Plan:
    entry: Tracked
    writes: list[tuple[str, ManifestEntry]]  # (workspace relpath under the target, entry)
    removals: list[Path]
    conflicts: list[str]
    replace_whole: bool  # the target is the wrong kind (file vs dir) and must be removed


def checkout(project: Project, entries: Sequence[Tracked], force: bool = False) -> CheckoutReport:
    """Put the given entries (pointer-file data, stage outs) in the workspace."""
    if not entries:
        return CheckoutReport()
    state = open_state(project)
    try:
        return checkout_entries(project, list(entries), force, Scanner(state, project.jobs))
    finally:
        state.close()


def checkout_entries(
    project: Project, entries: list[Tracked], force: bool, scanner: Scanner
) -> CheckoutReport:
    odb = local_odb(project)
    report = CheckoutReport()
    infos = scanner.scan_many([project.abspath(e.target) for e in entries])
    plans, problems = _plan_all(project, odb, entries, infos, force)
    _refuse_conflicts(plans, force)
    written, errors = _apply(project, odb, plans, report)
    scanner.record(written)
    targets = [project.abspath(e.target) for e in entries]
    scanner.remove_orphans([project.work_dir, *(t.parent for t in targets)])
    problems.extend(errors)
    if problems:
        raise CheckoutError("; ".join(problems))
    return report


def _plan_all(
    project: Project, odb: LocalOdb, entries: list[Tracked], infos: list[Info], force: bool
) -> tuple[list[_Plan], list[str]]:
    plans: list[_Plan] = []
    problems: list[str] = []
    for entry, info in zip(entries, infos, strict=True):
        try:
            plans.append(_plan(project, odb, entry, info))
        except ObjectMissingError:
            problems.append(
                f"{entry.target}: not in the cache; run 'gitflowml pull {entry.target}' to fetch it"
            )
        except ObjectCorruptError as exc:
            problems.append(f"{entry.target}: {exc}")
    return plans, problems


def _wanted(odb: LocalOdb, entry: Tracked) -> Manifest:
    ptr = entry.pointer
    if ptr.is_dir:
        return odb.read_manifest(ptr.oid)
    return Manifest((ManifestEntry("", ptr.oid, ptr.size, ptr.isexec),))


def _plan(project: Project, odb: LocalOdb, entry: Tracked, info: Info) -> _Plan:
    wanted = _wanted(odb, entry)
    base = project.abspath(entry.target)
    have: dict[str, tuple[str, bool]]  # workspace relpath -> (oid, isexec)
    replace_whole = False
    if info is None:
        have = {}
    elif isinstance(info, FileInfo):
        have = {"": (info.oid, info.isexec)}
        replace_whole = entry.pointer.is_dir
    else:
        have = {e.relpath: (e.oid, e.isexec) for e in info.files.entries}
        replace_whole = not entry.pointer.is_dir
    if replace_whole:
        writes = [(e.relpath, e) for e in wanted.entries]
        extra = have
    else:
        writes = [
            (e.relpath, e) for e in wanted.entries if have.get(e.relpath) != (e.oid, e.isexec)
        ]
        wanted_paths = {e.relpath for e in wanted.entries}
        extra = {k: v for k, v in have.items() if k not in wanted_paths}
    if odb.missing({e.oid for _, e in writes}):
        raise ObjectMissingError(entry.target)
    # a workspace file about to be replaced or removed is safe only if its content is cached
    at_risk = {rel: have[rel][0] for rel, _ in writes if rel in have} | {
        rel: v[0] for rel, v in extra.items()
    }
    lost = odb.missing(set(at_risk.values()))
    conflicts = sorted(_join(entry.target, rel) for rel, oid in at_risk.items() if oid in lost)
    removals = [] if replace_whole else [base / rel for rel in sorted(extra)]
    return _Plan(entry, writes, removals, conflicts, replace_whole)


def _join(target: str, rel: str) -> str:
    return f"{target}/{rel}" if rel else target


def _refuse_conflicts(plans: list[_Plan], force: bool) -> None:
    conflicts = [c for p in plans for c in p.conflicts]
    if conflicts and not force:
        shown = ", ".join(conflicts[:10]) + (
            f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        )
        raise CheckoutError(
            f"{len(conflicts)} workspace file(s) have changes that are not in the cache: {shown}; "
            "keep them with 'gitflowml add', or discard them with 'gitflowml checkout --force'"
        )


def _apply(
    project: Project, odb: LocalOdb, plans: list[_Plan], report: CheckoutReport
) -> tuple[list[tuple[str, str]], list[str]]:
    jobs: list[tuple[str, ManifestEntry]] = []  # (file, what it gets); strings: 20,000 is common
    for plan in plans:
        base = project.abspath(plan.entry.target)
        if plan.replace_whole:
            fsutil.remove(base)
        for path in plan.removals:
            fsutil.remove(path)
            report.files_removed += 1
        _prune_empty_dirs(base, plan.removals)
        home = os.fspath(base)
        for rel, entry in plan.writes:
            jobs.append((f"{home}/{rel}" if rel else home, entry))
        changed = plan.writes or plan.removals or plan.replace_whole
        (report.restored if changed else report.unchanged).append(plan.entry.target)

    made: set[str] = set()
    for dest, _ in jobs:
        parent = os.path.dirname(dest)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
    types = project.config.cache_types
    errors: list[str] = []

    def one(job: tuple[str, ManifestEntry]) -> tuple[str, str] | None:
        dest, entry = job
        try:
            links.materialise(
                odb, entry.oid, dest, types, entry.isexec, verified=False, size=entry.size
            )
        except ObjectCorruptError as exc:
            errors.append(f"{os.path.relpath(dest, project.root)}: {exc}")
            return None
        return dest, entry.oid

    done = parallel.map_batched(one, jobs, project.jobs, lambda j: j[1].size + 4096)
    written = [d for d in done if d is not None]
    report.files_written += len(written)
    if len(errors) > 5:
        errors = [*errors[:5], f"and {len(errors) - 5} more corrupt objects"]
    return written, errors


def _prune_empty_dirs(base: Path, removed: list[Path]) -> None:
    for directory in sorted({p.parent for p in removed}, key=lambda p: -len(p.parts)):
        while directory != base and directory.is_relative_to(base):
            with contextlib.suppress(OSError):
                os.rmdir(directory)
            directory = directory.parent
