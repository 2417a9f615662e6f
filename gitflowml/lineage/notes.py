"""Owns the notes under `refs/notes/gitflowml`: `record(rev)` attaches the pending records
whose outs match `rev`'s pipeline.lock to `rev` as a note; `history` reads every note
reachable from a revision in a few git calls, newest first, for `log` and `lineage`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gitflowml import scm
from gitflowml.errors import PipelineError
from gitflowml.lineage.record import RunRecord, parse_lines
from gitflowml.lineage.store import pending, settle_pending
from gitflowml.pipeline import lockfile

NOTES_REF = "refs/notes/gitflowml"


@dataclass
class RecordResult:
    commit: str = ""
    attached: list[RunRecord] = field(default_factory=list)
    still_pending: int = 0


def record(root: Path, dot_dir: Path, rev: str = "HEAD") -> RecordResult:
    """Attach the pending records whose outs match `rev`'s pipeline.lock to `rev`."""
    commit = scm.rev_parse(root, rev)
    if commit is None:
        raise PipelineError(f"'{rev}' is not a commit of this repository")
    result = RecordResult(commit=commit)
    files = scm.files_at(root, [commit], lambda p: p == lockfile.LOCK_FILE)
    lock = lockfile.loads(files[0][2].decode(), f"{rev}:pipeline.lock") if files else None
    waiting = pending(dot_dir)
    if lock is None:
        result.still_pending = len(waiting)
        return result
    existing = scm.note_text(root, NOTES_REF, commit) or ""
    lines = [line for line in existing.splitlines() if line.strip()]
    present = set(lines)
    attach: list[tuple[Path, RunRecord]] = []
    for path, rec in waiting:
        entry = lock.stages.get(rec.stage)
        if entry is not None and {e.path: e.oid for e in entry.outs} == dict(rec.outs):
            attach.append((path, rec))
    for _path, rec in attach:
        if rec.line() not in present:
            lines.append(rec.line())
            present.add(rec.line())
            result.attached.append(rec)
    if result.attached:
        scm.note_write(root, NOTES_REF, commit, "\n".join(sorted(lines)) + "\n")
    done = {rec.line() for _path, rec in attach}
    busy = {path for path in {p for p, _rec in attach} if not settle_pending(path, done)}
    # records in a file a running repro still writes are attached, and stay pending too
    result.still_pending = len(waiting) - sum(1 for p, _rec in attach if p not in busy)
    return result


@dataclass(frozen=True)
class Attached:
    """A record with the commit it is attached to."""

    record: RunRecord
    commit: str
    author: str
    date: str  # ISO-8601, the commit's


def history(root: Path, rev: str = "HEAD") -> list[Attached]:
    """Every record attached to `rev` or its ancestors, newest commit first."""
    commits = scm.rev_list(root, rev)
    if not commits:
        return []
    noted = scm.notes_of(root, NOTES_REF, set(commits))
    if not noted:
        return []
    info = scm.commit_info(root, list(noted))
    out: list[Attached] = []
    for commit in commits:
        text = noted.get(commit)
        if text is None:
            continue
        author, date = info.get(commit, ("", ""))
        recs = sorted(parse_lines(text), key=lambda r: r.started, reverse=True)
        out.extend(Attached(r, commit, author, date) for r in recs)
    return out


def index_by_out(attached: Iterable[Attached]) -> dict[tuple[str, str], Attached]:
    """(out path, hash) -> the newest record that produced it."""
    found: dict[tuple[str, str], Attached] = {}
    for item in attached:
        for path, oid in item.record.outs.items():
            found.setdefault((path, oid), item)
    return found
