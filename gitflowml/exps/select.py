"""Which params and metrics columns `exp show` keeps, and the order of its rows.

A column is `FILE:KEY`. Priority, as DVC has it: `--keep` beats `--drop`, which beats
`--only-changed` (a column whose value is the same in every row).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from gitflowml.errors import ExperimentError
from gitflowml.exps.table import Row

Kind = Literal["params", "metrics"]


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    kind: Kind
    file: str
    key: str

    @property
    def full(self) -> str:
        return f"{self.file}:{self.key}"


def columns(rows: Sequence[Row]) -> list[Column]:
    """Every params column, then every metrics column, in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    out = []
    for kind in ("metrics", "params"):
        seen.clear()
        for row in rows:
            for file, keys in (row.metrics if kind == "metrics" else row.params).items():
                for key in keys:
                    seen[(file, key)] = None
        out += [Column(kind, file, key) for file, key in seen]
    return out


def label(column: Column, every: Sequence[Column]) -> str:
    """The key alone, or `FILE:KEY` when another column has the same key."""
    same = sum(1 for c in every if c.key == column.key)
    return column.full if same > 1 else column.key


def value(row: Row, column: Column) -> Any:
    values = row.metrics if column.kind == "metrics" else row.params
    return values.get(column.file, {}).get(column.key, _MISSING)


class _Missing:
    def __repr__(self) -> str:
        return "-"


_MISSING: Any = _Missing()


def is_missing(found: Any) -> bool:
    return found is _MISSING


def _compiled(pattern: str | None, flag: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ExperimentError(
            f"{flag} {pattern!r} is not a valid regular expression: {exc}"
        ) from None


def choose(
    rows: Sequence[Row],
    only_changed: bool = False,
    keep: str | None = None,
    drop: str | None = None,
    tracked: Iterable[tuple[str, str]] | None = None,
) -> list[Column]:
    """The columns to show. `tracked` ((file, key prefix) pairs): with --param-deps, only
    params a stage depends on."""
    keep_re, drop_re = _compiled(keep, "--keep"), _compiled(drop, "--drop")
    wanted = None if tracked is None else list(tracked)
    out = []
    for column in columns(rows):
        names = (column.key, column.full)
        if keep_re is not None and any(keep_re.search(n) for n in names):
            out.append(column)
            continue
        if drop_re is not None and any(drop_re.search(n) for n in names):
            continue
        if column.kind == "params" and wanted is not None and not _tracked(column, wanted):
            continue
        if only_changed and len(rows) > 1 and _same(rows, column):
            continue
        out.append(column)
    return out


def _tracked(column: Column, tracked: list[tuple[str, str]]) -> bool:
    return any(
        f == column.file and (not k or column.key == k or column.key.startswith(k + "."))
        for f, k in tracked
    )


def _same(rows: Sequence[Row], column: Column) -> bool:
    first = value(rows[0], column)
    return all(_equal(value(r, column), first) for r in rows[1:])


def _equal(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def keep_columns(rows: Sequence[Row], chosen: Sequence[Column]) -> list[Row]:
    """The rows with only the chosen params and metrics."""
    picked = set(chosen)
    if picked == set(columns(rows)):
        return list(rows)
    out = []
    for row in rows:
        params = _only(row.params, "params", picked)
        metrics = _only(row.metrics, "metrics", picked)
        out.append(dataclasses.replace(row, params=params, metrics=metrics))
    return out


def _only(values: dict[str, dict[str, Any]], kind: Kind, picked: set[Column]) -> Any:
    return {
        f: {k: v for k, v in keys.items() if Column(kind, f, k) in picked}
        for f, keys in values.items()
    }


def find_column(rows: Sequence[Row], name: str) -> Column:
    every = columns(rows)
    hits = [c for c in every if name in (c.full, c.key)]
    if len({c.full for c in hits}) > 1:
        choices = ", ".join(sorted(c.full for c in hits))
        raise ExperimentError(f"--sort-by {name} is ambiguous; name one of {choices}")
    if not hits:
        raise ExperimentError(
            f"--sort-by {name}: no such param or metric; 'gitflowml exp show' lists the columns"
        )
    metrics_first = sorted(hits, key=lambda c: c.kind != "metrics")
    return metrics_first[0]


def sort(rows: Sequence[Row], name: str, descending: bool = False) -> list[Row]:
    """Each baseline row stays first; its experiments are sorted by the column, those
    without a value last."""
    column = find_column(rows, name)
    out: list[Row] = []
    group: list[Row] = []

    def flush() -> None:
        have = [r for r in group if _sortable(value(r, column))]
        lack = [r for r in group if not _sortable(value(r, column))]
        have.sort(key=lambda r: _key(value(r, column)), reverse=descending)
        out.extend(have + lack)
        group.clear()

    for row in rows:
        if row.baseline is None:
            flush()
            out.append(row)
        else:
            group.append(row)
    flush()
    return out


def _sortable(found: Any) -> bool:
    return not is_missing(found) and found is not None


def _key(found: Any) -> tuple[int, Any]:
    if isinstance(found, bool) or not isinstance(found, int | float):
        return (1, str(found))
    return (0, found)
