"""Pure formatters for experiments: the `exp show` table (text, Markdown, CSV, JSON), the
queue, and the news of runs. Data in, text out."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitflowml.exps.events import ExpEvent, Outcome
    from gitflowml.exps.queue import Entry
    from gitflowml.exps.table import Row


def _fmt(value: Any, precision: int) -> str:
    from gitflowml.exps.select import is_missing

    if is_missing(value) or value is None:
        return "-"
    if isinstance(value, float):
        return f"{round(value, precision):g}"
    return str(value)


def show_json(rows: Sequence[Row]) -> str:
    """A JSON list, one row a line (json's C encoder: an indented dump of 1,000 rows takes
    its pure-Python one, ten times slower)."""
    if not rows:
        return "[]"
    lines = (json.dumps(r.as_json(), default=str) for r in rows)
    return "[\n" + ",\n".join(lines) + "\n]"


def _grid(rows: Sequence[Row], precision: int, tree: bool) -> tuple[list[str], list[list[str]]]:
    from gitflowml.exps import select

    cols = select.columns(rows)
    head = ["Experiment", "rev", "Created", "State", *(select.label(c, cols) for c in cols)]
    body = []
    for i, row in enumerate(rows):
        name = row.name
        if tree and row.baseline is not None:
            last = i + 1 == len(rows) or rows[i + 1].baseline is None
            name = ("└── " if last else "├── ") + name
        values = [_fmt(select.value(row, c), precision) for c in cols]
        body.append([name, row.rev, row.created, row.state, *values])
    return head, body


def show_table(rows: Sequence[Row], precision: int = 5, md: bool = False) -> str:
    if not rows:
        return "No experiments."
    from tabulate import tabulate

    head, body = _grid(rows, precision, tree=not md)
    fmt = "github" if md else "simple"
    return str(tabulate(body, head, tablefmt=fmt, disable_numparse=True))


def show_csv(rows: Sequence[Row], precision: int = 5) -> str:
    from gitflowml.exps import select

    cols = select.columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "rev", "baseline", "created", "state", *(c.full for c in cols)])
    for row in rows:
        values = [
            "" if select.is_missing(v := select.value(row, c)) or v is None else v for c in cols
        ]
        writer.writerow([row.name, row.rev, row.baseline or "", row.created, row.state, *values])
    return out.getvalue().rstrip("\n")


def queue_table(entries: Sequence[Entry]) -> str:
    if not entries:
        return "The queue is empty."
    from tabulate import tabulate

    from gitflowml.exps.table import iso

    body = [[e.name, e.state, iso(e.created), e.baseline[:7], e.error] for e in entries]
    head = ["Experiment", "State", "Queued", "Baseline", "Error"]
    return str(tabulate(body, head, tablefmt="simple", disable_numparse=True))


def exp_event(e: ExpEvent) -> str:
    if e.kind == "queued":
        return f"Queued experiment {e.name}"
    if e.kind == "started":
        return f"Started experiment {e.name} ({e.detail})"
    if e.kind == "saved":
        return f"Ran experiment {e.name} ({e.detail[:8]})"
    return f"Experiment {e.name} failed: {e.detail}"


def outcomes(found: Sequence[Outcome]) -> str:
    lines = []
    for o in found:
        if o.state == "success":
            lines.append(f"Ran experiment {o.name} ({(o.commit or '')[:8]})")
        elif o.state == "failed":
            lines.append(f"Experiment {o.name} failed: {o.error}")
    queued = [o.name for o in found if o.state == "queued"]
    if queued:
        lines.append(f"Queued {', '.join(queued)}; run with 'gitflowml exp run --run-all'")
    return "\n".join(lines)


def run_all_summary(found: Sequence[Outcome]) -> str:
    """The end of `exp run --run-all`: each was told as it ended; this counts them."""
    if not found:
        return "The queue is empty."
    saved = [o.name for o in found if o.state == "success"]
    failed = [o.name for o in found if o.state == "failed"]
    text = f"Ran {len(found)} experiments: {len(saved)} saved"
    if failed:
        text += f", {len(failed)} failed ({', '.join(failed)}; 'gitflowml exp queue logs NAME')"
    return text
