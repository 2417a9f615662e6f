"""`gitflowml doctor`: what this installation and repository are made of, and anything
wrong with them: versions, the cache's file system and the link types that work there,
whether each remote answers, leftover temporaries, a pipeline that does not load and, with
`verify`, objects whose content no longer matches their hash. Nothing is changed."""

from __future__ import annotations

import os
import platform
import sys
import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from gitflowml import __version__, index, scm
from gitflowml.errors import GitflowmlError
from gitflowml.project import Project
from gitflowml.remote.needs import remote_of
from gitflowml.storage import hashing, layout, links
from gitflowml.storage.odb import LocalOdb, local_odb
from gitflowml.util import tmpfiles

PACKAGES = ("click", "PyYAML", "GitPython", "xxhash", "fsspec", "s3fs", "dask", "distributed")
REMOTE_TIMEOUT_S = 15.0


@dataclass(slots=True)
class Report:
    versions: dict[str, str] = field(default_factory=dict)  # name -> version or "not installed"
    platform: str = ""
    cache: str = ""  # its directory
    cache_fs: str = ""  # the file system type it is on
    link_types: dict[str, bool] = field(default_factory=dict)
    remotes: dict[str, str] = field(default_factory=dict)  # name -> "ok" or what went wrong
    pipeline: str = ""  # "N stages", "none", or the error
    temporaries: int = 0  # orphaned temporaries in .gitflowml/
    objects_checked: int = 0
    corrupt: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def versions() -> dict[str, str]:
    found = {
        "gitflowml": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
    }
    try:
        found["git"] = scm.git_version()
    except GitflowmlError as exc:
        found["git"] = f"not usable: {exc}"
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def check(project: Project | None, verify: bool = False) -> Report:
    report = Report(versions=versions(), platform=platform.platform())
    if project is None:
        return report
    odb = local_odb(project)
    odb.root.mkdir(parents=True, exist_ok=True)
    report.cache = str(odb.root)
    report.cache_fs = file_system(odb.root)
    report.link_types = {k.value: v for k, v in links.probe(odb, project.work_dir).items()}
    for remote in project.config.remotes:
        report.remotes[remote.name] = _reach(project, remote.name)
        if report.remotes[remote.name] != "ok":
            report.problems.append(f"remote '{remote.name}': {report.remotes[remote.name]}")
    try:
        found = index.load(project)
        report.pipeline = "none" if found is None else f"{len(found[0].stages)} stages, valid"
    except GitflowmlError as exc:
        report.pipeline = str(exc)
        report.problems.append(f"pipeline: {exc}")
    report.temporaries = len(tmpfiles.orphans(tmpfiles.in_tree(project.dot_dir)))
    if report.temporaries:
        report.problems.append(
            f"{report.temporaries} temporaries left by interrupted commands; 'gitflowml gc' "
            "removes them"
        )
    if verify:
        report.objects_checked, report.corrupt = _verify(odb)
        for path in report.corrupt:
            report.problems.append(
                f"cache object {path} is corrupt; delete it and run 'gitflowml pull' or add "
                "the data again"
            )
    return report


def file_system(path: Path) -> str:
    """The type of the file system `path` is on (Linux: from /proc/self/mountinfo)."""
    best, kind = "", "unknown"
    target = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as info:
            for line in info:
                fields = line.split()
                mount = fields[4].replace("\\040", " ")
                fstype = fields[fields.index("-") + 1]
                inside = target == mount or target.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, kind = mount, fstype
    except (OSError, ValueError, IndexError):
        return "unknown"
    return kind


def _reach(project: Project, name: str) -> str:
    """'ok' when the remote lists its packs within the timeout; else what went wrong."""
    outcome: list[str] = []

    def attempt() -> None:
        try:
            remote_of(project, name, None).packs()
            outcome.append("ok")
        except GitflowmlError as exc:
            outcome.append(str(exc))
        except Exception as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(REMOTE_TIMEOUT_S)
    return outcome[0] if outcome else f"no answer within {REMOTE_TIMEOUT_S:.0f} s"


def _verify(odb: LocalOdb) -> tuple[int, list[str]]:
    """How many objects were re-hashed, and the keys of those whose content is not their name."""
    keys = sorted(odb.listing())
    corrupt = [k for k in keys if hashing.hash_file(str(odb.root / k))[0] != layout.oid_of(k)]
    return len(keys), corrupt
