"""The API over remotes: configuring them, push, fetch, pull, gc, and what is unpushed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitflowml import config
from gitflowml.api.base import _project
from gitflowml.project import Project

# The core is imported inside each function, so that a command loads only the layers it
# uses: importing all of them costs about 50 ms, more than a no-op command takes.
if TYPE_CHECKING:
    from gitflowml.config import RemoteConfig
    from gitflowml.gc import GcReport
    from gitflowml.index import Scope
    from gitflowml.remote.needs import ProgressSink, TransferOptions, TransferReport


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
    exps: bool = True,
    repack: bool = False,
    project: Project | None = None,
) -> GcReport:
    """Delete cache objects not used by the workspace (and all branches or all commits);
    with `cloud`, from the remote too (packs less than half live are rewritten; `repack`
    also moves small loose objects into packs). `dry` only counts. What experiments (and
    queued ones) use is kept, unless not `exps`."""
    import dataclasses

    from gitflowml import gc as gc_mod
    from gitflowml.scm import exprefs, plumbing

    proj = _project(project)
    scope, options = _transfer((), remote, jobs, all_branches, all_commits, None, False)
    if exps:
        kept = [r.commit for r in plumbing.refs(proj.root, exprefs.PREFIX)]
        kept += [r.commit for r in plumbing.refs(proj.root, exprefs.QUEUE)]
        scope = dataclasses.replace(scope, revs=tuple(sorted(set(kept))))
    return gc_mod.gc(proj, scope, options if cloud else None, dry, cloud_repack=repack)


def unpushed(remote: str | None = None, *, project: Project | None = None) -> list[str]:
    """Tracked data paths whose objects the remote (default: the default one) lacks."""
    from gitflowml.remote import push as push_mod

    return push_mod.unpushed(_project(project), remote)
