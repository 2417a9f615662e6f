from __future__ import annotations

from typing import Any

import pytest

from gitflowml.pipeline.templating import (
    TemplateError,
    expand_foreach,
    expand_matrix,
    interpolate,
    resolve,
)

CTX: dict[str, Any] = {
    "train": {"lr": 0.1, "epochs": 10, "layers": [{"size": 64}, {"size": 32}], "fast": True},
    "name": "model",
    "files": ["a.csv", "b.csv"],
    "nothing": None,
}


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("name", "model"),
        ("train.lr", 0.1),
        (" train.epochs ", 10),
        ("train.layers[1].size", 32),
        ("files[0]", "a.csv"),
        ("train", CTX["train"]),
    ],
)
def test_resolve(expr: str, value: Any) -> None:
    assert resolve(expr, CTX) == value


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("missing", "undefined variable 'missing'"),
        ("train.momentum", "'train' has no key 'momentum'"),
        ("files[5]", "'files' has no item [5]"),
        ("train.layers[0].depth", "'train.layers[0]' has no key 'depth'"),
        ("", "empty"),
        ("a b", "cannot parse"),
    ],
)
def test_resolve_errors_name_the_variable(expr: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("[", r"\[").replace("]", r"\]")):
        resolve(expr, CTX)


@pytest.mark.parametrize(
    ("template", "result"),
    [
        ("${train.lr}", 0.1),  # alone: keeps its type
        ("${train.layers}", [{"size": 64}, {"size": 32}]),
        ("lr=${train.lr} epochs=${train.epochs}", "lr=0.1 epochs=10"),
        ("--fast=${train.fast}", "--fast=true"),
        (r"echo \${HOME} ${name}", "echo ${HOME} model"),
        (r"\${name}", "${name}"),
        ("no templates", "no templates"),
        (
            ["${name}.pkl", {"${name}.json": {"cache": False}}],
            ["model.pkl", {"model.json": {"cache": False}}],
        ),
        (3, 3),
    ],
)
def test_interpolate(template: Any, result: Any) -> None:
    assert interpolate(template, CTX) == result


@pytest.mark.parametrize(
    ("template", "message"),
    [("x ${train}", "is a dict"), ("x ${files}", "is a list"), ("x ${nothing}", "is null")],
)
def test_non_scalars_cannot_go_into_strings(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        interpolate(template, CTX)


def test_foreach_over_a_list() -> None:
    stages = dict(expand_foreach("eval", ["train", "test"], {"cmd": "eval ${item}"}, CTX))
    assert stages == {"eval@train": {"cmd": "eval train"}, "eval@test": {"cmd": "eval test"}}


def test_foreach_over_a_list_of_mappings_uses_indexes() -> None:
    items = [{"n": 1}, {"n": 2}]
    stages = dict(expand_foreach("s", items, {"cmd": "run ${item.n}"}, CTX))
    assert stages == {"s@0": {"cmd": "run 1"}, "s@1": {"cmd": "run 2"}}


def test_foreach_over_a_dict_and_a_variable() -> None:
    do = {"cmd": "fit ${key} ${item.lr}"}
    stages = dict(expand_foreach("fit", {"us": {"lr": 1}, "eu": {"lr": 2}}, do, CTX))
    assert stages == {"fit@us": {"cmd": "fit us 1"}, "fit@eu": {"cmd": "fit eu 2"}}
    from_var = dict(expand_foreach("cp", "${files}", {"cmd": "cp ${item} out/"}, CTX))
    assert list(from_var) == ["cp@a.csv", "cp@b.csv"]


@pytest.mark.parametrize(
    ("foreach", "do", "message"),
    [
        (5, {"cmd": "x"}, "must be a list, a mapping"),
        (["a"], "cmd", "'do' must be a mapping"),
        (["a", "a"], {"cmd": "x"}, "two stages the name 's@a'"),
    ],
)
def test_foreach_errors(foreach: Any, do: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        list(expand_foreach("s", foreach, do, CTX))


def test_matrix() -> None:
    body = {"cmd": "sweep ${item.lr} ${item.depth}", "outs": ["s/${item.lr}-${item.depth}.json"]}
    stages = dict(expand_matrix("sweep", {"lr": [0.1, 0.01], "depth": [3, 5]}, body, CTX))
    assert list(stages) == ["sweep@0.1-3", "sweep@0.1-5", "sweep@0.01-3", "sweep@0.01-5"]
    assert stages["sweep@0.01-5"] == {"cmd": "sweep 0.01 5", "outs": ["s/0.01-5.json"]}


@pytest.mark.parametrize(
    ("matrix", "message"),
    [({}, "non-empty mapping"), ([1], "non-empty mapping"), ({"lr": []}, "'lr' must be")],
)
def test_matrix_errors(matrix: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        list(expand_matrix("s", matrix, {"cmd": "x"}, CTX))


def test_dotted_indexes_read_list_items() -> None:
    assert resolve("files.1", CTX) == "b.csv"
    assert resolve("train.layers.0.size", CTX) == 64
