"""`log`: run history from the notes of HEAD and its ancestors, newest first, with each
stage's metrics as the commit holding the run stored them."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from gitflowml import index, scm
from gitflowml.lineage.notes import history
from gitflowml.lineage.record import RunRecord
from gitflowml.pipeline import params
from gitflowml.project import Project
from gitflowml.util import yamlio


@dataclass(frozen=True)
class LogEntry:
    record: RunRecord
    commit: str
    author: str
    date: str
    metrics: dict[str, Any] = field(default_factory=dict)


def entries(project: Project, target: str | None, limit: int | None) -> list[LogEntry]:
    found = index.load(project)
    stages: set[str] | None = None
    path: str | None = None
    metric_files: dict[str, list[str]] = {}
    if found is not None:
        pipeline = found[0]
        metric_files = {
            name: [o.path for o in s.outs if o.kind == "metric"]
            for name, s in pipeline.stages.items()
        }
        if target is not None and index.is_stage_target(pipeline, target):
            stages = set(index.resolve_targets(pipeline, [target]))
    if target is not None and stages is None:
        path = project.relpath(target)
    out: list[LogEntry] = []
    cache: dict[tuple[str, str], dict[str, Any]] = {}
    for item in history(project.root, "HEAD"):
        rec = item.record
        if stages is not None and rec.stage not in stages:
            continue
        if path is not None and path not in rec.outs:
            continue
        metrics: dict[str, Any] = {}
        for file in metric_files.get(rec.stage, []):
            key = (item.commit, file)
            if key not in cache:
                cache[key] = _metrics_at(project, item.commit, file)
            metrics.update(cache[key])
        out.append(LogEntry(rec, item.commit, item.author, item.date, metrics))
        if limit is not None and len(out) >= limit:
            break
    return out


def _metrics_at(project: Project, commit: str, path: str) -> dict[str, Any]:
    data = scm.file_at(project.root, commit, path)
    if data is None:
        return {}
    try:
        doc = params.parse_data(data.decode("utf-8"), posixpath.splitext(path)[1].lower())
    except (ValueError, yamlio.YamlError):  # UnicodeDecodeError is a ValueError
        return {}
    return params.flatten(doc) if isinstance(doc, dict) else {}
