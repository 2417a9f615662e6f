"""Sharing experiments: their refs and run-record notes through a git remote, their objects
through the data remote (`exp push`, `exp pull`, `exp list`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitflowml.api.base import _project
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.remote.needs import TransferReport


@dataclass(frozen=True, slots=True)
class Listed:
    name: str
    baseline: str
    commit: str


@dataclass(slots=True)
class ShareReport:
    names: list[str] = field(default_factory=list)
    objects: TransferReport | None = None  # None with no_cache


def _chosen(listed: Sequence[Listed], names: Sequence[str], all_exps: bool) -> list[Listed]:
    from gitflowml.errors import ExperimentError

    if not names and not all_exps:
        raise ExperimentError("name the experiments to share, or pass --all")
    if all_exps:
        return list(listed)
    out = []
    for name in names:
        hits = [e for e in listed if e.name == name]
        if not hits:
            raise ExperimentError(
                f"there is no experiment '{name}' to share; 'gitflowml exp list' lists them"
            )
        out += hits
    return out


def exp_list(git_remote: str | None = None, *, project: Project | None = None) -> list[Listed]:
    """The experiments of this repository, or of `git_remote` (read with `ls-remote`)."""
    from gitflowml.scm import exprefs

    proj = _project(project)
    if git_remote is None:
        return [Listed(e.name, e.baseline, e.commit) for e in exprefs.every(proj.root)]
    out = []
    for ref, commit in _remote_refs(proj, git_remote):
        found = exprefs.parse(ref)
        if found is not None:
            out.append(Listed(found[1], found[0], commit))
    return sorted(out, key=lambda e: (e.baseline, e.name))


def _remote_refs(proj: Project, git_remote: str) -> list[tuple[str, str]]:
    from gitflowml.errors import GitflowmlError, RemoteError
    from gitflowml.scm import exprefs, plumbing

    try:
        return plumbing.remote_refs(proj.root, git_remote, exprefs.PREFIX)
    except GitflowmlError as exc:
        raise RemoteError(
            f"cannot read experiments from git remote '{git_remote}': {exc}; check "
            "'git remote -v' and your access"
        ) from None


def _refspecs(chosen: Sequence[Listed], force: bool) -> list[str]:
    from gitflowml.scm import exprefs

    refs = [exprefs.ref_for(e.baseline, e.name) for e in chosen]
    return [f"{'+' if force else ''}{ref}:{ref}" for ref in refs]


def _objects(chosen: Sequence[Listed], remote: str | None, jobs: int | None) -> tuple[Any, Any]:
    """The scope (the experiments' commits alone) and options of their objects' transfer."""
    from gitflowml.index import Scope
    from gitflowml.remote.needs import TransferOptions

    scope = Scope(revs=tuple(e.commit for e in chosen), workspace=False)
    return scope, TransferOptions(remote, jobs, False, None)


def exp_push(
    git_remote: str,
    names: Sequence[str] = (),
    *,
    all_exps: bool = False,
    cache: bool = True,
    remote: str | None = None,
    jobs: int | None = None,
    project: Project | None = None,
) -> ShareReport:
    """Push the experiments' refs and notes to `git_remote`, and (unless not `cache`) their
    objects to the data remote."""
    from gitflowml import scm
    from gitflowml.errors import GitflowmlError, RemoteError
    from gitflowml.lineage.notes import NOTES_REF
    from gitflowml.remote import push as push_mod
    from gitflowml.scm import plumbing

    proj = _project(project)
    chosen = _chosen(exp_list(project=proj), names, all_exps)
    report = ShareReport([e.name for e in chosen])
    if cache and chosen:
        report.objects = push_mod.push(proj, *_objects(chosen, remote, jobs))
    try:
        plumbing.push_refs(proj.root, git_remote, _refspecs(chosen, force=False))
        if scm.rev_parse(proj.root, NOTES_REF) is not None:
            scm.fetch_notes(proj.root, git_remote, NOTES_REF)
            scm.push_ref(proj.root, git_remote, NOTES_REF)
    except GitflowmlError as exc:
        raise RemoteError(f"cannot push experiments to git remote '{git_remote}': {exc}") from None
    return report


def exp_pull(
    git_remote: str,
    names: Sequence[str] = (),
    *,
    all_exps: bool = False,
    cache: bool = True,
    remote: str | None = None,
    jobs: int | None = None,
    project: Project | None = None,
) -> ShareReport:
    """Fetch the experiments' refs and notes from `git_remote`, and (unless not `cache`)
    their objects from the data remote."""
    from gitflowml import scm
    from gitflowml.errors import GitflowmlError, RemoteError
    from gitflowml.lineage.notes import NOTES_REF
    from gitflowml.remote import fetch as fetch_mod
    from gitflowml.scm import plumbing

    proj = _project(project)
    chosen = _chosen(exp_list(git_remote, project=proj), names, all_exps)
    try:
        plumbing.fetch_refs(proj.root, git_remote, _refspecs(chosen, force=True))
        scm.fetch_notes(proj.root, git_remote, NOTES_REF)
    except GitflowmlError as exc:
        raise RemoteError(
            f"cannot fetch experiments from git remote '{git_remote}': {exc}"
        ) from None
    report = ShareReport([e.name for e in chosen])
    if cache and chosen:
        report.objects = fetch_mod.fetch(proj, *_objects(chosen, remote, jobs))
    return report
