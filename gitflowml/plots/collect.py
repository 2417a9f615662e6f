"""Plot definitions plus the data of each revision: filled Vega-Lite specs and images.

Each point gets `rev` (the revision's label; with several files or fields in one plot,
`rev::file::field` for the parts that vary) and, when the plot has no `x`, a `step`
counter. Series of different length stay apart, each with its own points, so they join
on `x`. A problem (a file missing at a revision, a field not in the data, malformed
data, an unknown template) is one line naming the plot; the rest still renders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitflowml.errors import GitflowmlError
from gitflowml.pipeline.plotdefs import PlotDef, Source
from gitflowml.plots import data as data_mod
from gitflowml.plots import templates
from gitflowml.revision import Revision

STEP, VALUE = "step", "dvc_inferred_y_value"


@dataclass(frozen=True, slots=True)
class Plot:
    id: str
    kind: Literal["vega", "image"]
    revisions: tuple[str, ...]
    spec: dict[str, Any] | None = None  # filled Vega-Lite, for kind "vega"
    images: tuple[tuple[str, str, bytes], ...] = ()  # (rev, path, bytes), for kind "image"


@dataclass(slots=True)
class Collected:
    plots: list[Plot] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line each, naming the plot


def definitions(revisions: Sequence[tuple[str, Revision]]) -> list[PlotDef]:
    """Every plot defined at any of the revisions (the first revision's definition wins)."""
    found: dict[str, PlotDef] = {}
    for _label, revision in revisions:
        loaded = revision.pipeline()
        if loaded is not None:
            for plot in loaded[1].plot_defs:
                found.setdefault(plot.id, plot)
    return list(found.values())


def _chosen(defs: list[PlotDef], targets: Sequence[str]) -> list[PlotDef]:
    if not targets:
        return defs
    wanted = [t.rstrip("/") for t in targets]

    def hit(path: str) -> bool:
        return any(path == t or path.startswith(t + "/") for t in wanted)

    return [d for d in defs if hit(d.id) or any(hit(s.file) for s in d.sources)]


def _expand(defs: list[PlotDef], revisions: Sequence[tuple[str, Revision]]) -> list[PlotDef]:
    """A definition of a directory becomes one plot for each data file or image in it."""
    out: list[PlotDef] = []
    for plot in defs:
        if len(plot.sources) != 1:
            out.append(plot)
            continue
        source = plot.sources[0]
        inside: dict[str, None] = {}
        for _label, revision in revisions:
            for path in revision.listdir(source.file):
                if data_mod.is_data(path) or data_mod.is_image(path):
                    inside.setdefault(path, None)
        if not inside:
            out.append(plot)
            continue
        for path in sorted(inside):
            single = (dataclasses.replace(source, file=path),)
            out.append(dataclasses.replace(plot, id=path, sources=single))
    return out


def collect(
    root: Path, revisions: Sequence[tuple[str, Revision]], targets: Sequence[str] = ()
) -> Collected:
    result = Collected()
    every = definitions(revisions)
    if not every:
        result.errors.append("no plot is defined: add 'plots' to pipeline.yaml (docs/plots.md)")
        return result
    defs = _expand(_chosen(every, targets), revisions)
    if targets and not defs:
        result.errors.append(
            f"no plot matches {', '.join(targets)}; 'plots' in pipeline.yaml defines them"
        )
    files = [s.file for d in defs for s in d.sources]
    for _label, revision in revisions:
        revision.prefetch(files)  # one `cat-file --batch` a revision
    for plot in defs:
        if all(data_mod.is_image(s.file) for s in plot.sources):
            _images(plot, revisions, result)
        else:
            _vega(root, plot, revisions, result)
    return result


def _read(
    plot: PlotDef, path: str, label: str, revision: Revision, errors: list[str]
) -> bytes | None:
    try:
        data = revision.read(path)
    except GitflowmlError as exc:
        errors.append(f"plot '{plot.id}': {path} at {label}: {exc}")
        return None
    if data is None:
        errors.append(f"plot '{plot.id}': {path} does not exist at {label}")
    return data


def _images(plot: PlotDef, revisions: Sequence[tuple[str, Revision]], result: Collected) -> None:
    found = []
    for source in plot.sources:
        for label, revision in revisions:
            data = _read(plot, source.file, label, revision, result.errors)
            if data is not None:
                found.append((label, source.file, data))
    if found:
        labels = tuple(dict.fromkeys(rev for rev, _p, _d in found))
        result.plots.append(Plot(plot.id, "image", labels, images=tuple(found)))


def _series(plot: PlotDef) -> list[tuple[Source, str | None]]:
    """(source, y field or None for the last one) of each series."""
    return [(s, y) for s in plot.sources for y in (s.y or (None,))]


def _vega(
    root: Path, plot: PlotDef, revisions: Sequence[tuple[str, Revision]], result: Collected
) -> None:
    series = _series(plot)
    many_files = len({s.file for s, _y in series}) > 1
    many_fields = len({y for _s, y in series}) > 1
    values: list[dict[str, Any]] = []
    x_name = y_name = None
    labels: list[str] = []
    for label, revision in revisions:
        for source, y in series:
            data = _read(plot, source.file, label, revision, result.errors)
            if data is None:
                continue
            parts = [label, *([source.file] if many_files else [])]
            late = many_fields and y is None  # its field is known once the file is read
            rev = "::".join([*parts, *([y] if many_fields and y else [])])
            try:
                table = data_mod.records(
                    source.file, data, None if late else rev, None if source.x else STEP
                )
            except data_mod.DataError as exc:
                result.errors.append(f"plot '{plot.id}': {source.file} at {label} {exc}")
                continue
            got = _check(plot, source, y, table, label, result.errors)
            if got is None:
                continue
            x_field, y_field = got
            if late:
                for point in table.rows:
                    point["rev"] = "::".join([*parts, y_field])
            if many_files or many_fields:  # one y field for every series
                for point in table.rows:
                    point[VALUE] = point.get(y_field)
            values += table.rows
            x_name = x_name or x_field
            y_name = y_name or y_field
            labels.append(label)
    if x_name is None or y_name is None:
        return  # nothing to draw: every series failed, and each said why
    single = len(series) == 1
    try:
        template = templates.text(root, plot.template)
    except templates.TemplateError as exc:
        result.errors.append(f"plot '{plot.id}': {exc}")
        return
    spec = templates.fill(
        template,
        values,
        x_name,
        y_name if single else VALUE,
        plot.title or plot.id,
        plot.x_label,
        plot.y_label or (None if single else "value"),
    )
    result.plots.append(Plot(plot.id, "vega", tuple(dict.fromkeys(labels)), spec=spec))


def _check(
    plot: PlotDef,
    source: Source,
    y: str | None,
    table: data_mod.Table,
    label: str,
    errors: list[str],
) -> tuple[str, str] | None:
    """(x field, y field) of a series, or None (and why, in `errors`)."""
    for wanted in (source.x, y):
        if wanted is not None and table.rows and wanted not in table.fields:
            shown = ", ".join(table.fields[:8])
            errors.append(
                f"plot '{plot.id}': no field '{wanted}' in {source.file} at {label} "
                f"(it has {shown})"
            )
            return None
    others = [n for n in table.fields if n != source.x]
    y_field = y or (others[-1] if others else None)
    if y_field is None:
        errors.append(f"plot '{plot.id}': {source.file} at {label} holds no field to plot")
        return None
    return source.x or STEP, y_field
