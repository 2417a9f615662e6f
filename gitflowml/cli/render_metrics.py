"""Pure formatters for comparing revisions (metrics show/diff, params diff, diff): data
in, text out, in gitflowml's shapes or DVC's (`--json-format dvc`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitflowml.metrics import DataDiff, Row


def _fmt(value: Any, precision: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{round(value, precision):g}"
    return str(value)


def diff_table(
    rows: Sequence[Row], a: str, b: str, precision: int, pct: bool, md: bool, what: str
) -> str:
    if not rows:
        return f"No {what} changed between {a} and {b}."
    from tabulate import tabulate

    body = []
    for r in rows:
        change = r.pct if pct else r.change
        shown = "-" if change is None else _fmt(change, precision) + ("%" if pct else "")
        body.append([r.path, r.key, _fmt(r.old, precision), _fmt(r.new, precision), shown])
    head = ["Path", {"params": "Param", "metrics": "Metric"}.get(what, "Key"), a, b, "Change"]
    return str(tabulate(body, head, tablefmt="github" if md else "simple", disable_numparse=True))


def diff_json(rows: Sequence[Row], dvc: bool = False) -> str:
    """{path: {key: {old, new, diff}}}; in DVC's shape `diff` is there for numbers only."""
    doc: dict[str, dict[str, Any]] = {}
    for r in rows:
        row = {"old": r.old, "new": r.new, "diff": r.change}
        if dvc and r.change is None:
            del row["diff"]
        doc.setdefault(r.path, {})[r.key] = row
    return json.dumps(doc, indent=None if dvc else 2, sort_keys=not dvc, default=str)


def metrics_json(values: dict[str, dict[str, dict[str, Any]]], dvc: bool) -> str:
    """{rev: {file: {metric: value}}}, or DVC's {rev: {"data": {file: {"data": nested}}}}
    (the workspace as "" when it is shown alone, as DVC names it)."""
    if not dvc:
        return json.dumps(values, indent=2, sort_keys=True, default=str)
    from gitflowml.revision import WORKSPACE  # here: the revision layer is not light

    alone = list(values) == [WORKSPACE]  # DVC names the workspace "" when it is alone
    doc = {
        "" if alone else rev: {"data": {path: {"data": _nested(kv)} for path, kv in files.items()}}
        for rev, files in values.items()
    }
    return json.dumps(doc, default=str)


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def metrics_show(values: dict[str, dict[str, dict[str, Any]]], md: bool, precision: int) -> str:
    from tabulate import tabulate

    body = [
        [rev, path, key, _fmt(v, precision)]
        for rev, files in values.items()
        for path, kv in sorted(files.items())
        for key, v in sorted(kv.items())
    ]
    if not body:
        return "No metrics found."
    head = ["Revision", "Path", "Metric", "Value"]
    return str(tabulate(body, head, tablefmt="github" if md else "simple", disable_numparse=True))


def data_diff(result: DataDiff) -> str:
    lines = [f"added: {p}" for p in result.added]
    lines += [f"modified: {p}" for p in result.modified]
    lines += [f"deleted: {p}" for p in result.deleted]
    return "\n".join(lines) if lines else "No data changed."


def data_diff_json(result: DataDiff, dvc: bool = False) -> str:
    if dvc:  # DVC's shape: entries, and a renamed list (gitflowml reports no renames)
        doc = {
            k: [{"path": p} for p in getattr(result, k)] for k in ("added", "deleted", "modified")
        }
        return json.dumps({**doc, "renamed": []})
    return json.dumps(
        {
            "added": list(result.added),
            "modified": list(result.modified),
            "deleted": list(result.deleted),
        },
        indent=2,
    )
