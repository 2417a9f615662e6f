"""The API of plots: show (the workspace), diff (revisions and experiments), templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflowml.api.base import _project
from gitflowml.project import Project

OUT_DIR = "gitflowml_plots"


@dataclass(slots=True)
class PlotsReport:
    written: list[Path] = field(default_factory=list)  # files written (none with as_json)
    errors: list[str] = field(default_factory=list)  # one line a problem, naming the plot
    doc: dict[str, Any] | None = None  # with as_json: DVC's shape
    ids: list[str] = field(default_factory=list)  # the plots rendered


def plots_diff(
    revs: Sequence[str | None] = (),
    *,
    targets: Sequence[str] = (),
    exps: Sequence[str] = (),
    out: str | Path | None = None,
    fmt: str = "html",
    as_json: bool = False,
    html_template: str | Path | None = None,
    project: Project | None = None,
) -> PlotsReport:
    """The plots with the data of each revision (None: the workspace) and experiment
    overlaid, read without checkout; default HEAD against the workspace. Writes
    `out/index.html` (or a file a plot with `fmt` svg or png); with `as_json` only
    returns DVC's JSON shape (images are still written, for their urls)."""
    from gitflowml.plots import collect, output
    from gitflowml.revision import Revision

    proj = _project(project)
    wanted: list[str | None] = list(revs) + list(exps)
    if not wanted:
        wanted = ["HEAD", None]
    revisions = []
    for rev in dict.fromkeys(wanted):
        revision = Revision(proj, rev)
        revisions.append((revision.label, revision))
    collected = collect.collect(proj.root, revisions, targets)
    report = PlotsReport(errors=list(collected.errors), ids=[p.id for p in collected.plots])
    where = Path(out) if out is not None else proj.root / OUT_DIR
    cache = proj.dot_dir / "tmp" / "plots"
    if as_json:
        images = {}
        for plot in collected.plots:
            for rev, path, data in plot.images:
                target = where / output.file_name(f"{rev}_{path}", "")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                images[(rev, path)] = target
        report.doc = output.as_json(collected, images)
        return report
    template = Path(html_template).read_text(encoding="utf-8") if html_template else None
    report.written = output.write(collected, where, fmt, cache, template)
    return report


def plots_show(
    targets: Sequence[str] = (),
    *,
    out: str | Path | None = None,
    fmt: str = "html",
    as_json: bool = False,
    html_template: str | Path | None = None,
    project: Project | None = None,
) -> PlotsReport:
    """Every plot of the workspace (or those `targets` name)."""
    return plots_diff(
        [None],
        targets=targets,
        out=out,
        fmt=fmt,
        as_json=as_json,
        html_template=html_template,
        project=project,
    )


def plots_templates(name: str | None = None, *, project: Project | None = None) -> list[str] | str:
    """The template names, or the JSON text of one (to start a custom template from)."""
    from gitflowml.plots import templates

    root = _project(project).root
    if name is None:
        return templates.names(root)
    try:
        return templates.text(root, name)
    except templates.TemplateError as exc:
        from gitflowml.errors import PlotError

        raise PlotError(str(exc)) from None
