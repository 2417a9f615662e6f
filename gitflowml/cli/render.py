"""Pure formatters: data in, text out. Only the CLI prints what these return."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gitflowml.api import InitResult, StatusReport
from gitflowml.project import DOT_DIR
from gitflowml.repro.events import RunEvent
from gitflowml.storage import pointer
from gitflowml.storage.add import AddReport
from gitflowml.storage.checkout import CheckoutReport

if TYPE_CHECKING:
    from gitflowml.importdvc import ImportReport
    from gitflowml.lineage.log import LogEntry
    from gitflowml.lineage.trace import Node
    from gitflowml.pipeline.plan import Reason
    from gitflowml.remote.needs import TransferReport
    from gitflowml.repro.events import ReproEvent
    from gitflowml.repro.options import ReproReport

UP_TO_DATE = "Pipeline is up to date."
NO_PIPELINE = "No pipeline; data is up to date."


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
        f"Initialised gitflowml in {result.root / DOT_DIR}\n"
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


_REMEDIES = {
    "repro": "\n(use 'gitflowml repro' to bring them up to date)",
    "checkout": "\n(their inputs are those they ran with: use 'gitflowml checkout' to restore the "
    "outputs pipeline.lock records from the cache)",
    "pull": "\n(their inputs are those they ran with: use 'gitflowml pull' to restore the "
    "outputs pipeline.lock records from the remote)",
}


def status(report: StatusReport) -> str:
    frozen = [s.name for s in report.stages if s.frozen]
    if report.clean:
        if not report.pipeline:
            return NO_PIPELINE
        return UP_TO_DATE + (f" (frozen: {', '.join(frozen)})" if frozen else "")
    lines: list[str] = []
    stale = [s for s in report.stages if s.stale]
    if stale:
        lines.append("Stages:")
        for stage in stale:
            lines.append(f"\t{stage.name}:")
            lines.extend(f"\t\t{reason_text(r)}" for r in stage.reasons)
        if frozen:
            lines.append(f"\tfrozen (never run by repro): {', '.join(frozen)}")
        lines.append(_REMEDIES[report.remedy])
    if report.data:
        if lines:
            lines.append("")
        width = max(len(s.change) for s in report.data) + 2
        lines.append("Tracked data:")
        for s in report.data:
            detail = f"  ({s.detail})" if s.detail else ""
            lines.append(f"\t{(s.change + ':').ljust(width)}{s.path}{detail}")
        lines.append(
            "\n(use 'gitflowml add PATH' to record changes, 'gitflowml checkout PATH' to "
            "discard them, 'gitflowml pull' for what is not in the cache)"
        )
    return "\n".join(lines)


def status_json(report: StatusReport) -> str:
    doc: dict[str, list[dict[str, Any]]] = {}
    for stage in report.stages:
        if stage.frozen:
            doc[stage.name] = [{"reason": "frozen"}]
        for reason in stage.reasons:
            row: dict[str, Any] = {"reason": reason.kind}
            if reason.what:
                row["key" if reason.kind == "param" else "path"] = reason.what
            if reason.old is not None or reason.new is not None:
                row["old"], row["new"] = reason.old, reason.new
            doc.setdefault(stage.name, []).append(row)
    for s in report.data:
        data_row: dict[str, Any] = {"reason": s.change, "path": s.path}
        if s.detail:
            data_row["detail"] = s.detail
        doc.setdefault(s.pointer_file, []).append(data_row)
    return json.dumps(doc, indent=2, sort_keys=True, default=str)


def reason_text(reason: Reason) -> str:
    """Why a stage is stale, in words."""
    if reason.kind == "new":
        return "never ran"
    if reason.kind == "always":
        return "always changed"
    if reason.kind == "forced":
        return "forced"
    if reason.kind == "cmd":
        return f"{reason.what} changed" if reason.what else "command changed"
    change = "" if reason.old is None and reason.new is None else f": {reason.old} -> {reason.new}"
    return f"{reason.kind} changed: {reason.what}{change}"


def event(e: ReproEvent) -> str:
    """A line for something a run tells as it goes."""
    if isinstance(e, RunEvent):
        if e.kind == "waiting":
            return f"waiting for another gitflowml command (pid {e.detail}) to finish..."
        if e.kind == "fetched":
            return f"Fetched {e.count} objects from the remote"
        if e.kind == "ignored":
            return (
                f"warning: {e.detail} is a 'cache: false' out, which git should store, but "
                ".gitignore ignores it; remove it from .gitignore, or give it 'cache: true'"
            )
        return f"Starting Dask ({e.detail or f'a local cluster of {e.count} workers'})"
    why = "; ".join(reason_text(r) for r in e.reasons)
    if e.kind == "running":
        return f"Running stage '{e.stage}': {why}"
    if e.kind == "restored" and e.message == "lock":
        return (
            f"Restored the outputs of stage '{e.stage}' from the cache, as pipeline.lock "
            f"records them ({why})"
        )
    if e.kind == "restored":
        return f"Restored stage '{e.stage}' from the run-cache ({why})"
    if e.kind == "up to date":
        return f"Stage '{e.stage}' is up to date"
    if e.kind == "failed":
        return f"Stage '{e.stage}' failed: {e.message}"
    return f"[{e.stage}] {e.message}"


def repro(report: ReproReport) -> str:
    counts: dict[str, list[str]] = {}
    for result in report.results:
        counts.setdefault(result.outcome, []).append(result.name)
    if "would run" in counts:
        return "Would run: " + ", ".join(counts["would run"])
    if not counts.get("ran") and not counts.get("restored"):
        return UP_TO_DATE
    parts = [f"ran {len(counts.get('ran', []))}"]
    parts += [f"{len(v)} {k}" for k, v in counts.items() if k not in ("ran", "failed")]
    return "Pipeline reproduced: " + ", ".join(parts) + "."


def dag(nodes: Sequence[str], edges: Sequence[tuple[str, str]], fmt: str) -> str:
    """The stage graph; `edges` are (upstream, downstream) pairs, `nodes` in run order."""
    if fmt == "json":
        return json.dumps({"nodes": list(nodes), "edges": [list(e) for e in edges]}, indent=2)
    if fmt == "dot":
        body = [f'  "{n}";' for n in nodes] + [f'  "{a}" -> "{b}";' for a, b in edges]
        return "\n".join(["digraph pipeline {", *body, "}"])
    if fmt == "mermaid":
        ids = {n: f"s{i}" for i, n in enumerate(nodes)}
        body = [f'  {ids[n]}["{n}"]' for n in nodes] + [
            f"  {ids[a]} --> {ids[b]}" for a, b in edges
        ]
        return "\n".join(["flowchart TD", *body])
    ups: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        ups[b].append(a)
    width = max((len(n) for n in nodes), default=0) + 2
    lines = [n.ljust(width) + ("<- " + ", ".join(ups[n]) if ups[n] else "") for n in nodes]
    return "\n".join(line.rstrip() for line in lines)


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


# -- lineage -------------------------------------------------------------------------------------
def _when(node: Node) -> str:
    return (node.started or node.date)[:19].replace("T", " ")


def _describe(node: Node) -> str:
    short = node.commit[:8]
    if node.kind == "stage" and not node.recorded:
        return f"stage '{node.stage}', no run record, locked in commit {short} by {node.author}"
    if node.kind == "stage":
        how = "restored from the run-cache" if node.restored else f"ran {node.duration_s:g} s"
        who = node.user or node.author
        env = f", env {node.env}" if node.env else ""
        return f"stage '{node.stage}'{env}, {how}, {_when(node)} by {who}, commit {short}"
    if node.kind == "added":
        return f"added in commit {short} by {node.author}, {_when(node)}"
    if node.kind == "git":
        return f"in git, last changed in commit {short} by {node.author}"
    if node.kind == "code":
        return f"code, last changed in commit {short} by {node.author}" if short else "code"
    return "origin unknown (no run record, pointer or git history)"


def lineage(node: Node) -> str:
    """The tree of how `node` came to be; an input reached again (a dataset two stages
    read) is printed once, and referred back to after that."""
    within = f"  (in {node.within})" if node.within else ""
    lines = [f"{node.path}{within}  [{node.oid[:8]}]  {_describe(node)}"]
    lines += _details(node, "    ")
    _children(node, "", lines, {(node.path, node.oid)})
    return "\n".join(lines)


def _details(node: Node, prefix: str) -> list[str]:
    if node.kind != "stage":
        return []
    out = [f"{prefix}cmd: {node.cmd}"]
    if node.params:
        out.append(f"{prefix}params: " + ", ".join(f"{k}={v}" for k, v in node.params.items()))
    return out


def _children(node: Node, prefix: str, lines: list[str], shown: set[tuple[str, str]]) -> None:
    for i, child in enumerate(node.inputs):
        last = i == len(node.inputs) - 1
        head = f"{prefix}{'└── ' if last else '├── '}{child.path}  {_describe(child)}"
        inner = prefix + ("    " if last else "│   ")
        if child.inputs and (child.path, child.oid) in shown:
            lines.append(f"{head}  (its inputs are shown above)")
            continue
        shown.add((child.path, child.oid))
        lines.append(head)
        lines.extend(_details(child, inner + "    "))
        _children(child, inner, lines, shown)


def lineage_json(node: Node) -> str:
    return json.dumps(node.to_dict(), indent=2, sort_keys=True, default=str)


def log(entries: Sequence[LogEntry]) -> str:
    if not entries:
        return "No run records yet (they are attached to commits by 'gitflowml record')."
    lines = []
    for e in entries:
        rec = e.record
        how = "restored" if rec.restored else f"{rec.duration_s:g} s"
        lines.append(
            f"{e.commit[:8]}  {rec.started[:19].replace('T', ' ')}  {rec.stage}  {how}  "
            f"{rec.user or e.author}"
        )
        if e.metrics:
            lines.append("    " + ", ".join(f"{k}={v}" for k, v in sorted(e.metrics.items())))
    return "\n".join(lines)


def log_json(entries: Sequence[LogEntry]) -> str:
    return json.dumps(
        [
            {
                "commit": e.commit,
                "author": e.author,
                "date": e.date,
                "metrics": e.metrics,
                **e.record.to_dict(),
            }
            for e in entries
        ],
        indent=2,
        sort_keys=True,
        default=str,
    )


# -- metrics, params, data diff ------------------------------------------------------------------
def transfer(report: TransferReport, moved: str, present: str) -> str:
    """`N uploaded, M already present[, K run-cache entries]` (SPEC section 5)."""
    runs = f", {report.runs} run-cache entries" if report.runs else ""
    return f"{report.moved} {moved}, {report.present} {present}{runs}"


def import_report(report: ImportReport) -> list[str]:
    """What `import-dvc` did, a line each, and what to do next."""
    lines = [report.pipeline] if report.pipeline else []
    lines += [f"{path}: DVC caches it, so it is written with cache: true" for path in report.cached]
    lines += [f"restored {path} from DVC's cache or remote" for path in report.restored]
    lines += [f"tracked {path} -> {path}{pointer.SUFFIX}" for path in report.added]
    lines += [f"{path}: converted before" for path in report.unchanged]
    lines += [
        f"{path}: neither in the workspace nor in DVC's cache or remote, not converted"
        for path in report.absent
    ]
    for name, dvc_url, url in report.remotes:
        lines.append(
            f"remote '{name}' converted: {url} (a sub-path of DVC's {dvc_url}, so that "
            f"gitflowml's objects stay apart from DVC's; change it with 'gitflowml remote "
            f"modify {name} url URL')"
        )
    lines += [f"skipped: {what}" for what in report.skipped]
    if report.locked:
        lines.append(f"matches dvc.lock, locked without a rerun: {', '.join(report.locked)}")
    if report.up_to_date:
        lines.append(f"locked before: {', '.join(report.up_to_date)}")
    lines += [f"stale: {name}: {why}" for name, why in report.stale]
    if report.no_lock:
        lines.append("there is no dvc.lock, so every stage is new to 'gitflowml repro'")
    if report.stale or report.no_lock:
        lines.append("run 'gitflowml repro' to bring the stale stages up to date")
    return lines
