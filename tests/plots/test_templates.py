"""Templates: DVC's names and anchors, filled into Vega-Lite specs; custom ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitflowml.plots import templates

VALUES = [{"step": 0, "loss": 1.0, "rev": "HEAD"}, {"step": 1, "loss": 0.5, "rev": "HEAD"}]


def test_every_builtin_is_named_as_dvc_names_them() -> None:
    assert list(templates.BUILTIN) == [
        "simple",
        "linear",
        "scatter",
        "smooth",
        "confusion",
        "confusion_normalized",
        "bar_horizontal",
        "bar_horizontal_sorted",
    ]


@pytest.mark.parametrize("name", list(templates.BUILTIN))
def test_a_filled_builtin_has_no_anchor_left(name: str, tmp_path: Path) -> None:
    spec = templates.fill(templates.text(tmp_path, name), VALUES, "step", "loss", "Loss")
    text = json.dumps(spec)
    assert "<DVC_METRIC" not in text
    assert spec["data"] == {"values": VALUES}
    assert spec["title"] == "Loss"
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_simple_filled_exactly(tmp_path: Path) -> None:
    spec = templates.fill(
        templates.text(tmp_path, "simple"), VALUES, "step", "loss", "T", "Epoch", None
    )
    assert spec == {
        "$schema": templates.SCHEMA,
        "data": {"values": VALUES},
        "title": "T",
        "width": 300,
        "height": 300,
        "mark": {"type": "line"},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "Epoch"},
            "y": {"field": "loss", "type": "quantitative", "title": "loss"},
            "color": {"field": "rev", "type": "nominal"},
        },
    }


def test_linear_zooms_and_confusion_counts(tmp_path: Path) -> None:
    linear = templates.fill(templates.text(tmp_path, "linear"), VALUES, "step", "loss")
    assert linear["layer"][0]["params"] == [
        {"name": "grid", "select": "interval", "bind": "scales"}
    ]
    confusion = templates.fill(templates.text(tmp_path, "confusion_normalized"), [], "a", "p")
    assert confusion["facet"] == {"column": {"field": "rev", "type": "nominal", "title": None}}
    assert confusion["spec"]["transform"][0]["groupby"] == ["rev", "a", "p"]
    assert confusion["spec"]["layer"][1]["encoding"]["text"]["field"] == "percent_of_y"
    bars = templates.fill(templates.text(tmp_path, "bar_horizontal_sorted"), [], "v", "name")
    assert bars["encoding"]["y"]["sort"] == "-x"


def test_a_dvc_custom_template_works_unchanged(tmp_path: Path) -> None:
    custom = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": "<DVC_METRIC_DATA>"},
        "title": "<DVC_METRIC_TITLE>",
        "mark": "bar",
        "encoding": {
            "x": {"field": "<DVC_METRIC_X>", "title": '<DVC_METRIC_X_LABEL> ("quoted")'},
            "y": {"field": "<DVC_METRIC_Y>", "title": "<DVC_METRIC_Y_LABEL>"},
        },
    }
    (tmp_path / ".dvc/plots").mkdir(parents=True)
    (tmp_path / ".dvc/plots/mine.json").write_text(json.dumps(custom))
    (tmp_path / ".gitflowml/plots").mkdir(parents=True)
    (tmp_path / ".gitflowml/plots/simple.json").write_text(json.dumps(custom))  # overrides
    assert templates.names(tmp_path)[-1] == "mine"
    spec = templates.fill(templates.text(tmp_path, "mine"), VALUES, "step", "loss", 'a "t"')
    assert spec["encoding"]["x"] == {"field": "step", "title": 'step ("quoted")'}
    assert spec["title"] == 'a "t"'
    assert templates.fill(templates.text(tmp_path, "simple"), VALUES, "s", "l")["mark"] == "bar"


def test_unknown_or_broken_templates(tmp_path: Path) -> None:
    with pytest.raises(templates.TemplateError, match="unknown template 'nope' \\(known: simple"):
        templates.text(tmp_path, "nope")
    (tmp_path / ".gitflowml/plots").mkdir(parents=True)
    (tmp_path / ".gitflowml/plots/bad.json").write_text("{")
    with pytest.raises(templates.TemplateError, match="is not valid JSON"):
        templates.text(tmp_path, "bad")
    (tmp_path / "t.json").write_text(json.dumps(templates.BUILTIN["scatter"]))
    assert json.loads(templates.text(tmp_path, "t.json"))["mark"]["type"] == "point"
