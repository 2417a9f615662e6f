"""`gitflowml commit`: record what the workspace holds as if it had been produced properly
(as `dvc commit` does): stages whose outs were edited by hand are locked as they are now,
and tracked data that changed gets its pointer file rewritten (an `add` of it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gitflowml import index
from gitflowml.errors import PipelineError
from gitflowml.project import Project
from gitflowml.repro import accept, judge
from gitflowml.storage import add as add_mod
from gitflowml.storage import status as data_status

# reasons a stage may be recorded for without -f: nothing it reads changed
_OUTS_ONLY = frozenset({"new", "out", "always"})
_WHAT = {"cmd": "command", "dep": "dependencies", "param": "params", "code": "code"}


@dataclass(slots=True)
class CommitReport:
    stages: list[str] = field(default_factory=list)  # locked as they are now
    data: list[str] = field(default_factory=list)  # tracked paths whose pointer was rewritten


def commit(project: Project, targets: Sequence[str], force: bool) -> CommitReport:
    """Targets are stage names and tracked paths (default: everything that differs)."""
    report = CommitReport()
    found = index.load(project)
    stage_targets = [t for t in targets if index.is_stage_target(found[0] if found else None, t)]
    data_targets = [t for t in targets if t not in stage_targets]
    if found is not None and (stage_targets or not targets):
        statuses, _ = judge.status(project, found, stage_targets)
        wanted = set(index.resolve_targets(found[0], stage_targets)) if stage_targets else None
        stale = [
            s for s in statuses if s.stale and not s.frozen and (wanted is None or s.name in wanted)
        ]
        for s in stale:
            changed = sorted({r.kind for r in s.reasons} - _OUTS_ONLY)
            if changed and not force:
                what = ", ".join(_WHAT.get(k, k) for k in changed)
                raise PipelineError(
                    f"stage '{s.name}': its {what} changed since it last ran, so its outs may "
                    f"not be what it makes; 'gitflowml repro {s.name}' runs it, 'gitflowml "
                    "commit -f' records the outs as they are anyway"
                )
        report.stages = accept.accept(project, found, [s.name for s in stale])
    if data_targets or not targets:
        changed_data = [d.path for d in data_status.status(project, data_targets)]
        changed_data = [p for p in dict.fromkeys(changed_data) if project.abspath(p).exists()]
        if changed_data:
            add_mod.add(project, changed_data)
        report.data = changed_data
    return report
