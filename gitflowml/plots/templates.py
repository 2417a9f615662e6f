"""Vega-Lite templates with DVC's names, meaning and anchors, written for gitflowml, and
custom templates (`.gitflowml/plots/NAME.json`, or `.dvc/plots/NAME.json` in a migrated
repository) that use the same anchors, so a DVC user's templates work unchanged.

Filling a template replaces its anchors in the JSON text, as DVC does: `"<DVC_METRIC_DATA>"`
(with its quotes) by the records, `"<DVC_METRIC_COLOR>"` by the colour encoding,
`"<DVC_METRIC_PLOT_WIDTH>"`/`HEIGHT` by numbers, `"<DVC_METRIC_ZOOM_AND_PAN>"` by a zoom
parameter, and `<DVC_METRIC_X>`, `<DVC_METRIC_Y>`, `<DVC_METRIC_TITLE>`,
`<DVC_METRIC_X_LABEL>`, `<DVC_METRIC_Y_LABEL>` inside strings by their text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
DATA, COLOR = "<DVC_METRIC_DATA>", "<DVC_METRIC_COLOR>"
X, Y, TITLE = "<DVC_METRIC_X>", "<DVC_METRIC_Y>", "<DVC_METRIC_TITLE>"
X_LABEL, Y_LABEL = "<DVC_METRIC_X_LABEL>", "<DVC_METRIC_Y_LABEL>"
WIDTH, HEIGHT, ZOOM = (
    "<DVC_METRIC_PLOT_WIDTH>",
    "<DVC_METRIC_PLOT_HEIGHT>",
    "<DVC_METRIC_ZOOM_AND_PAN>",
)
DEFAULT = "linear"
CUSTOM_DIRS = (".gitflowml/plots", ".dvc/plots")


class TemplateError(ValueError):
    """An unknown or unreadable template."""


def _quant(field: str, title: str) -> dict[str, Any]:
    return {"field": field, "type": "quantitative", "title": title}


def _base(**body: Any) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "data": {"values": DATA},
        "title": TITLE,
        "width": WIDTH,
        "height": HEIGHT,
        **body,
    }


_TOOLTIP = [{"field": "rev", "type": "nominal"}, _quant(X, X_LABEL), _quant(Y, Y_LABEL)]
_XY = {"x": _quant(X, X_LABEL), "y": _quant(Y, Y_LABEL), "color": COLOR}


def _confusion(normalized: bool) -> dict[str, Any]:
    count = [{"aggregate": [{"op": "count", "as": "xy_count"}], "groupby": ["rev", X, Y]}]
    value = "xy_count"
    if normalized:
        count += [
            {"joinaggregate": [{"op": "sum", "field": "xy_count", "as": "sum_y"}],
             "groupby": ["rev", Y]},
            {"calculate": "datum.xy_count / datum.sum_y", "as": "percent_of_y"},
        ]  # fmt: skip
        value = "percent_of_y"
    cell = {
        "x": {"field": X, "type": "nominal", "title": X_LABEL},
        "y": {"field": Y, "type": "nominal", "title": Y_LABEL},
    }
    return {
        "$schema": SCHEMA,
        "data": {"values": DATA},
        "title": TITLE,
        "facet": {"column": {"field": "rev", "type": "nominal", "title": None}},
        "spec": {
            "width": WIDTH,
            "height": HEIGHT,
            "transform": count,
            "layer": [
                {"mark": "rect", "encoding": {**cell, "color": _quant(value, value)}},
                {
                    "mark": "text",
                    "encoding": {
                        **cell,
                        "text": {"field": value, "type": "quantitative",
                                 "format": ".2f" if normalized else "d"},
                    },
                },
            ],
        },
    }  # fmt: skip


def _bar(sorted_: bool) -> dict[str, Any]:
    y: dict[str, Any] = {"field": Y, "type": "nominal", "title": Y_LABEL}
    if sorted_:
        y["sort"] = "-x"
    return _base(
        mark={"type": "bar", "tooltip": True},
        encoding={"x": _quant(X, X_LABEL), "y": y, "yOffset": {"field": "rev"}, "color": COLOR},
    )


BUILTIN: dict[str, dict[str, Any]] = {
    "simple": _base(mark={"type": "line"}, encoding=_XY),
    "linear": _base(
        layer=[
            {"mark": {"type": "line"}, "params": [ZOOM], "encoding": _XY},
            {
                "mark": {"type": "point", "filled": True, "size": 20},
                "encoding": {**_XY, "tooltip": _TOOLTIP},
            },
        ]
    ),
    "scatter": _base(
        mark={"type": "point", "tooltip": True}, encoding={**_XY, "tooltip": _TOOLTIP}
    ),
    "smooth": _base(
        layer=[
            {"mark": {"type": "point", "opacity": 0.3}, "encoding": _XY},
            {
                "mark": {"type": "line"},
                "transform": [{"loess": Y, "on": X, "groupby": ["rev"], "bandwidth": 0.3}],
                "encoding": _XY,
            },
        ]
    ),
    "confusion": _confusion(False),
    "confusion_normalized": _confusion(True),
    "bar_horizontal": _bar(False),
    "bar_horizontal_sorted": _bar(True),
}


def names(root: Path) -> list[str]:
    """Built-in templates, then the custom ones found in the repository."""
    custom = sorted(
        {p.stem for d in CUSTOM_DIRS if (root / d).is_dir() for p in (root / d).glob("*.json")}
        - set(BUILTIN)
    )
    return [*BUILTIN, *custom]


def text(root: Path, name: str | None) -> str:
    """The template's JSON text: a custom one of that name first (it may override a
    built-in, as in DVC), then a built-in, then a path to a JSON file."""
    chosen = name or DEFAULT
    for folder in CUSTOM_DIRS:
        path = root / folder / f"{chosen}.json"
        if path.is_file():
            return _read(path, chosen)
    if chosen in BUILTIN:
        return json.dumps(BUILTIN[chosen], indent=2)
    path = root / chosen
    if chosen.endswith(".json") and path.is_file():
        return _read(path, chosen)
    known = ", ".join(names(root))
    raise TemplateError(f"unknown template '{chosen}' (known: {known})")


def _read(path: Path, name: str) -> str:
    try:
        content = path.read_text(encoding="utf-8")
        json.loads(content.replace(f'"{DATA}"', "[]"))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"template '{name}' ({path}) is not valid JSON: {exc}") from None
    return content


def fill(
    template: str,
    values: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    title: str = "",
    x_label: str | None = None,
    y_label: str | None = None,
    color: str = "rev",
) -> dict[str, Any]:
    """The template with its anchors replaced: a Vega-Lite spec."""

    def inside(value: str) -> str:
        return json.dumps(value)[1:-1]  # escaped for a JSON string, without its quotes

    out = template
    out = out.replace(f'"{WIDTH}"', "300").replace(f'"{HEIGHT}"', "300")
    out = out.replace(f'"{COLOR}"', json.dumps({"field": color, "type": "nominal"}))
    zoom = {"name": "grid", "select": "interval", "bind": "scales"}
    out = out.replace(f'"{ZOOM}"', json.dumps(zoom))
    for anchor, value in (
        (X_LABEL, x_label or x),
        (Y_LABEL, y_label or y),
        (TITLE, title),
        (X, x),
        (Y, y),
    ):
        out = out.replace(anchor, inside(value))
    out = out.replace(f'"{DATA}"', json.dumps(_SLOT))
    spec: dict[str, Any] = _put(json.loads(out), list(values))  # data is never parsed again
    return spec


_SLOT = "\x00gitflowml-data\x00"


def _put(node: Any, values: list[Any]) -> Any:
    if isinstance(node, dict):
        return {k: _put(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_put(v, values) for v in node]
    return values if node == _SLOT else node
