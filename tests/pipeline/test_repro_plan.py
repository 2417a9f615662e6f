from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml.cli import render
from gitflowml.pipeline import plan
from gitflowml.pipeline.loader import Out, ParamRef, Pipeline, Stage
from gitflowml.pipeline.lockfile import Entry, StageLock
from gitflowml.pipeline.plan import MISSING, Observed, Reason

A, B, C = "a" * 32, "b" * 32, "c" * 32

STAGE = Stage(
    name="train",
    line=1,
    cmd=("python train.py",),
    deps=("data.csv",),
    params=(ParamRef("params.yaml", ("train.lr", "model")),),
    outs=(Out("model.pkl"),),
)
LOCKED = StageLock(
    cmd=("python train.py",),
    deps=(Entry("data.csv", A),),
    params=(("params.yaml", (("train.lr", 0.1), ("model", {"depth": 3}))),),
    outs=(Entry("model.pkl", B),),
)
PARAMS = {"train": {"lr": 0.1, "unused": 1}, "model": {"depth": 3}}
NOW = Observed(
    paths={"data.csv": Entry("data.csv", A), "model.pkl": Entry("model.pkl", B)},
    params={"params.yaml": PARAMS},
)


def _with(**changes: object) -> Observed:
    paths = dict(NOW.paths)
    paths.update(changes.get("paths", {}))  # type: ignore[call-overload]
    return Observed(paths=paths, params=changes.get("params", NOW.params))  # type: ignore[arg-type]


def test_up_to_date() -> None:
    assert plan.reasons(STAGE, LOCKED, NOW) == ()


def test_never_ran() -> None:
    assert plan.reasons(STAGE, None, NOW) == (Reason("new"),)


def _stage(**changes: object) -> Stage:
    from dataclasses import replace

    return replace(STAGE, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "now", "expected"),
    [
        (
            _stage(cmd=("python train.py --fast",)),
            NOW,
            [Reason("cmd", "cmd", "python train.py", "python train.py --fast")],
        ),
        (
            _stage(cmd=None, python="train.py:main"),
            NOW,
            [Reason("cmd", "python", "python train.py", "train.py:main")],
        ),
        (
            STAGE,
            _with(paths={"data.csv": Entry("data.csv", C)}),
            [Reason("dep", "data.csv", "aaaaaaaa", "cccccccc")],
        ),
        (STAGE, _with(paths={"data.csv": None}), [Reason("dep", "data.csv", "present", MISSING)]),
        (
            _stage(deps=("data.csv", "extra.csv")),
            NOW,
            [Reason("dep", "extra.csv", MISSING, "added")],
        ),
        (_stage(deps=()), NOW, [Reason("dep", "data.csv", "listed", "removed")]),
        (
            STAGE,
            _with(params={"params.yaml": {**PARAMS, "train": {"lr": 0.2}}}),
            [Reason("param", "params.yaml:train.lr", 0.1, 0.2)],
        ),
        (
            STAGE,
            _with(params={"params.yaml": {**PARAMS, "model": {"depth": 4}}}),
            [Reason("param", "params.yaml:model.depth", 3, 4)],
        ),
        (
            STAGE,
            _with(params={"params.yaml": {**PARAMS, "model": 5}}),
            [Reason("param", "params.yaml:model", {"depth": 3}, 5)],
        ),
        (
            STAGE,
            _with(params={"params.yaml": {**PARAMS, "train": {"lr": 0.1, "unused": 2}}}),
            [],
        ),  # a key the stage does not list
        (
            STAGE,
            _with(params={"params.yaml": None}),
            [
                Reason("param", "params.yaml:train.lr", 0.1, MISSING),
                Reason("param", "params.yaml:model", {"depth": 3}, MISSING),
            ],
        ),
        (
            STAGE,
            _with(params={"params.yaml": {**PARAMS, "train": {"lr": True}}}),
            [Reason("param", "params.yaml:train.lr", 0.1, True)],
        ),
        (
            STAGE,
            _with(paths={"model.pkl": None}),
            [Reason("out", "model.pkl", "present", "missing")],
        ),
        (
            STAGE,
            _with(paths={"model.pkl": Entry("model.pkl", C)}),
            [Reason("out", "model.pkl", "bbbbbbbb", "cccccccc")],
        ),
        (_stage(always_changed=True), NOW, [Reason("always")]),
        (_stage(frozen=True, cmd=("changed",)), _with(paths={"model.pkl": None}), []),
    ],
)
def test_each_reason(stage: Stage, now: Observed, expected: list[Reason]) -> None:
    assert list(plan.reasons(stage, LOCKED, now)) == expected


def test_args_and_whole_file_params() -> None:
    stage = _stage(
        cmd=None, python="t.py:main", args=(("lr", 0.2),), params=(ParamRef("conf.json", None),)
    )
    locked = StageLock(
        python="t.py:main",
        args=(("lr", 0.1),),
        deps=LOCKED.deps,
        params=(("conf.json", (("a.b", 1), ("c", 2))),),
        outs=LOCKED.outs,
    )
    now = _with(params={"conf.json": {"a": {"b": 1}, "c": 3, "d": 4}})
    assert list(plan.reasons(stage, locked, now)) == [
        Reason("cmd", "args", {"lr": 0.1}, {"lr": 0.2}),
        Reason("param", "conf.json:c", 2, 3),
        Reason("param", "conf.json:d", MISSING, 4),
    ]
    assert plan.param_values(stage, now) == (("conf.json", (("a.b", 1), ("c", 3), ("d", 4))),)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (Reason("new"), "never ran"),
        (Reason("always"), "always changed"),
        (Reason("cmd", "cmd", "a", "b"), "cmd changed"),
        (
            Reason("dep", "d.csv", "aaaaaaaa", "cccccccc"),
            "dep changed: d.csv: aaaaaaaa -> cccccccc",
        ),
        (Reason("param", "p.yaml:lr", 0.1, 0.2), "param changed: p.yaml:lr: 0.1 -> 0.2"),
    ],
)
def test_reasons_are_worded(reason: Reason, text: str) -> None:
    assert render.reason_text(reason) == text


def test_status_of_a_pipeline() -> None:
    other = Stage(name="frozen", line=5, cmd=("x",), frozen=True)
    pipeline = Pipeline(Path("pipeline.yaml"), {"train": STAGE, "frozen": other}, {})
    from gitflowml.pipeline.lockfile import Lock

    result = plan.status(pipeline, Lock({"train": LOCKED}), _with(paths={"model.pkl": None}))
    assert [(s.name, s.stale, s.frozen) for s in result] == [
        ("train", True, False),
        ("frozen", False, True),
    ]
