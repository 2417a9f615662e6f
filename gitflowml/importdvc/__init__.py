"""`import-dvc`: turn a DVC project into a gitflowml one, in place, without a rerun.

- `dvc.yaml` becomes `pipeline.yaml`: the same stages, with DVC's default for `metrics`
  and `plots` (cached) made explicit (`cache: true`). An existing pipeline.yaml is kept.
- Each stage is checked against `dvc.lock` with DVC's md5 of the workspace; one that
  matches is locked in `pipeline.lock` as it is (its outs go into gitflowml's cache), so
  `status` says up to date and `repro` runs nothing. An out that is missing is restored
  from `.dvc/cache` or DVC's remote by its md5. A stage that does not match stays stale,
  with the reason.
- Each `*.dvc` file becomes a `*.gfml` pointer; data missing from the workspace is
  restored from DVC's cache or remote the same way.
- `.dvc/config` remotes (and `core.remote`) become gitflowml remotes, at a sub-path of
  DVC's URL (see `remotes.py`); credentials go to `.gitflowml/config.local.yaml`.

`dvc.yaml`, `dvc.lock`, `.dvc/` and DVC's remote are read, never changed: DVC keeps
working beside gitflowml until they are removed. Running it again converts only what is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitflowml import index, scm
from gitflowml.errors import PipelineError
from gitflowml.importdvc import pipeline as dvc_pipeline
from gitflowml.importdvc import remotes as dvc_remotes
from gitflowml.importdvc import stages as dvc_stages
from gitflowml.pipeline.model import PIPELINE_FILE
from gitflowml.project import Project
from gitflowml.repro import accept, judge
from gitflowml.storage import add, dvc, pointer
from gitflowml.util import fsutil


@dataclass
class ImportReport:
    pipeline: str = ""  # what happened to dvc.yaml ("": there is none)
    cached: list[str] = field(default_factory=list)  # metrics/plots given cache: true
    locked: list[str] = field(default_factory=list)  # stages matching dvc.lock, now locked
    up_to_date: list[str] = field(default_factory=list)  # locked by an earlier import
    stale: list[tuple[str, str]] = field(default_factory=list)  # stage, why
    no_lock: bool = False  # dvc.yaml without dvc.lock
    restored: list[str] = field(default_factory=list)  # written from DVC's cache or remote
    added: list[str] = field(default_factory=list)  # data paths now tracked by .gfml
    unchanged: list[str] = field(default_factory=list)  # converted before
    absent: list[str] = field(default_factory=list)  # .dvc data found nowhere
    remotes: list[tuple[str, str, str]] = field(default_factory=list)  # name, DVC's url, ours
    skipped: list[str] = field(default_factory=list)  # what could not be converted, and why


def import_dvc(project: Project) -> ImportReport:
    report = ImportReport()
    known = dvc.read_remotes(project.root)
    converted, skipped = dvc_remotes.convert(project, known)
    by_name = {r.name: r for r in known}
    report.remotes = [
        (n, by_name[n].url, dvc_remotes.gitflowml_url(by_name[n].url)) for n in converted
    ]
    report.skipped.extend(skipped)

    def readers() -> list[dvc.Reader]:
        from gitflowml.remote import dvcread  # the remote layer: only when data is missing

        return dvcread.readers(project.root, known)

    _pointers(project, report, readers)
    _pipeline(project, report, readers)
    return report


def _pipeline(project: Project, report: ImportReport, readers: dvc_stages.Readers) -> None:
    root = project.root
    dvc_yaml, target = root / dvc.DVC_YAML, root / PIPELINE_FILE
    if not dvc_yaml.exists():
        return
    if target.exists():
        report.pipeline = f"{PIPELINE_FILE} exists already; {dvc.DVC_YAML} left as it is"
    else:
        try:
            text, report.cached = dvc_pipeline.convert(dvc_yaml.read_text(encoding="utf-8"))
        except dvc.DvcFormatError as exc:
            raise PipelineError(str(exc)) from None
        fsutil.atomic_write_text(target, text)
        report.pipeline = f"{dvc.DVC_YAML} converted to {PIPELINE_FILE}"
    found = index.load(project)
    assert found is not None
    lock_file = root / dvc.DVC_LOCK
    if not lock_file.exists():
        report.no_lock = not index.load_lock(project).stages
        return
    try:
        locked = dvc.load_lock(lock_file.read_text(encoding="utf-8"))
    except dvc.DvcFormatError as exc:
        raise PipelineError(f"{exc}; fix it with DVC, or delete it to rerun every stage") from None
    lock = index.load_lock(project)
    statuses, _ = judge.status(project, found)
    done = {s.name for s in statuses if not s.stale and s.name in lock.stages}
    checked = dvc_stages.check(root, found, locked, done, readers)
    report.up_to_date = [n for n in found[1].order() if n in done]
    report.stale = checked.stale
    report.restored.extend(checked.restored)
    report.locked = accept.accept(project, found, checked.matching)


def _pointers(project: Project, report: ImportReport, readers: dvc_stages.Readers) -> None:
    to_add = []
    opened: list[dvc.Reader] | None = None
    for rel in scm.files_matching(project.root, dvc.SUFFIX):
        try:
            outs = dvc.load_pointer((project.root / rel).read_text(encoding="utf-8"), rel)
        except (dvc.DvcFormatError, OSError) as exc:
            report.skipped.append(f"{rel}: not a readable .dvc file ({exc})")
            continue
        for out in outs:
            target = out.path
            if (project.root / (target + pointer.SUFFIX)).exists():
                report.unchanged.append(target)
                continue
            if not (project.root / target).exists():
                opened = readers() if opened is None else opened
                if not dvc.restore(project.root, out, opened):
                    report.absent.append(target)
                    continue
                report.restored.append(target)
            to_add.append(target)
    if to_add:
        add.add(project, to_add, refuse=lambda rels: index.refuse_stage_outs(project, rels))
        report.added.extend(to_add)
