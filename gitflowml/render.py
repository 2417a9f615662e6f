"""Pure formatters: data in, text out. Only the CLI prints what these return."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gitflowml.api import InitResult, StatusReport
from gitflowml.cache import AddReport
from gitflowml.checkout import CheckoutReport

UP_TO_DATE = "Pipeline is up to date."


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def init(result: InitResult) -> str:
    if not result.created:
        return f"gitflowml is already set up in {result.root}"
    return (
        f"Initialised gitflowml in {result.root / '.gitflowml'}\n"
        "Commit it with:\n\n\tgit add .gitflowml && git commit -m 'Set up gitflowml'"
    )


def add(report: AddReport) -> str:
    lines = []
    for r in report.results:
        what = f"{r.nfiles} files, " if r.nfiles is not None else ""
        verb = "added" if r.changed else "unchanged"
        lines.append(f"{verb} {r.path} ({what}{human_size(r.size)}) -> {r.pointer_file}")
    to_git = sorted(
        {r.pointer_file for r in report.results if r.changed}
        | {r.gitignore for r in report.results if r.gitignore}
    )
    if to_git:
        lines.append("\nTo track the changes with git, run:\n\n\tgit add " + " ".join(to_git))
    return "\n".join(lines)


def status(report: StatusReport) -> str:
    if report.clean:
        return UP_TO_DATE
    width = max(len(s.change) for s in report.data) + 2
    lines = ["Tracked data:"]
    for s in report.data:
        detail = f"  ({s.detail})" if s.detail else ""
        lines.append(f"\t{(s.change + ':').ljust(width)}{s.path}{detail}")
    lines.append(
        "\n(use 'gitflowml add PATH' to record changes, 'gitflowml checkout PATH' to discard"
        " them, 'gitflowml pull' for what is not in the cache)"
    )
    return "\n".join(lines)


def status_json(report: StatusReport) -> str:
    doc: dict[str, list[dict[str, str]]] = {}
    for s in report.data:
        row = {"reason": s.change, "path": s.path}
        if s.detail:
            row["detail"] = s.detail
        doc.setdefault(s.pointer_file, []).append(row)
    return json.dumps(doc, indent=2, sort_keys=True)


def checkout(report: CheckoutReport) -> str:
    lines = [f"restored {t}" for t in report.restored]
    if not lines:
        return (
            "Nothing to check out: the workspace matches."
            if report.unchanged
            else ("Nothing is tracked yet; track data with 'gitflowml add PATH'.")
        )
    counts = f"{report.files_written} file(s) written"
    if report.files_removed:
        counts += f", {report.files_removed} removed"
    return "\n".join([*lines, counts])


def joined(parts: Sequence[str]) -> str:
    return "\n".join(p for p in parts if p)
