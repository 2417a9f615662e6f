"""`exp show`'s columns and order: pure functions over rows."""

from __future__ import annotations

from typing import Any

import pytest

from gitflowml.errors import ExperimentError
from gitflowml.exps import select
from gitflowml.exps.table import Row


def _row(name: str, baseline: str | None, params: dict[str, Any], metrics: dict[str, Any]) -> Row:
    return Row(name, name[:7], baseline, "2026-01-01T00:00:00Z", "success", params, metrics, {})


ROWS = [
    _row("main", None, {"params.yaml": {"lr": 0.1, "seed": 1}}, {"m.json": {"acc": 0.5}}),
    _row("a", "b" * 40, {"params.yaml": {"lr": 0.2, "seed": 1}}, {"m.json": {"acc": 0.7}}),
    _row("b", "b" * 40, {"params.yaml": {"lr": 0.3, "seed": 1}}, {"m.json": {"acc": 0.6}}),
    _row("c", "b" * 40, {"params.yaml": {"lr": 0.05, "seed": 1}}, {}),
    _row("other", None, {"params.yaml": {"lr": 0.1, "seed": 1}}, {"m.json": {"acc": 0.1}}),
    _row("d", "c" * 40, {"params.yaml": {"lr": 0.9, "seed": 1}, "o.yaml": {"lr": 1}}, {}),
]


def _names(columns: list[select.Column]) -> list[str]:
    return [c.full for c in columns]


def test_columns_metrics_first_then_params_in_first_seen_order() -> None:
    assert _names(select.columns(ROWS)) == [
        "m.json:acc",
        "params.yaml:lr",
        "params.yaml:seed",
        "o.yaml:lr",
    ]
    every = select.columns(ROWS)
    assert [select.label(c, every) for c in every] == ["acc", "params.yaml:lr", "seed", "o.yaml:lr"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, ["m.json:acc", "params.yaml:lr", "params.yaml:seed", "o.yaml:lr"]),
        ({"only_changed": True}, ["m.json:acc", "params.yaml:lr", "o.yaml:lr"]),
        ({"drop": "lr"}, ["m.json:acc", "params.yaml:seed"]),
        ({"drop": "^params.yaml:"}, ["m.json:acc", "o.yaml:lr"]),
        (
            {"only_changed": True, "keep": "seed"},
            ["m.json:acc", "params.yaml:lr", "params.yaml:seed", "o.yaml:lr"],
        ),
        ({"drop": ".", "keep": "acc"}, ["m.json:acc"]),
        ({"tracked": [("params.yaml", "seed")]}, ["m.json:acc", "params.yaml:seed"]),
        ({"tracked": [("params.yaml", "")]}, ["m.json:acc", "params.yaml:lr", "params.yaml:seed"]),
    ],
)
def test_choose_priority_only_changed_drop_keep(
    kwargs: dict[str, Any], expected: list[str]
) -> None:
    assert _names(select.choose(ROWS, **kwargs)) == expected


def test_keep_columns_filters_every_row() -> None:
    chosen = select.choose(ROWS, drop="seed")
    kept = select.keep_columns(ROWS, chosen)
    assert kept[0].params == {"params.yaml": {"lr": 0.1}}
    assert select.keep_columns(ROWS, select.columns(ROWS)) == ROWS


def test_sort_within_each_baseline_missing_last() -> None:
    ordered = select.sort(ROWS, "acc")
    assert [r.name for r in ordered] == ["main", "b", "a", "c", "other", "d"]
    ordered = select.sort(ROWS, "acc", descending=True)
    assert [r.name for r in ordered] == ["main", "a", "b", "c", "other", "d"]
    ordered = select.sort(ROWS, "params.yaml:lr")
    assert [r.name for r in ordered] == ["main", "c", "a", "b", "other", "d"]


def test_sort_by_an_unknown_or_ambiguous_column_is_an_error() -> None:
    with pytest.raises(ExperimentError, match="no such param or metric"):
        select.sort(ROWS, "nope")
    ambiguous = r"ambiguous; name one of o\.yaml:lr, params\.yaml:lr"
    with pytest.raises(ExperimentError, match=ambiguous):
        select.sort(ROWS, "lr")


def test_values_of_mixed_types_sort_numbers_first() -> None:
    rows = [
        _row("main", None, {}, {}),
        _row("x", "b" * 40, {"p": {"v": "text"}}, {}),
        _row("y", "b" * 40, {"p": {"v": 2}}, {}),
        _row("z", "b" * 40, {"p": {"v": None}}, {}),
    ]
    assert [r.name for r in select.sort(rows, "v")] == ["main", "y", "x", "z"]
