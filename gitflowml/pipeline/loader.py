"""Owns `pipeline.yaml`: YAML -> validated, expanded, frozen `Stage`s in a `Pipeline`.

A superset of DVC's dvc.yaml stage schema (SPEC section 3). Every error names the file, the
line and the stage. Paths in stages are relative to the stage's `wdir`; they become POSIX
paths relative to the repository root (URLs and absolute deps stay as they are).
`pipeline_model.py` holds the models, `stagedef.py` parses one stage.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitflowml import quick
from gitflowml.errors import PipelineError
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline import plotdefs, stagedef, templating
from gitflowml.pipeline.model import (
    PIPELINE_FILE,
    TOP_KEYS,
    Out,
    ParamRef,
    Pipeline,
    Resources,
    Stage,
    Where,
)
from gitflowml.util import fsutil, yamlio

PARSED = "pipeline.parsed"  # in .gitflowml/tmp: the parsed YAML, keyed by the file's stat data
__all__ = ["PIPELINE_FILE", "Out", "ParamRef", "Pipeline", "Resources", "Stage", "load"]

_NAME = re.compile(r"^[A-Za-z0-9_][\w.-]*$")


def load(path: Path, root: Path, parsed: Path | None = None) -> Pipeline:
    """Parse, expand and validate `path` (a pipeline.yaml inside the repository `root`).
    With `parsed`, the parsed YAML (with its key lines) is kept in that file, keyed by the
    file's stat data, and reused while the file is unchanged, as the lock's is."""
    shown = posixpath.relpath(path.as_posix(), root.as_posix())
    quick.note(path)
    doc = _parse(path, shown, parsed)
    where = Where(shown, doc)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise where.error("expected a mapping with a 'stages' key")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise where.error(f"unknown top-level key '{unknown[0]}'", doc.line(data, unknown[0]))
    base = path.parent
    context, sources = _context(data.get("vars"), base, root, where, doc.line(data, "vars"))
    raw = data.get("stages") or {}
    if not isinstance(raw, dict):
        raise where.error("'stages' must be a mapping of stage names", doc.line(data, "stages"))
    stages: dict[str, Stage] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name, body in raw.items():
        line = doc.line(raw, name) or 0
        expanded = _expand(str(name), body, context, where, line)
        if len(expanded) != 1 or expanded[0][0] != name:
            groups[str(name)] = tuple(n for n, _ in expanded)
        for stage_name, definition in expanded:
            if stage_name in stages:
                raise where.error("defined twice", line, stage_name)
            tracked = _tracked_vars(body, sources)
            stages[stage_name] = stagedef.parse(
                stage_name,
                definition,
                body.get("do", body) if isinstance(body, dict) else body,
                base,
                root,
                where,
                line,
                str(name) if str(name) in groups else None,
                tracked,
            )
    _check_outs(stages, where)
    plots_line = doc.line(data, "plots")
    rel = posixpath.dirname(shown)

    def resolve(p: str) -> str:
        return posixpath.normpath(posixpath.join(rel, p))

    top = plotdefs.parse_top(data.get("plots"), lambda m: where.error(m, plots_line), resolve)
    return Pipeline(path=path, stages=stages, groups=groups, plots=top)


def _parse(path: Path, shown: str, parsed: Path | None) -> yamlio.Located:
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            key = fsutil.stat_key(path, st)
            plain = fsutil.kept(parsed, key) if parsed else None
            if plain is not None:
                with contextlib.suppress(ValueError, TypeError):
                    return yamlio.Located.from_plain(*plain)
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{shown} does not exist; create it (see docs/pipeline.md)") from None
    try:
        doc = yamlio.loads_located(text)
    except yamlio.YamlError as exc:
        raise PipelineError(f"{exc.where(shown)}; fix the file") from exc
    if parsed and max(st.st_mtime_ns, st.st_ctime_ns) + quick.RACY_NS < time.time_ns():
        fsutil.keep(parsed, key, doc.plain())  # no write within the same tick can hide
    return doc


def _context(
    vars_value: Any, base: Path, root: Path, where: Where, line: int | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Variables for ${}: params.yaml (when present), then `vars` entries in order. Also
    which params file each top-level name came from, so that uses can be tracked."""
    context: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def merge(values: Mapping[str, Any], source: str | None) -> None:
        for key, value in values.items():
            if key in context:
                if source is not None and source == sources.get(key):
                    continue  # the same params file listed again (params.yaml is implicit)
                raise where.error(f"vars: '{key}' is defined twice", line)
            context[key] = value
            if source is not None:
                sources[key] = source

    default = base / params_mod.DEFAULT_PARAMS
    quick.note(default)
    if default.exists():
        merge(params_mod.load(default, stagedef.rel(default, root)), stagedef.rel(default, root))
    entries = vars_value if isinstance(vars_value, list) else [] if vars_value is None else None
    if entries is None:
        raise where.error("'vars' must be a list of params files and mappings", line)
    for entry in entries:
        if isinstance(entry, dict):
            merge(entry, None)
        elif isinstance(entry, str):
            file, _, keys = entry.partition(":")
            path = base / file
            loaded = params_mod.load(path, stagedef.rel(path, root))
            if keys:
                wanted = [k.strip() for k in keys.split(",")]
                missing = [k for k in wanted if k not in loaded]
                if missing:
                    raise where.error(f"vars: {file} has no key '{missing[0]}'", line)
                loaded = {k: loaded[k] for k in wanted}
            merge(loaded, stagedef.rel(path, root))
        else:
            raise where.error("each 'vars' entry must be a file name or a mapping", line)
    return context, sources


def _expand(
    name: str, body: Any, context: dict[str, Any], where: Where, line: int
) -> list[tuple[str, Any]]:
    if not _NAME.match(name):
        raise where.error("a stage name may hold letters, digits, '_', '-' and '.'", line, name)
    if not isinstance(body, dict):
        raise where.error("a stage must be a mapping", line, name)
    local = context
    if "vars" in body and isinstance(body["vars"], list):
        local = {**context}
        for entry in body["vars"]:
            if isinstance(entry, dict):
                local.update(entry)
    try:
        if "foreach" in body:
            extra = sorted(set(body) - {"foreach", "do"})
            if extra:
                raise where.error(f"'foreach' goes with 'do' only, not '{extra[0]}'", line, name)
            if "do" not in body:
                raise where.error("'foreach' needs a 'do' stage", line, name)
            return list(templating.expand_foreach(name, body["foreach"], body["do"], local))
        if "matrix" in body:
            rest = {k: v for k, v in body.items() if k != "matrix"}
            return list(templating.expand_matrix(name, body["matrix"], rest, local))
        return [(name, templating.interpolate(body, local))]
    except templating.TemplateError as exc:
        raise where.error(str(exc), line, name) from exc


def _tracked_vars(body: Any, sources: Mapping[str, str]) -> dict[str, list[str]]:
    """Params-file values a stage uses through ${} are tracked like listed params (as DVC)."""
    found: dict[str, list[str]] = {}
    for expr in templating.expressions(body):
        key = re.sub(r"\[(\d+)\]", r".\1", expr.strip())
        root_name = key.split(".", 1)[0]
        if root_name in sources and root_name not in ("item", "key"):
            found.setdefault(sources[root_name], []).append(key)
    return found


def _check_outs(stages: Mapping[str, Stage], where: Where) -> None:
    """Each path has one producer: no two equal outs, and no out inside another.
    Linear in the number of outs (times their depth)."""
    owners: dict[str, Stage] = {}  # out path -> its stage
    below: dict[str, tuple[str, Stage]] = {}  # every parent directory of an out -> that out
    for stage in stages.values():
        for out in stage.outs:
            clash: tuple[str, Stage] | None = None
            if out.path in owners:
                clash = (out.path, owners[out.path])
            elif out.path in below:
                clash = below[out.path]
            else:
                parent = posixpath.dirname(out.path)
                while parent and clash is None:
                    if parent in owners:
                        clash = (parent, owners[parent])
                    parent = posixpath.dirname(parent)
            if clash is not None:
                path, other = clash
                what = "is also an output of" if path == out.path else f"overlaps '{path}' of"
                raise where.error(
                    f"output '{out.path}' {what} stage '{other.name}' (line {other.line}); "
                    "each path has one producer",
                    stage.line,
                    stage.name,
                )
            owners[out.path] = stage
            parent = posixpath.dirname(out.path)
            while parent:
                below.setdefault(parent, (out.path, stage))
                parent = posixpath.dirname(parent)
