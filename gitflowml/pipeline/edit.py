"""Edits to an existing pipeline file made by commands (`remove` of a stage, `move` of data
a stage reads): the text is changed only where the stage's block or dep is, so the rest of
the file, comments and layout included, stays exactly as the user wrote it (PyYAML cannot
write comments back)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitflowml.errors import PipelineError
from gitflowml.util import fsutil, yamlio


def remove_stage_blocks(path: Path, names: Sequence[str]) -> None:
    """Cut the blocks of the stages (or foreach/matrix groups) `names` out of `path`."""
    text = path.read_text(encoding="utf-8")
    doc = yamlio.loads_located(text)
    stages = doc.data.get("stages") if isinstance(doc.data, dict) else None
    if not isinstance(stages, dict):
        raise PipelineError(f"{path.name} has no stages to remove")
    lines = text.splitlines(keepends=True)
    starts = sorted((line, key) for key in stages if (line := doc.line(stages, key)) is not None)
    top = sorted(line for key in doc.data if (line := doc.line(doc.data, key)) is not None)
    stages_line = doc.line(doc.data, "stages") or 0
    end_of_stages = next((line for line in top if line > stages_line), len(lines) + 1)
    cut: set[int] = set()  # 0-based line numbers to drop
    for name in names:
        at = next((i for i, (_, key) in enumerate(starts) if key == name), None)
        if at is None:
            raise PipelineError(f"'{name}' is not a stage of {path.name}")
        first = starts[at][0]
        end = starts[at + 1][0] if at + 1 < len(starts) else end_of_stages
        if end <= first:  # another stage on the same line: a flow mapping
            raise PipelineError(
                f"{path.name} writes stage '{name}' on one line with others; remove it by hand"
            )
        last = end - 1  # keep the blank lines and comments just above the next block
        while last > first and _aside(lines[last - 1]):
            last -= 1
        while first > stages_line + 1 and lines[first - 2].strip().startswith("#"):
            first -= 1  # a comment right above the stage's name is about the stage
        cut.update(range(first - 1, last))
    kept = "".join(line for i, line in enumerate(lines) if i not in cut)
    fsutil.atomic_write_text(path, kept)


def _aside(line: str) -> bool:
    """A blank line or a comment."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def rename_deps(path: Path, old: str, new: str) -> list[str]:
    """Where a stage's `deps` name `old` (or a path under it), write `new` instead, in the
    text; returns the names (as written in the file) of the stages changed."""
    text = path.read_text(encoding="utf-8")
    doc = yamlio.loads_located(text)
    stages = doc.data.get("stages") if isinstance(doc.data, dict) else None
    if not isinstance(stages, dict):
        return []
    lines = text.splitlines(keepends=True)
    token = re.compile(r"(?<![\w./-])" + re.escape(old.rstrip("/")) + r"(?=$|[/\s,\]'\"#])")
    changed: list[str] = []
    for name, body in stages.items():
        for mapping in _with_deps(body):
            keys = sorted(line for k in mapping if (line := doc.line(mapping, k)) is not None)
            first = doc.line(mapping, "deps")
            if first is None:
                continue
            end = next((line for line in keys if line > first), first + 1 + _span(lines, first))
            for i in range(first - 1, min(end - 1, len(lines))):
                fixed = token.sub(new, lines[i])
                if fixed != lines[i]:
                    lines[i] = fixed
                    if name not in changed:
                        changed.append(str(name))
    if changed:
        fsutil.atomic_write_text(path, "".join(lines))
    return changed


def _with_deps(body: Any) -> list[dict[Any, Any]]:
    """The mappings in a stage's definition (`do:` of foreach/matrix too) that hold deps."""
    if not isinstance(body, dict):
        return []
    found = [body] if "deps" in body else []
    return found + _with_deps(body.get("do"))


def _span(lines: list[str], first: int) -> int:
    """How many lines after line `first` (1-based) are indented deeper than it: the rest
    of a block value that is the last key of its mapping."""
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    count = 0
    for line in lines[first:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        count += 1
    return count
