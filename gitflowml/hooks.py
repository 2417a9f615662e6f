"""The checks behind `.pre-commit-hooks.yaml` that are not plain commands: large files
that git would store."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence

from gitflowml import scm
from gitflowml.index import Scope, scope_entries
from gitflowml.project import Project

DEFAULT_MAX_KB = 500


def large_files(
    project: Project, files: Sequence[str] = (), max_kb: int = DEFAULT_MAX_KB
) -> list[tuple[str, int]]:
    """(path, size) of the given files (default: the staged ones) over `max_kb` KiB that git
    would store: not tracked by gitflowml, not allowed by `core.allow_large_files`."""
    chosen = [project.relpath(f) for f in files] if files else scm.staged(project.root)
    ours = {t.target for t in scope_entries(project, Scope(), moving=False)}
    allow = project.config.allow_large_files
    found = []
    for rel in chosen:
        if any(rel == t or rel.startswith(t.rstrip("/") + "/") for t in ours):
            continue
        if any(fnmatch.fnmatch(rel, pattern) for pattern in allow):
            continue
        try:
            size = os.stat(project.root / rel).st_size
        except (FileNotFoundError, NotADirectoryError):
            continue  # deleted in this commit
        if size > max_kb * 1024:
            found.append((rel, size))
    return found
