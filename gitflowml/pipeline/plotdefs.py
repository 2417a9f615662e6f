"""The plot definitions of pipeline.yaml (SPEC section 12), as DVC 3 reads them: a stage's
`plots:` outs with their options, and the top-level `plots:` list.

A top-level entry is a path (`- plots/loss.json`), a path with options
(`- plots/roc.csv: {x: fpr, y: tpr}`), or an id whose `y` maps files to fields
(`- Loss: {x: step, y: {train.tsv: loss, test.tsv: [loss, acc]}}`); `x` may map files too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gitflowml.errors import PipelineError

PLOT_KEYS = {"x", "y", "template", "title", "x_label", "y_label"}
_OUT_KEYS = {"cache", "persist", "push", "desc", "remote", "type", "labels", "meta"}


@dataclass(frozen=True, slots=True)
class Source:
    file: str  # a data file, a directory of them, or an image
    x: str | None = None  # None: a `step` counter
    y: tuple[str, ...] = ()  # empty: the last field


@dataclass(frozen=True, slots=True)
class PlotDef:
    id: str
    sources: tuple[Source, ...]
    template: str | None = None
    title: str | None = None
    x_label: str | None = None
    y_label: str | None = None


Fail = Callable[[str], PipelineError]


def _text(props: Mapping[str, Any], key: str, fail: Fail, name: str) -> str | None:
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise fail(f"plot '{name}': '{key}' must be text")
    return str(value)


def _fields(value: Any, fail: Fail, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise fail(f"plot '{name}': 'y' must be a field, a list of fields, or files mapped to them")


def _check(props: Any, fail: Fail, name: str, allowed: set[str]) -> Mapping[str, Any]:
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise fail(f"plot '{name}': its options must be a mapping")
    bad = sorted(set(props) - allowed)
    if bad:
        raise fail(f"plot '{name}': unknown option '{bad[0]}'")
    return props


def parse(name: str, props: Any, fail: Fail, resolve: Callable[[str], str] = str) -> PlotDef:
    """One definition: `name` is a path or an id; `resolve` makes a path relative to the
    repository root (a stage's `wdir`, the pipeline file's folder)."""
    options = _check(props, fail, name, PLOT_KEYS | _OUT_KEYS)
    x, y = options.get("x"), options.get("y")
    if isinstance(y, dict):
        sources = []
        for file, fields in y.items():
            if not isinstance(file, str):
                raise fail(f"plot '{name}': the files of 'y' must be paths")
            fx = x.get(file) if isinstance(x, dict) else x
            if fx is not None and not isinstance(fx, str):
                raise fail(f"plot '{name}': 'x' must be a field, or files mapped to fields")
            sources.append(Source(resolve(file), fx, _fields(fields, fail, name)))
        if not sources:
            raise fail(f"plot '{name}': 'y' names no file")
        found = tuple(sources)
        plot_id = name
    else:
        if x is not None and not isinstance(x, str):
            raise fail(f"plot '{name}': 'x' must be a field when 'y' does not map files")
        found = (Source(resolve(name), x, _fields(y, fail, name)),)
        plot_id = resolve(name)
    return PlotDef(
        plot_id,
        found,
        _text(options, "template", fail, name),
        _text(options, "title", fail, name),
        _text(options, "x_label", fail, name),
        _text(options, "y_label", fail, name),
    )


def parse_top(value: Any, fail: Fail, resolve: Callable[[str], str]) -> tuple[PlotDef, ...]:
    """The top-level `plots:` list."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail("'plots' must be a list of paths or plot definitions")
    out = []
    for entry in value:
        if isinstance(entry, str):
            out.append(parse(entry, None, fail, resolve))
        elif isinstance(entry, dict) and len(entry) == 1:
            ((name, props),) = entry.items()
            out.append(parse(str(name), props, fail, resolve))
        else:
            raise fail("each entry of 'plots' is a path, or one path or id with its options")
    return tuple(out)
